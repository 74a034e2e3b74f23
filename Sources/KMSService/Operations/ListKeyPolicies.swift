import KMSStorage

extension KeyManagementService {
    /// The names of the key's policies: always `["default"]`.
    public func listKeyPolicies(keyID: String, _ context: RequestContext) async throws(KMSError) -> [String] {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .listKeyPolicies)
        try await authorize(context, AccessRequest(.listKeyPolicies), key: key)
        return ["default"]
    }
}
