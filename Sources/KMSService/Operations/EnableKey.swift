import KMSStorage

extension KeyManagementService {
    /// Sets a `Disabled` (or already `Enabled`) key to `Enabled`.
    public func enableKey(keyID: String, _ context: RequestContext) async throws(KMSError) {
        try await setEnabledState(.enable, keyID: keyID, context, action: .enableKey)
    }

    /// EnableKey and DisableKey: moves an `Enabled` or `Disabled` key to `state` (nothing to
    /// commit when it is there already); any other state is `KMSInvalidStateException`.
    func setEnabledState(_ event: KeyLifecycle.Event, keyID: String, _ context: RequestContext, action: KMSAction) async throws(KMSError) {
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            let state = try KeyLifecycle.state(after: event, of: key)
            guard key.state != state else { return ([], ()) }
            var updated = key
            updated.state = state
            return ([.updateKey(updated)], ())
        }
    }
}
