import KMSStorage
extension KeyManagementService {
    /// Sets an `Enabled` (or already `Disabled`) key to `Disabled`: it can no longer be used
    /// in cryptographic operations.
    public func disableKey(keyID: String, _ context: RequestContext) async throws(KMSError) {
        let action = "kms:DisableKey"
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try Authorization.authorize(context, action: action, key: key)
            guard key.state == .enabled || key.state == .disabled else {
                throw KMSError.invalidState("\(key.arn) is \(key.state == .pendingDeletion ? "pending deletion" : key.state.rawValue).")
            }
            guard key.state == .enabled else { return ([], ()) }
            var updated = key
            updated.state = .disabled
            return ([.updateKey(updated)], ())
        }
    }
}
