import KMSStorage

extension KeyManagementService {
    /// Sets an `Enabled` (or already `Disabled`) key to `Disabled`: it can no longer be used
    /// in cryptographic operations.
    public func disableKey(keyID: String, _ context: RequestContext) async throws(KMSError) {
        try await setEnabledState(.disabled, keyID: keyID, context, action: "kms:DisableKey")
    }
}
