import Foundation
import KMSCore
import Testing

@testable import KMSService

/// Alias operations are authorized on the alias (by identity policies, resource
/// `arn:aws:kms:REGION:ACCOUNT:alias/NAME`) and on every key involved: CreateAlias and
/// DeleteAlias the key the alias points to, UpdateAlias the current and the new target. Before,
/// UpdateAlias asked only the new target key, so alice could move `alias/victim` onto a key of
/// her own and read what others encrypted "with alias/victim".
///
/// Account 111122223333: `victim` has the default key policy (the account delegates to identity
/// policies) and the alias `alias/victim`; `mine` has a key policy allowing alice everything.
@Suite struct AliasAuthorizationTests {
    static let account = "111122223333"
    static let alice = Principal.user(account: account, "alice")
    static let root = Principal.root(account: account)
    static let aliasARN = "arn:aws:kms:us-east-1:111122223333:alias/"

    enum Operation: Sendable {
        /// UpdateAlias alias/victim to `mine`.
        case update
        /// CreateAlias alias/new for `mine`.
        case create
        /// DeleteAlias alias/victim.
        case delete
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var caller: Principal = AliasAuthorizationTests.alice
        /// Statements of alice's identity policy (JSON array text); nil for none.
        var identity: String?
        var operation: Operation
        /// nil: allowed.
        var expected: KMSError.Code?
        var testDescription: String { name }
    }

    static func allow(_ action: String, _ resource: String) -> String {
        #"{"Effect": "Allow", "Action": "\#(action)", "Resource": "\#(resource)"}"#
    }

    static let cases: [Case] = [
        // UpdateAlias: the alias, the current target and the new target.
        Case(name: "UpdateAlias onto her own key without permission on the alias (the hijack)", operation: .update, expected: .accessDenied),
        Case(
            name: "UpdateAlias allowed on the alias only", identity: "[\(allow("kms:UpdateAlias", aliasARN + "victim"))]", operation: .update,
            expected: .accessDenied),
        Case(
            name: "UpdateAlias allowed on the keys but not the alias",
            identity: "[\(allow("kms:UpdateAlias", "arn:aws:kms:us-east-1:111122223333:key/*"))]",
            operation: .update, expected: .accessDenied),
        Case(name: "UpdateAlias allowed on everything", identity: "[\(allow("kms:UpdateAlias", "*"))]", operation: .update),
        Case(
            name: "UpdateAlias allowed, the alias denied",
            identity: #"[\#(allow("kms:UpdateAlias", "*")), {"Effect": "Deny", "Action": "kms:UpdateAlias", "Resource": "\#(aliasARN)victim"}]"#,
            operation: .update, expected: .accessDenied),
        Case(name: "UpdateAlias by the account root", caller: root, operation: .update),
        // CreateAlias: the alias and the key.
        Case(name: "CreateAlias on her own key without permission on the alias", operation: .create, expected: .accessDenied),
        Case(name: "CreateAlias allowed on that alias", identity: "[\(allow("kms:CreateAlias", aliasARN + "new"))]", operation: .create),
        Case(
            name: "CreateAlias allowed on another alias", identity: "[\(allow("kms:CreateAlias", aliasARN + "other"))]", operation: .create,
            expected: .accessDenied),
        Case(name: "CreateAlias allowed on alias/*", identity: "[\(allow("kms:CreateAlias", aliasARN + "*"))]", operation: .create),
        // DeleteAlias: the alias and the key.
        Case(name: "DeleteAlias without permission", operation: .delete, expected: .accessDenied),
        Case(
            name: "DeleteAlias allowed on the alias only", identity: "[\(allow("kms:DeleteAlias", aliasARN + "victim"))]", operation: .delete,
            expected: .accessDenied),
        Case(
            name: "DeleteAlias allowed on the key only", identity: "[\(allow("kms:DeleteAlias", "arn:aws:kms:us-east-1:111122223333:key/*"))]",
            operation: .delete, expected: .accessDenied),
        Case(name: "DeleteAlias allowed on everything", identity: "[\(allow("kms:DeleteAlias", "*"))]", operation: .delete),
        Case(name: "DeleteAlias by the account root", caller: root, operation: .delete),
    ]

    @Test(arguments: cases)
    func aliasAuthorization(_ test: Case) async throws {
        let f = try ServiceFixture()
        defer { try? FileManager.default.removeItem(at: f.directory) }
        let service = f.service
        let credentials = Credentials(store: service.store.base, rootKey: service.rootKey)
        _ = try await credentials.createPrincipal(.user, account: Self.account, name: "alice")
        if let identity = test.identity {
            try await credentials.attachPolicy(to: Self.alice, name: "case", document: #"{"Version": "2012-10-17", "Statement": \#(identity)}"#)
        }
        let owner = f.context
        let victim = try await service.createKey(.init(), owner)
        let minePolicy = #"""
            {"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
              {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "kms:*", "Resource": "*"}]}
            """#
        let mine = try await service.createKey(.init(policy: minePolicy), owner)
        try await service.createAlias(name: "alias/victim", targetKeyID: victim.id, owner)

        let caller = RequestContext(principal: test.caller, region: "us-east-1", requestID: "case")
        let outcome = await errorCode {
            switch test.operation {
            case .update: try await service.updateAlias(name: "alias/victim", targetKeyID: mine.id, caller)
            case .create: try await service.createAlias(name: "alias/new", targetKeyID: mine.id, caller)
            case .delete: try await service.deleteAlias(name: "alias/victim", caller)
            }
        }
        #expect(outcome == test.expected)
        // A refused request changed nothing: alias/victim still names the victim's key.
        let target = try await service.store.alias(account: Self.account, region: "us-east-1", name: "alias/victim")?.targetKeyID
        switch (test.operation, outcome) {
        case (.update, nil): #expect(target == mine.id)
        case (.delete, nil): #expect(target == nil)
        default: #expect(target == victim.id)
        }
        let created = try await service.store.alias(account: Self.account, region: "us-east-1", name: "alias/new")
        #expect((created != nil) == (test.operation == .create && outcome == nil))
    }
}
