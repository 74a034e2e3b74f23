import KMSStorage

extension KeyManagementService {
    /// Replaces the key policy. The policy is validated (`MalformedPolicyDocumentException`) and,
    /// unless `bypassPolicyLockoutSafetyCheck`, must let the caller call PutKeyPolicy again.
    public func putKeyPolicy(
        keyID: String, policyName: String?, policy: String, bypassPolicyLockoutSafetyCheck: Bool?, _ context: RequestContext
    ) async throws(KMSError) {
        let action = KMSAction.putKeyPolicy
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(
                context,
                AccessRequest(
                    action,
                    conditions: [
                        "kms:BypassPolicyLockoutSafetyCheck": [bypassPolicyLockoutSafetyCheck == true ? "true" : "false"]
                    ]), key: key)
            try Self.requireDefaultPolicyName(policyName)
            var updated = key
            updated.policy = try await checkedPolicy(policy, for: key, context, bypassLockoutCheck: bypassPolicyLockoutSafetyCheck == true)
            return ([.updateKey(updated)], ())
        }
    }

    /// A key has one policy, named `default`.
    static func requireDefaultPolicyName(_ name: String?) throws(KMSError) {
        guard name == nil || name == "default" else { throw KMSError.notFound("No such policy exists") }
    }

    /// Validates a key policy for `key` and returns it as given: it must parse (`PolicyDocument`),
    /// fit the size quota, name only principals that exist (an account root always does), and
    /// pass the lockout safety check unless bypassed.
    func checkedPolicy(_ text: String, for key: KMSKey, _ context: RequestContext, bypassLockoutCheck: Bool) async throws(KMSError) -> String {
        guard text.utf8.count <= quotas.keyPolicySize else {
            throw KMSError(.limitExceeded, "The key policy is larger than \(quotas.keyPolicySize) bytes.")
        }
        let document = try PolicyDocument.parse(text, as: .keyPolicy)
        for arn in Set(document.statements.flatMap { $0.principal?.aws ?? [] }) {
            guard let principal = Self.principal(namedBy: arn) else { continue }
            guard try await store.hasPrincipal(principal) else {
                throw KMSError(.malformedPolicyDocument, "Policy contains a statement with one or more invalid principals.")
            }
        }
        if !bypassLockoutCheck {
            var candidate = key
            candidate.policy = text
            let future = AccessRequest(.putKeyPolicy, conditions: ["kms:BypassPolicyLockoutSafetyCheck": ["false"]])
            guard case .allowed = try await policyVerdict(context, future, key: candidate, keyPolicy: document) else {
                throw KMSError(.malformedPolicyDocument, "The new key policy will not allow you to update the key policy in the future.")
            }
        }
        return text
    }

    /// The user or role an ARN in a policy names (an STS assumed-role session names its role);
    /// nil for an account root.
    static func principal(namedBy arn: String) -> Principal? {
        Principal(arn: arn).flatMap { $0.isRoot ? nil : $0 }
    }
}
