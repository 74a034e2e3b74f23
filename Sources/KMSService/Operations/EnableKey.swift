import KMSStorage

extension KeyManagementService {
    /// Sets a `Disabled` (or already `Enabled`) key to `Enabled`.
    public func enableKey(keyID: String, _ context: RequestContext) async throws(KMSError) {
        try await setEnabledState(.enabled, keyID: keyID, context, action: "kms:EnableKey")
    }

    /// EnableKey and DisableKey: moves an `Enabled` or `Disabled` key to `state` (nothing to
    /// commit when it is there already); any other state is `KMSInvalidStateException`.
    func setEnabledState(_ state: KeyState, keyID: String, _ context: RequestContext, action: String) async throws(KMSError) {
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            try requireNotPendingDeletion(key)
            guard key.state == .enabled || key.state == .disabled else {
                throw KMSError.invalidState("\(key.arn) is \(key.state.rawValue).")
            }
            guard key.state != state else { return ([], ()) }
            var updated = key
            updated.state = state
            return ([.updateKey(updated)], ())
        }
    }
}
