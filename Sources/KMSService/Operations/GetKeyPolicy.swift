import KMSStorage

extension KeyManagementService {
    /// The key policy (`default`, the only one a key has), in any key state.
    public func getKeyPolicy(keyID: String, policyName: String?, _ context: RequestContext) async throws(KMSError) -> String {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .getKeyPolicy)
        try await authorize(context, AccessRequest(.getKeyPolicy), key: key)
        try Self.requireDefaultPolicyName(policyName)
        return key.policy
    }
}
