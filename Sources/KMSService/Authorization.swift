import Foundation
import KMSStorage

/// What an operation tells authorization about its request, beyond the caller and the key.
struct AccessRequest: Sendable {
    /// `kms:Encrypt`, …
    var action: KMSAction
    /// The `KeyId` text the request named the key with (gives `kms:RequestAlias`).
    var keyReference: String?
    /// The encryption context of a cryptographic request on a symmetric key: grant
    /// constraints and `kms:EncryptionContext:*` / `kms:EncryptionContextKeys` read it.
    var encryptionContext: EncryptionContext?
    /// Operation-specific condition keys (`kms:EncryptionAlgorithm`, `kms:GrantOperations`, …).
    var conditions: [String: [String]] = [:]
    /// For CreateGrant: the grant asked for. A grant allowing CreateGrant allows only grants
    /// with a subset of its operations and constraints at least as strict as its own.
    var newGrant: (operations: [GrantOperation], constraints: GrantConstraints?)?

    init(_ action: KMSAction, keyReference: String? = nil, encryptionContext: EncryptionContext? = nil, conditions: [String: [String]] = [:]) {
        self.action = action
        self.keyReference = keyReference
        self.encryptionContext = encryptionContext
        self.conditions = conditions
    }

    /// The grant operation the action is, if grants can allow it.
    var grantOperation: GrantOperation? { action.grantOperation }
}

/// Decides requests the way AWS KMS does. The request's grant tokens (`RequestContext.grantTokens`)
/// must each be one of ours (else `InvalidGrantTokenException`); grants are effective as soon as
/// CreateGrant returns, so a token adds no permission of its own.
///
///
/// 1. An explicit `Deny` in the key policy or in one of the caller's identity policies wins.
/// 2. Otherwise the key policy allowing the caller allows the request; for a caller in
///    another account its identity policies must allow it too (an account root's implicitly do).
/// 3. Otherwise the key policy allowing the caller's account (`arn:aws:iam::ACCOUNT:root`)
///    hands the decision to the caller's identity policies.
/// 4. Otherwise a grant on the key for the caller (or for its account, with an identity policy
///    allowing the action) whose operations include the action and whose constraints hold.
///
/// Actions on no key (`kms:CreateKey`, `kms:ListKeys`, …) are decided by identity policies
/// alone; an account root may do them all.
extension KeyManagementService {
    func authorize(_ context: RequestContext, _ request: AccessRequest, key: KMSKey) async throws(KMSError) {
        context.audit.noteKey(key)
        try throttle?.admitCryptographic(action: request.action, key: key, account: context.account)
        try Self.checkGrantTokens(context.grantTokens)
        // A service principal stands for an AWS service within the account it is registered in:
        // policies' `Service` elements and grants naming it match it on that account's keys only.
        if context.principal.kind == .service, key.account != context.account {
            throw Self.denied(context, request.action, key.arn, .noResourcePolicy)
        }
        switch try await policyVerdict(context, request, key: key, keyPolicy: try storedPolicy(of: key)) {
        case .allowed: return
        case .denied(let reason, let identityAllowsCaller):
            if reason != .explicitDenyInResourcePolicy, reason != .explicitDenyInIdentityPolicy,
                try await grantAllows(context, request, key: key, identityAllows: identityAllowsCaller)
            {
                return
            }
            throw Self.denied(context, request.action, key.arn, reason)
        }
    }

    enum PolicyVerdict {
        case allowed
        /// Why policies refuse, and whether the caller's identity policies allow the action
        /// (which a grant to the caller's account needs).
        case denied(DenialReason, identityAllowsCaller: Bool)
    }

    /// What the key policy (given, so that a candidate policy can be asked) and the caller's
    /// identity policies say of a request, grants aside (rules 1–3 above).
    func policyVerdict(
        _ context: RequestContext, _ request: AccessRequest, key: KMSKey, keyPolicy: PolicyDocument
    ) async throws(KMSError) -> PolicyVerdict {
        let identity = try await identity(of: context.principal)
        let referenced = keyPolicy.referencedKeys.union(identity.policies.flatMap(\.referencedKeys))
        let values = try await conditionValues(context, request, key: key, identity: identity, referenced: referenced)
        let question = AuthorizationRequest(principal: context.principal, action: request.action.rawValue, resource: key.arn, conditionValues: values)

        let resource = keyPolicy.evaluate(question)
        let fromIdentity = identity.evaluate(question)
        if resource.explicitDeny { return .denied(.explicitDenyInResourcePolicy, identityAllowsCaller: false) }
        if fromIdentity.explicitDeny { return .denied(.explicitDenyInIdentityPolicy, identityAllowsCaller: false) }
        let identityAllows = context.principal.kind == .root || context.principal.kind == .service || fromIdentity.allowsCaller
        if resource.allowsCaller, context.account == key.account || identityAllows { return .allowed }
        if resource.allowsCallersAccount, identityAllows { return .allowed }
        let reason: DenialReason = resource.allowsCaller || resource.allowsCallersAccount ? .noIdentityPolicy : .noResourcePolicy
        return .denied(reason, identityAllowsCaller: fromIdentity.allowsCaller)
    }

    /// Authorizes an action on no particular key (resource `*`), or on a resource that has no
    /// policy of its own (an alias of the caller's account, by its ARN): identity policies
    /// decide, and an account root may do anything in its account.
    func authorizeAccountAction(_ context: RequestContext, _ request: AccessRequest, resource: String = "*") async throws(KMSError) {
        try Self.checkGrantTokens(context.grantTokens)
        if context.principal.kind == .root { return }
        let identity = try await identity(of: context.principal)
        let values = try await conditionValues(
            context, request, key: nil, identity: identity,
            referenced: Set(identity.policies.flatMap(\.referencedKeys)))
        let decision = identity.evaluate(
            AuthorizationRequest(principal: context.principal, action: request.action.rawValue, resource: resource, conditionValues: values))
        if decision.explicitDeny { throw Self.denied(context, request.action, resource, .explicitDenyInIdentityPolicy) }
        guard decision.allowsCaller else { throw Self.denied(context, request.action, resource, .noIdentityPolicy) }
    }

    /// Authorizes an alias operation as AWS does: on the alias (its ARN, by identity policies:
    /// an alias has no policy of its own) and on every key it involves (CreateAlias and
    /// DeleteAlias the key it points to, UpdateAlias the current and the new target), so that
    /// nobody can move another's alias onto a key of their own and read what others encrypt
    /// "with" it.
    func authorizeAlias(_ context: RequestContext, _ action: KMSAction, alias name: String, keys: [KMSKey]) async throws(KMSError) {
        let request = AccessRequest(action, conditions: ["kms:RequestAlias": [name]])
        try await authorizeAccountAction(
            context, request, resource: ResourceName.aliasARN(region: context.region, account: context.account, aliasName: name))
        for key in keys {
            try await authorize(context, request, key: key)
        }
    }

    /// Whether the caller may perform `action` on the key, without throwing the denial.
    func isAuthorized(_ context: RequestContext, _ request: AccessRequest, key: KMSKey) async throws(KMSError) -> Bool {
        do {
            try await authorize(context, request, key: key)
            return true
        } catch  where error.code == .accessDenied {
            return false
        }
    }

    enum DenialReason {
        case noResourcePolicy, noIdentityPolicy, explicitDenyInResourcePolicy, explicitDenyInIdentityPolicy
    }

    /// AWS's message: "User: ARN is not authorized to perform: ACTION on resource: ARN because …".
    static func denied(_ context: RequestContext, _ action: KMSAction, _ resource: String, _ reason: DenialReason) -> KMSError {
        let why =
            switch reason {
            case .noResourcePolicy: "because no resource-based policy allows the \(action) action"
            case .noIdentityPolicy: "because no identity-based policy allows the \(action) action"
            case .explicitDenyInResourcePolicy: "with an explicit deny in a resource-based policy"
            case .explicitDenyInIdentityPolicy: "with an explicit deny in an identity-based policy"
            }
        return KMSError(.accessDenied, "User: \(context.principal.arn) is not authorized to perform: \(action) on resource: \(resource) \(why)")
    }

    // MARK: Policies

    /// The key's policy, parsed. Stored policies were validated when set, so a failure here is
    /// damage to the store (`KMSInternalException`, logged).
    func storedPolicy(of key: KMSKey) throws(KMSError) -> PolicyDocument {
        if let cached = policyCache[key.policy] { return cached }
        do {
            let document = try PolicyDocument.parse(key.policy, as: .keyPolicy)
            policyCache.set(document, for: key.policy)
            return document
        } catch {
            logger.error("stored key policy does not parse", metadata: ["keyId": "\(key.id)"])
            throw KMSError.internalFailure()
        }
    }

    /// A principal's identity policies and tags, as authorization reads them.
    struct Identity: Sendable {
        var policies: [PolicyDocument] = []
        var tags: [Tag] = []

        /// The union of the identity policies' answers (they never delegate to an account).
        func evaluate(_ request: AuthorizationRequest) -> PolicyDecision {
            policies.reduce(into: PolicyDecision()) { decision, policy in
                let one = policy.evaluate(request)
                decision.explicitDeny = decision.explicitDeny || one.explicitDeny
                decision.allowsCaller = decision.allowsCaller || one.allowsCaller
            }
        }
    }

    func identity(of principal: Principal) async throws(KMSError) -> Identity {
        guard principal.kind == .user || principal.kind == .role else { return Identity() }
        let stored = try await store.identityPolicies(of: principal)
        let tags = try await store.principalTags(of: principal)
        var policies: [PolicyDocument] = []
        for policy in stored {
            do {
                policies.append(try PolicyDocument.parse(policy.document, as: .identityPolicy))
            } catch {
                logger.error("stored identity policy does not parse", metadata: ["principal": "\(principal.arn)", "policy": "\(policy.name)"])
                throw KMSError.internalFailure()
            }
        }
        return Identity(policies: policies, tags: tags)
    }

    // MARK: Condition values

    /// The condition keys of a request: the global `aws:` keys, the key's `kms:` keys, the
    /// encryption context and the operation's own. What costs a store read or more than a copy
    /// (the key's tags and aliases, `aws:userid`, `aws:CurrentTime`) is computed only when a
    /// policy refers to it (`referenced`: normalized keys).
    func conditionValues(
        _ context: RequestContext, _ request: AccessRequest, key: KMSKey?, identity: Identity, referenced: Set<String>
    ) async throws(KMSError) -> [String: [String]] {
        let principal = context.principal
        let now = clock.now()
        var values = request.conditions
        values["aws:PrincipalType"] = [principal.typeName]
        if referenced.contains("aws:userid") { values["aws:userid"] = [principal.uniqueID] }
        if principal.kind == .service {
            values["aws:PrincipalServiceName"] = [principal.name]
        } else {
            values["aws:PrincipalArn"] = [principal.arn]
            values["aws:PrincipalAccount"] = [principal.account]
            values["kms:CallerAccount"] = [principal.account]
        }
        if principal.kind == .user { values["aws:username"] = [principal.name] }
        for tag in identity.tags { values["aws:PrincipalTag/\(tag.key)"] = [tag.value] }
        if let ip = context.sourceIP { values["aws:SourceIp"] = [ip] }
        values["aws:SecureTransport"] = [context.secureTransport ? "true" : "false"]
        if referenced.contains("aws:currenttime") { values["aws:CurrentTime"] = [UTCTime.extended(now)] }
        values["aws:EpochTime"] = [String(Int64(now.timeIntervalSince1970))]
        values["aws:RequestedRegion"] = [context.region]
        if let via = context.viaService { values["kms:ViaService"] = [via] }
        if let recipient = context.recipient { values.merge(recipient.conditionValues) { _, new in new } }
        if let source = context.sourceArn {
            values["aws:SourceArn"] = [source]
            if let account = ResourceName.accountOfSourceARN(source) { values["aws:SourceAccount"] = [account] }
        }
        if let pairs = request.encryptionContext?.pairs, !pairs.isEmpty {
            for (name, value) in pairs { values["kms:EncryptionContext:\(name)"] = [value] }
            values["kms:EncryptionContextKeys"] = pairs.keys.sorted()
        }
        switch request.keyReference.flatMap({ try? KeyReference.parse($0) }) {
        case .aliasName(let name)?, .aliasARN(_, _, let name)?: values["kms:RequestAlias"] = [name]
        default: break
        }
        guard let key else { return values }
        values["kms:KeySpec"] = [key.spec.rawValue]
        values["kms:CustomerMasterKeySpec"] = [key.spec.rawValue]
        values["kms:KeyUsage"] = [key.usage.rawValue]
        values["kms:CustomerMasterKeyUsage"] = [key.usage.rawValue]
        values["kms:KeyOrigin"] = [key.origin.rawValue]
        values["kms:MultiRegion"] = [key.isMultiRegion ? "true" : "false"]
        if let type = key.multiRegionKeyType { values["kms:MultiRegionKeyType"] = [type] }
        if referenced.contains(where: { $0.hasPrefix("aws:resourcetag/") }) {
            for tag in try await store.tags(keyID: key.id, region: key.region) {
                values["aws:ResourceTag/\(tag.key)"] = [tag.value]
            }
        }
        if referenced.contains("kms:resourcealiases") {
            let aliases = try await store.aliases(account: key.account, region: key.region, targetKeyID: key.id, afterName: nil, limit: 1000)
            if !aliases.isEmpty { values["kms:ResourceAliases"] = aliases.map(\.name) }
        }
        return values
    }
}
