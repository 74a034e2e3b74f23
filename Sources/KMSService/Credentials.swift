import Foundation
import KMSStorage

/// Principals and their access keys: SigV4 lookups for the server, and the admin commands.
///
/// Secrets are generated from the system CSPRNG, stored only sealed under the root key,
/// and returned in the clear only once, to the admin who created them.
///
/// Every change is audited, in the same transaction, as an IAM event (`iam.amazonaws.com`)
/// by the local administrator; secrets never reach the event.
public struct Credentials: Sendable {
    let store: ServiceStore
    let rootKey: RootKey
    let clock: any KMSClock
    let auditChain: String
    let acceptsDevelopmentCredentials: Bool
    /// Secrets already opened, by access key ID, with the sealed form they were opened from:
    /// an entry serves only while the store holds that very sealed secret.
    private let openedSecrets = BoundedCache<String, (sealed: [UInt8], secret: String)>(limit: 10_000)

    /// - Parameter auditChain: the audit chain changes are recorded in (`admin` for the
    ///   admin commands, the server's chain when the server bootstraps credentials).
    /// - Parameter acceptsDevelopmentCredentials: a development server's (`serve --dev`): access
    ///   keys outside IAM's format, such as `test`, are accepted. Otherwise such a key is
    ///   unknown, even when a development server stored it in the same data directory.
    public init(
        store: any Store, rootKey: RootKey, clock: any KMSClock = SystemClock(), auditChain: String = "admin",
        acceptsDevelopmentCredentials: Bool = false
    ) {
        self.store = ServiceStore(store, auditChain: auditChain)
        self.rootKey = rootKey
        self.clock = clock
        self.auditChain = auditChain
        self.acceptsDevelopmentCredentials = acceptsDevelopmentCredentials
    }

    /// `mutations` with the IAM event that reports them, to commit together.
    private func audited(
        _ mutations: [Mutation], _ eventName: String, _ principal: Principal,
        parameters: [String: JSONValue] = [:], response: [String: JSONValue]? = nil
    ) -> [Mutation] {
        let event = AuditEvent.administration(
            eventName, principal: principal, parameters: parameters, response: response,
            chain: auditChain, at: clock.now())
        return mutations + [.appendAuditEvent(event)]
    }

    /// Commits `mutations` with the IAM event that reports them.
    private func commit(
        _ mutations: [Mutation], _ eventName: String, _ principal: Principal, parameters: [String: JSONValue] = [:],
        response: [String: JSONValue]? = nil, ifExists: KMSError? = nil, ifMissing: KMSError? = nil
    ) async throws(KMSError) {
        try await store.commit(
            audited(mutations, eventName, principal, parameters: parameters, response: response), ifExists: ifExists, ifMissing: ifMissing)
    }

    /// A newly created access key, with its secret in the clear.
    public struct IssuedAccessKey: Sendable {
        public var accessKeyID: String
        public var secretAccessKey: String
        public var principal: Principal
    }

    /// The principal and secret of an access key, for verifying a signature; nil when unknown.
    public func secret(accessKeyID: String) async throws(KMSError) -> (principal: Principal, secret: String)? {
        guard acceptsDevelopmentCredentials || Self.isValidAccessKeyID(accessKeyID), let key = try await store.accessKey(id: accessKeyID) else {
            return nil
        }
        if let opened = openedSecrets[key.id], opened.sealed == key.sealedSecret { return (key.principal, opened.secret) }
        let secret = try rootKey.openCredential(key.sealedSecret, accessKeyID: key.id)
        openedSecrets.set((key.sealedSecret, secret), for: key.id)
        return (key.principal, secret)
    }

    /// The principal an access key belongs to, without opening its secret; nil when unknown.
    public func principal(accessKeyID: String) async throws(KMSError) -> Principal? {
        try await store.accessKey(id: accessKeyID)?.principal
    }

    /// A request that a registered service principal makes on behalf of a principal of its
    /// account, as AWS services do with their callers' identity, carrying the principal's
    /// forward access token (`ForwardAccessToken`): it is then authorized as that principal,
    /// with `kms:ViaService` naming the service, and audited with `invokedBy`. The token must
    /// name this very service principal, be unexpired, and its principal must still exist as
    /// the incarnation that made the token. Anything else is `AccessDeniedException`,
    /// with one message whatever failed.
    public func forwarded(_ context: RequestContext, token: String) async throws(KMSError) -> RequestContext {
        let refused = KMSError(.accessDenied, "\(context.principal.arn) is not allowed to make requests with this forward access token.")
        guard context.principal.kind == .service, let claims = ForwardAccessToken.open(token, with: rootKey),
            claims.service == context.principal.name, claims.principal.account == context.account,
            claims.expiration > clock.now(), claims.principal.kind != .service,
            let incarnation = try await store.principalIncarnation(of: claims.principal),
            incarnation.bytewiseEquals(claims.principalID)
        else { throw refused }
        return context.forwarded(by: context.principal.name, onBehalfOf: claims.principal)
    }

    /// Makes sure the account's root has an access key. With `given` credentials, adds them
    /// when absent and replaces the stored secret when it differs (a rotation); otherwise
    /// generates a key when the root has none.
    ///
    /// - Returns: the key generated; for `given` credentials whose secret replaced another, the
    ///   key with an empty secret (nothing to print); nil when nothing changed.
    public func bootstrapRoot(account: String, given: (accessKeyID: String, secret: String)?) async throws(KMSError) -> IssuedAccessKey? {
        let root = Principal.root(account: account)
        try await ensurePrincipal(root)
        if let given {
            guard Self.isAcceptable(accessKeyID: given.accessKeyID, secret: given.secret, development: acceptsDevelopmentCredentials) else {
                throw KMSError.validation(
                    "SWIFTKMS_ROOT_ACCESS_KEY_ID must be 16–128 letters and digits, and SWIFTKMS_ROOT_SECRET_ACCESS_KEY at least 16 characters.")
            }
            let sealed = try rootKey.sealCredential(secret: given.secret, accessKeyID: given.accessKeyID)
            guard let existing = try await store.accessKey(id: given.accessKeyID) else {
                do {
                    try await insert(AccessKey(id: given.accessKeyID, principal: root, sealedSecret: sealed))
                } catch  where error.code == .alreadyExists {
                    // Another node over the same database stored it meanwhile: compare with it.
                    return try await bootstrapRoot(account: account, given: given)
                }
                return nil
            }
            guard existing.principal == root else {
                throw KMSError.validation("SWIFTKMS_ROOT_ACCESS_KEY_ID names an access key of \(existing.principal.arn), not of the account root.")
            }
            // A changed secret for the same key ID is a rotation (the old one may have leaked):
            // the old secret stops working now, rather than being kept silently.
            let current = try rootKey.openCredential(existing.sealedSecret, accessKeyID: existing.id)
            guard !ConstantTime.equals(current, given.secret) else { return nil }
            try await commit(
                [
                    .deleteAccessKey(id: existing.id),
                    .insertAccessKey(
                        AccessKey(id: existing.id, principal: root, sealedSecret: sealed),
                        creationDate: clock.now()),
                ],
                "UpdateAccessKey", root, parameters: ["accessKeyId": .string(existing.id), "rotated": .bool(true)])
            return IssuedAccessKey(accessKeyID: existing.id, secretAccessKey: "", principal: root)
        }
        guard try await store.accessKeys(of: root).isEmpty else { return nil }
        return try await createAccessKey(for: root)
    }

    /// Creates a user (`arn:aws:iam::ACCOUNT:user/NAME`), a role (`…:role/NAME`, which signs
    /// with credentials of its own, as a session of the role would) or a service principal
    /// (`dynamodb.amazonaws.com`), with one access key. A new user or role may do nothing until
    /// an identity policy (or a key policy, or a grant) allows it.
    public func createPrincipal(_ kind: Principal.Kind, account: String, name: String) async throws(KMSError) -> IssuedAccessKey {
        switch kind {
        case .root: throw KMSError.validation("The account root exists with the account.")
        case .user, .role:
            guard Self.isValidUserName(name) else {
                throw KMSError.validation("User and role names are 1–64 characters of letters, digits and +=,.@_-, and not 'root'.")
            }
        case .service:
            guard Self.isValidServiceName(name) else {
                throw KMSError.validation("A service principal is a name like dynamodb.amazonaws.com.")
            }
        }
        let principal = Principal(account: account, kind: kind, name: name)
        try await commit(
            [.insertPrincipal(principal, creationDate: clock.now())], Self.eventName("Create", principal), principal,
            ifExists: KMSError(.alreadyExists, "\(principal.arn) already exists in account \(account)."))
        return try await createAccessKey(for: principal)
    }

    /// Deletes a user, role or service principal with its access keys, policies and tags.
    ///
    /// As AWS does, key policies and grants (of any account) that named it name its unique ID
    /// from then on, in the same transaction: they match no one, so a principal created again
    /// under the same name inherits none of them. (A service principal has no unique ID: the
    /// grants naming it are kept, and match a service principal of that name registered again.)
    public func deletePrincipal(_ principal: Principal) async throws(KMSError) {
        guard !principal.isRoot else { throw KMSError.validation("The account root cannot be deleted.") }
        try await store.commitRetrying { () throws(KMSError) in
            var mutations: [Mutation] = [.deletePrincipal(principal)]
            if principal.kind == .user || principal.kind == .role {
                let arn = principal.arn, uniqueID = String(principal.uniqueID.prefix { $0 != ":" })
                for var key in try await store.keys(withPolicyMentioning: arn) {
                    guard let policy = PolicyDocument.replacingPrincipal(arn, with: uniqueID, in: key.policy) else { continue }
                    key.policy = policy
                    mutations.append(.updateKey(key))
                }
                for grant in try await store.grants(naming: arn) {
                    var unbound = grant
                    if grant.granteePrincipal.bytewiseEquals(arn) { unbound.granteePrincipal = uniqueID }
                    if grant.retiringPrincipal?.bytewiseEquals(arn) == true { unbound.retiringPrincipal = uniqueID }
                    mutations += [.deleteGrant(id: grant.id, keyID: grant.keyID, region: grant.keyRegion), .insertGrant(unbound)]
                }
            }
            // A key policy changed meanwhile (a revision conflict): read it again.
            return ServiceStore.Change(
                audited(mutations, Self.eventName("Delete", principal), principal), (),
                ifMissing: KMSError.notFound("No principal \(principal.arn) in account \(principal.account)."))
        }
    }

    /// Adds an access key to an existing principal.
    /// An account's root exists once it is asked for: this is how another account gets its
    /// first credentials.
    public func createAccessKey(for principal: Principal) async throws(KMSError) -> IssuedAccessKey {
        if principal.isRoot { try await ensurePrincipal(principal) }
        try await requireExisting(principal)
        let id = "AKIA" + Self.randomString(length: 16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secret = Self.randomString(length: 40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        try await insert(AccessKey(id: id, principal: principal, sealedSecret: rootKey.sealCredential(secret: secret, accessKeyID: id)))
        return IssuedAccessKey(accessKeyID: id, secretAccessKey: secret, principal: principal)
    }

    /// Principals of an account with the IDs (never the secrets) of their access keys.
    public func listPrincipals(account: String) async throws(KMSError) -> [(principal: Principal, accessKeyIDs: [String])] {
        var result: [(Principal, [String])] = []
        for principal in try await store.principals(account: account) {
            let keys = try await store.accessKeys(of: principal)
            result.append((principal, keys.map(\.id)))
        }
        return result
    }

    // MARK: Identity policies and tags

    /// Attaches (or replaces) a named identity policy of a user or role. The document must be a
    /// valid identity policy (`MalformedPolicyDocumentException`), at most 6,144 characters as IAM allows.
    public func attachPolicy(to principal: Principal, name: String, document: String) async throws(KMSError) {
        guard principal.kind == .user || principal.kind == .role else {
            throw KMSError.validation("Identity policies attach to users and roles.")
        }
        try Self.checkIdentityPolicy(name: name, document: document)
        try await requireExisting(principal)
        try await commit(
            [.putIdentityPolicy(principal, IdentityPolicy(name: name, document: document))], Self.eventName("Put", principal, "Policy"),
            principal, parameters: ["policyName": .string(name), "policyDocument": .string(document)])
    }

    public func identityPolicies(of principal: Principal) async throws(KMSError) -> [IdentityPolicy] {
        try await requireExisting(principal)
        return try await store.identityPolicies(of: principal)
    }

    public func detachPolicy(from principal: Principal, name: String) async throws(KMSError) {
        try await commit(
            [.deleteIdentityPolicy(principal, name: name)], Self.eventName("Delete", principal, "Policy"), principal,
            parameters: ["policyName": .string(name)], ifMissing: KMSError.notFound("\(principal.arn) has no policy named \(name)."))
    }

    /// Sets tags of a principal (`aws:PrincipalTag/KEY` in policies).
    public func tagPrincipal(_ principal: Principal, tags: [Tag]) async throws(KMSError) {
        try Tag.validate(tags)
        try await requireExisting(principal)
        try await commit(
            [.putPrincipalTags(principal, tags: tags)], Self.eventName("Tag", principal), principal,
            parameters: ["tags": .array(tags.map { .object(["key": .string($0.key), "value": .string($0.value)]) })])
    }

    public func untagPrincipal(_ principal: Principal, tagKeys: [String]) async throws(KMSError) {
        try await requireExisting(principal)
        try await commit(
            [.removePrincipalTags(principal, tagKeys: tagKeys)], Self.eventName("Untag", principal), principal,
            parameters: ["tagKeys": .array(tagKeys.map(JSONValue.string))])
    }

    public func principalTags(of principal: Principal) async throws(KMSError) -> [Tag] {
        try await requireExisting(principal)
        return try await store.principalTags(of: principal)
    }

    private func requireExisting(_ principal: Principal) async throws(KMSError) {
        guard try await store.hasPrincipal(principal) else {
            throw KMSError.notFound("No principal \(principal.arn) in account \(principal.account).")
        }
    }

    public func deleteAccessKey(id: String) async throws(KMSError) {
        guard let key = try await store.accessKey(id: id) else {
            throw KMSError.notFound("No access key \(id).")
        }
        try await commit(
            [.deleteAccessKey(id: id)], "DeleteAccessKey", key.principal, parameters: ["accessKeyId": .string(id)],
            ifMissing: KMSError.notFound("No access key \(id)."))
    }

    private func ensurePrincipal(_ principal: Principal) async throws(KMSError) {
        guard !(try await store.hasPrincipal(principal)) else { return }
        do {
            try await commit(
                [.insertPrincipal(principal, creationDate: clock.now())], "CreateAccount", principal,
                ifExists: KMSError(.alreadyExists, "\(principal.arn) exists."))
        } catch  where error.code == .alreadyExists {
            return  // created meanwhile by another process
        }
    }

    /// `alreadyExists` when the access key ID is taken.
    private func insert(_ key: AccessKey) async throws(KMSError) {
        try await commit(
            [.insertAccessKey(key, creationDate: clock.now())], "CreateAccessKey", key.principal,
            response: ["accessKey": .object(["accessKeyId": .string(key.id), "status": .string("Active")])],
            ifExists: KMSError(.alreadyExists, "The access key \(key.id) exists."))
    }

    /// IAM's event name for an action on a principal: `CreateUser`, `PutRolePolicy`, `TagUser`, …
    /// (`…ServicePrincipal` and `…Account` for the kinds IAM has no API for).
    static func eventName(_ verb: String, _ principal: Principal, _ suffix: String = "") -> String {
        let noun =
            switch principal.kind {
            case .root: "Account"
            case .user: "User"
            case .role: "Role"
            case .service: "ServicePrincipal"
            }
        return verb + noun + suffix
    }

    /// Uniform characters from an alphabet whose size divides 256 (32 or 64), so no bias.
    static func randomString(length: Int, alphabet: String) -> String {
        let symbols = Array(alphabet)
        precondition(256 % symbols.count == 0)
        var rng = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in symbols[Int(rng.next() as UInt8) % symbols.count] })
    }

    /// An identity policy's name and document as IAM takes them: a valid identity policy
    /// (`MalformedPolicyDocumentException`) of at most 6,144 characters.
    static func checkIdentityPolicy(name: String, document: String) throws(KMSError) {
        guard (1...128).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@_-".contains($0)) }) else {
            throw KMSError.validation("Policy names are 1–128 characters of letters, digits and +=,.@_-.")
        }
        guard document.count <= 6_144 else { throw KMSError(.limitExceeded, "An identity policy is at most 6,144 characters.") }
        _ = try PolicyDocument.parse(document, as: .identityPolicy)
    }

    /// Whether an access key may be stored with this ID and secret: IAM's format (16–128
    /// letters and digits, a secret of 16 characters or more), or on a development server any
    /// 1–128 letters and digits with a secret that is not empty (`test`/`test`).
    static func isAcceptable(accessKeyID id: String, secret: String, development: Bool) -> Bool {
        guard development else { return isValidAccessKeyID(id) && secret.count >= 16 }
        return (1...128).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } && !secret.isEmpty
    }

    static func isValidAccessKeyID(_ id: String) -> Bool {
        (16...128).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    static func isValidServiceName(_ name: String) -> Bool {
        name.hasSuffix(".amazonaws.com") && name.count > 14 && name.count <= 128
            && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || ".-".contains($0)) }
    }

    static func isValidUserName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name != "root"
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@_-".contains($0)) }
    }
}
