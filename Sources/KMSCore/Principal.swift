/// An IAM-style identity that signs requests: an account's root or one of its users.
public struct Principal: Sendable, Equatable {
    public var account: String
    /// `root` for the account root, else the user name.
    public var name: String

    public init(account: String, name: String) {
        self.account = account
        self.name = name
    }

    public static func root(account: String) -> Principal { Principal(account: account, name: "root") }

    public var isRoot: Bool { name == "root" }

    /// `arn:aws:iam::ACCOUNT:root` or `arn:aws:iam::ACCOUNT:user/NAME`.
    public var arn: String { isRoot ? "arn:aws:iam::\(account):root" : "arn:aws:iam::\(account):user/\(name)" }
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
