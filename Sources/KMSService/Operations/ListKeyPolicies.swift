import KMSStorage

extension KeyManagementService {
    /// The names of the key's policies: always `["default"]`.
    public func listKeyPolicies(keyID: String, _ context: RequestContext) async throws(KMSError) -> [String] {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: "kms:ListKeyPolicies")
        try await authorize(context, AccessRequest("kms:ListKeyPolicies"), key: key)
        return ["default"]
    }
}
