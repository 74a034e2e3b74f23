import KMSService

extension OperationHandler {
    struct GetKeyPolicyRequest: Decodable {
        var keyId: String
        var policyName: String?
    }

    struct GetKeyPolicyResponse: Encodable {
        var policy: String
        var policyName: String
    }

    static let getKeyPolicy = OperationHandler { (r: GetKeyPolicyRequest, service, context) throws(KMSError) in
        GetKeyPolicyResponse(policy: try await service.getKeyPolicy(keyID: r.keyId, policyName: r.policyName, context), policyName: "default")
    }

    struct PutKeyPolicyRequest: Decodable {
        var keyId: String
        var policyName: String?
        var policy: String
        var bypassPolicyLockoutSafetyCheck: Bool?
    }

    static let putKeyPolicy = OperationHandler { (r: PutKeyPolicyRequest, service, context) throws(KMSError) in
        try await service.putKeyPolicy(
            keyID: r.keyId, policyName: r.policyName, policy: r.policy,
            bypassPolicyLockoutSafetyCheck: r.bypassPolicyLockoutSafetyCheck, context)
        return NoOutput()
    }

    struct ListKeyPoliciesRequest: Decodable {
        var keyId: String
        var limit: Int?
        var marker: String?
    }

    struct ListKeyPoliciesResponse: Encodable {
        var policyNames: [String]
        var truncated: Bool
    }

    static let listKeyPolicies = OperationHandler { (r: ListKeyPoliciesRequest, service, context) throws(KMSError) in
        return ListKeyPoliciesResponse(policyNames: try await service.listKeyPolicies(keyID: r.keyId, context), truncated: false)
    }
}
