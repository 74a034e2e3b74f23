import KMSStorage

extension KeyManagementService {
    /// Sets a `Disabled` (or already `Enabled`) key to `Enabled`.
    public func enableKey(keyID: String, _ context: RequestContext) async throws(KMSError) {
        try await setEnabledState(.enable, keyID: keyID, context, action: .enableKey)
    }
}
