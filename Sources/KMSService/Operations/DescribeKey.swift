import KMSStorage
extension KeyManagementService {
    /// The key's metadata, in any key state. Accepts alias names and ARNs.
    public func describeKey(keyID: String, _ context: RequestContext) async throws(KMSError) -> KMSKey {
        let key = try await resolveKey(keyID, context, allowAlias: true, action: "kms:DescribeKey")
        try Authorization.authorize(context, action: "kms:DescribeKey", key: key)
        return key
    }
}
