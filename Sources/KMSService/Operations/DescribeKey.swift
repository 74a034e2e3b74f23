import KMSStorage
extension KeyManagementService {
    /// The key's metadata, in any key state. Accepts alias names and ARNs.
    public func describeKey(keyID: String, _ context: RequestContext) async throws(KMSError) -> KMSKey {
        let key = try await resolveKey(keyID, context, allowAlias: true, action: "kms:DescribeKey", crossAccount: true)
        try await authorize(context, AccessRequest("kms:DescribeKey", keyReference: keyID), key: key)
        return key
    }
}
