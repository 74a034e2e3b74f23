import Foundation
import KMSStorage

extension KeyManagementService {
    /// One grantee (`granteePrincipal` or `granteeServicePrincipal`) and at most one retiring
    /// principal, as the members of the request name them.
    public struct CreateGrantInput: Sendable {
        public var keyID: String
        public var granteePrincipal: String?
        public var granteeServicePrincipal: String?
        public var retiringPrincipal: String?
        public var retiringServicePrincipal: String?
        public var operations: [GrantOperation]
        public var constraints: GrantConstraints?
        public var name: String?
        public var dryRun: Bool?

        public init(
            keyID: String, granteePrincipal: String? = nil, granteeServicePrincipal: String? = nil, retiringPrincipal: String? = nil,
            retiringServicePrincipal: String? = nil, operations: [GrantOperation], constraints: GrantConstraints? = nil,
            name: String? = nil, dryRun: Bool? = nil
        ) {
            self.keyID = keyID
            self.granteePrincipal = granteePrincipal
            self.granteeServicePrincipal = granteeServicePrincipal
            self.retiringPrincipal = retiringPrincipal
            self.retiringServicePrincipal = retiringServicePrincipal
            self.operations = operations
            self.constraints = constraints
            self.name = name
            self.dryRun = dryRun
        }
    }

    /// Creates a grant on an enabled key (of this account or, by key ARN, another) and returns
    /// its ID and token. With a `name` and otherwise identical parameters to an existing grant,
    /// returns that grant again (AWS's idempotency).
    ///
    /// A grant to a service principal (`GranteeServicePrincipal`) must name its resource (a
    /// SourceArn constraint) and who may retire it, as AWS requires.
    public func createGrant(_ input: CreateGrantInput, _ context: RequestContext) async throws(KMSError) -> (grantID: String, grantToken: String) {
        guard !input.operations.isEmpty else { throw KMSError.validation("A grant must allow at least one operation.") }
        guard let grantee = try Self.oneOf(input.granteePrincipal, input.granteeServicePrincipal, "Grantee") else {
            throw KMSError.validation("You must specify either GranteePrincipal or GranteeServicePrincipal.")
        }
        let retiring = try Self.oneOf(input.retiringPrincipal, input.retiringServicePrincipal, "Retiring")
        if !grantee.isService { try await requireGrantPrincipal(grantee.name, member: "GranteePrincipal") }
        if let retiring, !retiring.isService { try await requireGrantPrincipal(retiring.name, member: "RetiringPrincipal") }
        let constraints = input.constraints.flatMap { $0.isEmpty ? nil : $0 }
        if grantee.isService {
            guard constraints?.sourceArn != nil else {
                throw KMSError.validation("A grant to a GranteeServicePrincipal must include a SourceArn grant constraint.")
            }
            guard retiring != nil else {
                throw KMSError.validation("A grant to a GranteeServicePrincipal must specify either RetiringPrincipal or RetiringServicePrincipal.")
            }
        }
        if let constraints {
            for pairs in [constraints.encryptionContextEquals, constraints.encryptionContextSubset].compactMap({ $0 }) {
                guard pairs.count <= 8, pairs.values.allSatisfy({ $0.count <= 384 }) else {
                    throw KMSError.validation("A grant constraint holds at most 8 encryption context pairs, each value at most 384 characters.")
                }
            }
        }

        let key = try await resolveKey(input.keyID, context, allowAlias: false, action: .createGrant, crossAccount: true)
        var access = AccessRequest(
            .createGrant,
            conditions: [
                "kms:GrantOperations": input.operations.map(\.rawValue),
                "kms:GrantIsForAWSResource": [context.principal.kind == .service ? "true" : "false"],
            ])
        if let principal = input.granteePrincipal { access.conditions["kms:GranteePrincipal"] = [principal] }
        if let service = input.granteeServicePrincipal { access.conditions["kms:GranteeServicePrincipal"] = [service] }
        if let principal = input.retiringPrincipal { access.conditions["kms:RetiringPrincipal"] = [principal] }
        if let service = input.retiringServicePrincipal { access.conditions["kms:RetiringServicePrincipal"] = [service] }
        if let constraints {
            access.conditions["kms:GrantConstraintType"] = constraints.types
            if let source = constraints.sourceArn { access.conditions["kms:GrantConstraintSourceArn"] = [source] }
        }
        access.newGrant = (input.operations, constraints)
        try await authorize(context, access, key: key)
        try KeyLifecycle.check(access.action, on: key)
        if let unsupported = input.operations.first(where: { !$0.isSupported(by: key) }) {
            throw KMSError.validation(
                "Grant operation \(unsupported.rawValue) is not supported by \(key.arn) (\(key.spec.rawValue), \(key.usage.rawValue)).")
        }
        if constraints?.constrainsEncryptionContext == true, key.spec != .symmetricDefault {
            throw KMSError.validation("Encryption context grant constraints are supported only with symmetric encryption KMS keys.")
        }

        let existing = try await store.grants(keyID: key.id, region: key.region)
        if let name = input.name,
            let same = existing.first(where: {
                $0.name == name && $0.granteePrincipal == grantee.name && $0.granteeIsServicePrincipal == grantee.isService
                    && $0.retiringPrincipal == retiring?.name && $0.retiringIsServicePrincipal == (retiring?.isService ?? false)
                    && Set($0.operations) == Set(input.operations) && $0.constraints == constraints
            })
        {
            try finishDryRun(input.dryRun)
            return (same.id, Self.grantToken(for: same))
        }
        guard existing.count < quotas.grantsPerKey else {
            throw KMSError(.limitExceeded, "\(key.arn) already has \(quotas.grantsPerKey) grants.")
        }
        try finishDryRun(input.dryRun)
        let grant = Grant(
            id: Hex.encode(SecureRandom.bytes(32)), keyID: key.id, keyARN: key.arn, name: input.name,
            granteePrincipal: grantee.name, retiringPrincipal: retiring?.name, operations: input.operations,
            constraints: constraints, issuingAccount: Principal.root(account: context.account).arn, creationDate: clock.now(),
            granteeIsServicePrincipal: grantee.isService, retiringIsServicePrincipal: retiring?.isService ?? false)
        context.audit.setResponseElements(["grantId": .string(grant.id), "keyId": .string(key.arn)])
        do {
            try await store.commit([.insertGrant(grant)], recording: context)
        } catch {
            // The key was deleted meanwhile (its grants go with it), or the store failed.
            guard try await store.key(id: key.id, region: key.region) != nil else { throw KMSError.keyNotFound(key.arn) }
            throw error
        }
        return (grant.id, Self.grantToken(for: grant))
    }

    /// A grantee or retiring principal: the ARN of an account root, user, role or assumed role
    /// (users and roles of accounts served here must exist), or a service principal.
    func requireGrantPrincipal(_ text: String, member: String) async throws(KMSError) {
        if text.hasSuffix(".amazonaws.com"), !text.contains(":") { return }
        guard PrincipalSet.awsPrincipalARN(text) != nil, text.hasPrefix("arn:") else {
            throw KMSError(.invalidArn, "\(member) \(text) is not a valid principal ARN.")
        }
        if let principal = Self.principal(namedBy: text),
            !(try await store.hasPrincipal(principal))
        {
            throw KMSError.validation("\(member) \(text) does not exist.")
        }
    }
}
