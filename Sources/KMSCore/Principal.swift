/// An identity that signs requests: an account's root, one of its IAM-style users or roles, or
/// a service principal (`dynamodb.amazonaws.com`) that an admin registered in the account.
public struct Principal: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case root, user, role, service
    }

    public var account: String
    public var kind: Kind
    /// The user or role name, or the service principal's name; empty for the root.
    public var name: String

    public init(account: String, kind: Kind, name: String) {
        self.account = account
        self.kind = kind
        self.name = kind == .root ? "" : name
    }

    public static func root(account: String) -> Principal { Principal(account: account, kind: .root, name: "") }
    public static func user(account: String, _ name: String) -> Principal { Principal(account: account, kind: .user, name: name) }
    public static func role(account: String, _ name: String) -> Principal { Principal(account: account, kind: .role, name: name) }
    public static func service(account: String, _ name: String) -> Principal { Principal(account: account, kind: .service, name: name) }

    public var isRoot: Bool { kind == .root }

    /// The principal's path within its account: `root`, `user/NAME`, `role/NAME` or `service/NAME`,
    /// as stored and as the last part of its ARN.
    public var path: String { kind == .root ? "root" : "\(kind.rawValue)/\(name)" }

    /// The principal named by `path` (see `path`); nil for anything else.
    public init?(account: String, path: String) {
        if path == "root" {
            self = .root(account: account)
            return
        }
        guard let slash = path.firstIndex(of: "/"), let kind = Kind(rawValue: String(path[..<slash])), kind != .root else { return nil }
        let name = String(path[path.index(after: slash)...])
        guard !name.isEmpty else { return nil }
        self.init(account: account, kind: kind, name: name)
    }

    /// The root, user or role an IAM ARN names (`arn:PARTITION:iam::ACCOUNT:root|user/NAME|role/NAME`),
    /// or the role of an STS assumed-role ARN; nil for anything else.
    public init?(arn: String) {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn" else { return nil }
        let account = String(parts[4]), resource = String(parts[5])
        switch parts[2] {
        case "sts" where resource.hasPrefix("assumed-role/"):
            guard let role = resource.split(separator: "/").dropFirst().first else { return nil }
            self = .role(account: account, String(role))
        case "iam":
            guard let principal = Principal(account: account, path: resource), principal.kind != .service else { return nil }
            self = principal
        default:
            return nil
        }
    }

    /// What policies and grants name it by: `arn:aws:iam::ACCOUNT:root|user/NAME|role/NAME`, or
    /// for a service principal its name (`dynamodb.amazonaws.com`).
    public var arn: String { kind == .service ? name : "arn:aws:iam::\(account):\(path)" }

    /// `aws:userid`: the account ID for the root; for users and roles an IAM-style unique ID
    /// (`AIDA…`, `AROA…:swiftkms`) derived from the ARN, stable for the principal's lifetime; the
    /// name for a service.
    public var uniqueID: String {
        let prefix: String
        switch kind {
        case .root: return account
        case .service: return name
        case .user: prefix = "AIDA"
        case .role: prefix = "AROA"
        }
        let digest = (try? HashAlgorithm.sha256.hash(Array(arn.utf8))) ?? []
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let id = prefix + String(digest.prefix(17).map { alphabet[Int($0) % 32] })
        return kind == .role ? id + ":swiftkms" : id
    }

    /// `aws:PrincipalType`: `Account`, `User`, `AssumedRole` or `AWSService`.
    public var typeName: String {
        switch kind {
        case .root: "Account"
        case .user: "User"
        case .role: "AssumedRole"
        case .service: "AWSService"
        }
    }
}

/// An access key of a principal. The secret is held only encrypted under the root key.
public struct AccessKey: Sendable, Equatable {
    public var id: String
    public var principal: Principal
    public var sealedSecret: [UInt8]

    public init(id: String, principal: Principal, sealedSecret: [UInt8]) {
        self.id = id
        self.principal = principal
        self.sealedSecret = sealedSecret
    }
}

/// An IAM-style identity policy attached to a user or role, by name.
public struct IdentityPolicy: Sendable, Equatable {
    public var name: String
    /// The policy document (JSON text), validated as an identity policy when stored.
    public var document: String

    public init(name: String, document: String) {
        self.name = name
        self.document = document
    }
}
