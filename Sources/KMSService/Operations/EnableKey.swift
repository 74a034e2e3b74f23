import KMSStorage
extension KeyManagementService {
    /// Sets a `Disabled` (or already `Enabled`) key to `Enabled`.
    public func enableKey(keyID: String, _ context: RequestContext) async throws(KMSError) {
        let action = "kms:EnableKey"
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try Authorization.authorize(context, action: action, key: key)
            guard key.state == .enabled || key.state == .disabled else {
                throw KMSError.invalidState("\(key.arn) is \(key.state == .pendingDeletion ? "pending deletion" : key.state.rawValue).")
            }
            guard key.state == .disabled else { return ([], ()) }
            var updated = key
            updated.state = .enabled
            return ([.updateKey(updated)], ())
        }
    }
}
