import Foundation
import KMSCore
import Testing

@testable import KMSService

typealias Tag = KMSCore.Tag

/// The authorization table: each case is a key policy, the caller's identity policies and
/// grants, a caller and a request, and the outcome (allowed, or the exact error), run through
/// the service layer over a real SQLite store.
///
/// Account A (111122223333) owns the key (tagged Project=Alpha, alias `alias/app-key`) and has
/// users alice and bob, role app and service principal dynamodb.amazonaws.com; account B
/// (444455556666) has user mallory.
@Suite struct AuthorizationTests {
    static let a = "111122223333", b = "444455556666"
    static let rootA = Principal.root(account: a), alice = Principal.user(account: a, "alice"), bob = Principal.user(account: a, "bob")
    static let role = Principal.role(account: a, "app"), dynamodb = Principal.service(account: a, "dynamodb.amazonaws.com")
    static let rootB = Principal.root(account: b), mallory = Principal.user(account: b, "mallory")

    /// What the caller asks for. Encryption contexts are those of the request; `decrypt` decrypts
    /// a blob the owner made with the same context.
    enum Request: Sendable {
        case encrypt([String: String] = [:], viaAlias: Bool = false, dryRun: Bool = false)
        case decrypt([String: String] = [:])
        case generateDataKey([String: String] = [:])
        case reEncrypt
        case describe
        case disable
        case putPolicy(String)
        case createGrant(grantee: Principal, operations: [GrantOperation], constraints: GrantConstraints? = nil, dryRun: Bool = false)
        /// Retire the first grant of the case (by token, or by key and ID).
        case retireGrant(byToken: Bool, dryRun: Bool = false)
        case revokeGrant(dryRun: Bool = false)
        case listGrants
        case createKey(tags: [Tag] = [])
        case listKeys
        case tag([Tag])
        /// Encrypt naming a grant token: a malformed one is refused.
        case encryptWithToken(String)
    }

    struct GrantSpec: Sendable {
        var grantee: Principal
        var operations: [GrantOperation]
        var constraints: GrantConstraints? = nil
        var retiring: Principal? = nil
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// Statements of the key policy (JSON array text); nil for the default key policy.
        var keyPolicy: String?
        /// Statements of the caller's identity policy (JSON array text).
        var identity: String?
        var grants: [GrantSpec] = []
        var caller: Principal = AuthorizationTests.alice
        /// Tags of the caller (`aws:PrincipalTag/*`).
        var tags: [Tag] = []
        var request: Request = .encrypt()
        /// nil: the request succeeds.
        var expected: KMSError.Code?
        var testDescription: String { name }
    }

    // MARK: Policy builders

    static func allow(_ principal: String, _ actions: String = #""kms:*""#, condition: String? = nil, resource: String = #""*""#) -> String {
        statement("Allow", principal, actions, condition: condition, resource: resource)
    }

    static func deny(_ principal: String, _ actions: String = #""kms:*""#, condition: String? = nil) -> String {
        statement("Deny", principal, actions, condition: condition)
    }

    static func statement(_ effect: String, _ principal: String?, _ actions: String, condition: String? = nil, resource: String = #""*""#) -> String {
        var parts = [#""Effect": "\#(effect)""#]
        if let principal { parts.append(principal.hasPrefix("\"Not") ? principal : #""Principal": \#(principal)"#) }
        parts.append(actions.hasPrefix("\"NotAction") ? actions : #""Action": \#(actions)"#)
        parts.append(resource.hasPrefix("\"NotResource") ? resource : #""Resource": \#(resource)"#)
        if let condition { parts.append(#""Condition": \#(condition)"#) }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    static func aws(_ arn: String) -> String { #"{"AWS": "\#(arn)"}"# }
    static let accountA = aws("arn:aws:iam::111122223333:root"), accountB = aws("arn:aws:iam::444455556666:root")
    static let aliceP = aws("arn:aws:iam::111122223333:user/alice"), malloryP = aws("arn:aws:iam::444455556666:user/mallory")
    /// The admin statement every test key policy starts with (so the owner can set it up).
    static let admin = allow(accountA)
    static func policy(_ statements: String...) -> String { "[" + statements.joined(separator: ", ") + "]" }
    /// An identity policy statement (no principal).
    static func can(_ actions: String = #""kms:*""#, condition: String? = nil, resource: String = #""*""#) -> String {
        statement("Allow", nil, actions, condition: condition, resource: resource)
    }
    static func cannot(_ actions: String = #""kms:*""#, condition: String? = nil) -> String {
        statement("Deny", nil, actions, condition: condition)
    }

    // MARK: Running a case

    @Test(arguments: cases)
    func authorization(_ test: Case) async throws {
        let f = try ServiceFixture()
        let service = f.service
        let credentials = Credentials(store: service.store.base, rootKey: service.rootKey)
        for principal in [Self.alice, Self.bob, Self.role, Self.dynamodb, Self.mallory] {
            _ = try await credentials.createPrincipal(principal.kind, account: principal.account, name: principal.name)
        }
        if let identity = test.identity, test.caller.kind == .user || test.caller.kind == .role {
            try await credentials.attachPolicy(to: test.caller, name: "case", document: #"{"Version": "2012-10-17", "Statement": \#(identity)}"#)
        }
        if !test.tags.isEmpty { try await credentials.tagPrincipal(test.caller, tags: test.tags) }

        let owner = f.context
        let keyPolicy = test.keyPolicy.map { #"{"Version": "2012-10-17", "Statement": \#($0)}"# }
        let key = try await service.createKey(
            .init(
                policy: keyPolicy, tags: [Tag(key: "Project", value: "Alpha"), Tag(key: "Owner", value: "alice")],
                bypassPolicyLockoutSafetyCheck: true), RequestContext(principal: Self.rootA, region: "us-east-1", requestID: "setup"))
        try await service.store.base.commit([
            .insertAlias(
                Alias(
                    name: "alias/app-key", account: Self.a, region: "us-east-1", targetKeyID: key.id,
                    creationDate: Date(), lastUpdatedDate: Date()))
        ])
        var tokens: [(id: String, token: String)] = []
        for grant in test.grants {
            let made = try await service.createGrant(
                .init(
                    keyID: key.id, granteePrincipal: grant.grantee.arn, retiringPrincipal: grant.retiring?.arn,
                    operations: grant.operations, constraints: grant.constraints), owner)
            tokens.append((made.grantID, made.grantToken))
        }
        var caller = RequestContext(principal: test.caller, region: "us-east-1", requestID: "case", sourceIP: "10.1.2.3")
        let outcome = await errorCode {
            switch test.request {
            case .encrypt(let pairs, let viaAlias, let dryRun):
                _ = try await service.encrypt(
                    keyID: viaAlias ? "alias/app-key" : key.arn, plaintext: Data("x".utf8), context: EncryptionContext(pairs),
                    algorithm: nil, dryRun: dryRun, caller)
            case .encryptWithToken(let token):
                caller.grantTokens = [token == "valid" ? tokens[0].token : token]
                _ = try await service.encrypt(
                    keyID: key.arn, plaintext: Data("x".utf8), context: EncryptionContext(), algorithm: nil, dryRun: nil, caller)
            case .decrypt(let pairs):
                let blob = try await service.encrypt(
                    keyID: key.id, plaintext: Data("x".utf8), context: EncryptionContext(pairs), algorithm: nil, dryRun: nil, owner)
                _ = try await service.decrypt(
                    ciphertext: Data(blob.ciphertextBlob), context: EncryptionContext(pairs), keyID: nil, algorithm: nil, dryRun: nil, caller)
            case .generateDataKey(let pairs):
                _ = try await service.generateDataKey(
                    keyID: key.arn, keySpec: .aes256, numberOfBytes: nil, context: EncryptionContext(pairs), dryRun: nil, caller)
            case .reEncrypt:
                let blob = try await service.encrypt(
                    keyID: key.id, plaintext: Data("x".utf8), context: EncryptionContext(), algorithm: nil, dryRun: nil, owner)
                _ = try await service.reEncrypt(
                    ciphertext: Data(blob.ciphertextBlob), sourceContext: EncryptionContext(), sourceKeyID: nil, destinationKeyID: key.arn,
                    destinationContext: EncryptionContext(), sourceAlgorithm: nil, destinationAlgorithm: nil, dryRun: nil, caller)
            case .describe:
                _ = try await service.describeKey(keyID: key.arn, caller)
            case .disable:
                try await service.disableKey(keyID: key.arn, caller)
            case .putPolicy(let statements):
                try await service.putKeyPolicy(
                    keyID: key.id, policyName: nil, policy: #"{"Version": "2012-10-17", "Statement": \#(statements)}"#,
                    bypassPolicyLockoutSafetyCheck: nil, caller)
            case .createGrant(let grantee, let operations, let constraints, let dryRun):
                _ = try await service.createGrant(
                    .init(keyID: key.arn, granteePrincipal: grantee.arn, operations: operations, constraints: constraints, dryRun: dryRun), caller)
            case .retireGrant(let byToken, let dryRun):
                if byToken {
                    try await service.retireGrant(grantToken: tokens[0].token, keyID: nil, grantID: nil, dryRun: dryRun, caller)
                } else {
                    try await service.retireGrant(grantToken: nil, keyID: key.arn, grantID: tokens[0].id, dryRun: dryRun, caller)
                }
            case .revokeGrant(let dryRun):
                try await service.revokeGrant(keyID: key.arn, grantID: tokens[0].id, dryRun: dryRun, caller)
            case .listGrants:
                _ = try await service.listGrants(keyID: key.arn, grantID: nil, granteePrincipal: nil, limit: nil, marker: nil, caller)
            case .createKey(let tags):
                _ = try await service.createKey(.init(tags: tags), caller)
            case .listKeys:
                _ = try await service.listKeys(limit: nil, marker: nil, caller)
            case .tag(let tags):
                try await service.tagResource(keyID: key.arn, tags: tags, caller)
            }
        }
        #expect(outcome == test.expected)

        // What a request that reports a change left behind.
        switch test.request {
        case .retireGrant, .revokeGrant:
            let remaining = try await service.store.grants(keyID: key.id, region: key.region).map(\.id)
            #expect(remaining.contains(tokens[0].id) == (outcome != nil), "the grant is gone exactly when the call succeeded")
        case .createGrant:
            let count = try await service.store.grants(keyID: key.id, region: key.region).count
            #expect(count == test.grants.count + (outcome == nil ? 1 : 0), "a refused or dry-run CreateGrant creates nothing")
        case .putPolicy:
            let stored = try await service.store.key(id: key.id, region: key.region)?.policy
            #expect((stored == key.policy) == (outcome != nil), "the policy changes exactly when the call succeeded")
        default: break
        }
    }

    @Test func tableIsLargeAndNamesAreUnique() {
        #expect(Self.cases.count >= 150)
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count)
    }

    @Test func quotasOfGrantsAndPolicySize() async throws {
        let f = try ServiceFixture(quotas: .init(grantsPerKey: 2, keyPolicySize: 400))
        let key = try await f.createKey()
        for _ in 0..<2 {
            _ = try await f.service.createGrant(.init(keyID: key.id, granteePrincipal: Self.rootB.arn, operations: [.encrypt]), f.context)
        }
        #expect(
            await errorCode {
                _ = try await f.service.createGrant(.init(keyID: key.id, granteePrincipal: Self.rootB.arn, operations: [.decrypt]), f.context)
            } == .limitExceeded)
        let large =
            #"{"Version": "2012-10-17", "Statement": [{"Sid": "\#(String(repeating: "x", count: 300))", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}"#
        #expect(
            await errorCode {
                try await f.service.putKeyPolicy(keyID: key.id, policyName: nil, policy: large, bypassPolicyLockoutSafetyCheck: nil, f.context)
            } == .limitExceeded)
        #expect(await errorCode { _ = try await f.createKey(.init(policy: large)) } == .limitExceeded)
    }

    @Test func denialMessagesHaveAWSShape() async throws {
        let f = try ServiceFixture()
        let credentials = Credentials(store: f.service.store.base, rootKey: f.service.rootKey)
        _ = try await credentials.createPrincipal(.user, account: Self.a, name: "alice")
        let key = try await f.createKey()
        let alice = RequestContext(principal: Self.alice, region: "us-east-1", requestID: "m")
        do {
            _ = try await f.service.encrypt(
                keyID: key.id, plaintext: Data("x".utf8), context: EncryptionContext(), algorithm: nil, dryRun: nil, alice)
            Issue.record("allowed")
        } catch {
            #expect(error.code == .accessDenied)
            #expect(
                error.message
                    == "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: \(key.arn) because no identity-based policy allows the kms:Encrypt action"
            )
        }
        try await credentials.attachPolicy(
            to: Self.alice, name: "deny", document: #"{"Statement": {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}}"#)
        await #expect(
            throws: KMSError(
                .accessDenied,
                "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: \(key.arn) with an explicit deny in an identity-based policy"
            )
        ) {
            _ = try await f.service.encrypt(
                keyID: key.id, plaintext: Data("x".utf8), context: EncryptionContext(), algorithm: nil, dryRun: nil, alice)
        }
        let mallory = RequestContext(principal: Self.mallory, region: "us-east-1", requestID: "m")
        await #expect(
            throws: KMSError(
                .accessDenied,
                "User: arn:aws:iam::444455556666:user/mallory is not authorized to perform: kms:DescribeKey on resource: \(key.arn) because no resource-based policy allows the kms:DescribeKey action"
            )
        ) {
            _ = try await f.service.describeKey(keyID: key.arn, mallory)
        }
        // A key that does not exist in another account is NotFound, as in AWS.
        #expect(
            await errorCode {
                _ = try await f.service.describeKey(keyID: "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000", mallory)
            } == .notFound)
    }
}
