import KMSStorage

extension KeyManagementService {
    /// Sets an `Enabled` (or already `Disabled`) key to `Disabled`: it can no longer be used
    /// in cryptographic operations.
    public func disableKey(keyID: String, _ context: RequestContext) async throws(KMSError) {
        try await setEnabledState(.disable, keyID: keyID, context, action: .disableKey)
    }
}
