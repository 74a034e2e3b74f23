import KMSStorage

extension KeyManagementService {
    /// The key's metadata, in any key state. Accepts alias names and ARNs.
    public func describeKey(keyID: String, _ context: RequestContext) async throws(KMSError) -> KMSKey {
        let key = try await resolveKey(keyID, context, allowAlias: true, action: .describeKey, crossAccount: true)
        try await authorize(context, AccessRequest(.describeKey, keyReference: keyID), key: key)
        return key
    }
}
