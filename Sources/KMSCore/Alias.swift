import Foundation

/// A friendly name for a KMS key in one account and region.
public struct Alias: Sendable, Equatable {
    /// The full name, beginning with `alias/`.
    public var name: String
    public var account: String
    public var region: String
    public var targetKeyID: String
    public var creationDate: Date
    public var lastUpdatedDate: Date

    public init(name: String, account: String, region: String, targetKeyID: String, creationDate: Date, lastUpdatedDate: Date) {
        self.name = name
        self.account = account
        self.region = region
        self.targetKeyID = targetKeyID
        self.creationDate = creationDate
        self.lastUpdatedDate = lastUpdatedDate
    }

    public var arn: String { ResourceName.aliasARN(region: region, account: account, aliasName: name) }

    /// Checks the rules AWS applies to an alias a customer creates: the `alias/` prefix and a
    /// non-empty name after it (`ValidationException`, as AWS), and not the `alias/aws/` prefix
    /// reserved for AWS managed keys (`InvalidAliasNameException`).
    /// (Length and characters are checked against the model before this.)
    public static func validateCustomerAliasName(_ name: String) throws(KMSError) {
        guard name.hasPrefix("alias/"), name.count > "alias/".count else {
            throw KMSError(
                .validation,
                "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
        }
        if name.hasPrefix("alias/aws/") || name == "alias/aws" {
            throw KMSError(.invalidAliasName, "Alias name must not begin with the reserved prefix alias/aws/.")
        }
    }
}

/// A tag on a KMS key.
public struct Tag: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// The most tags one key may carry.
    public static let maximumPerKey = 50

    /// CreateKey's and ReplicateKey's refusal of more than `maximumPerKey` tags (AWS's words).
    public static func checkCount(_ tags: [Tag]) throws(KMSError) {
        guard tags.count <= maximumPerKey else { throw KMSError(.tag, "Too many tags") }
    }

    /// Refuses tag keys AWS reserves (`aws:`), and duplicate keys in one request.
    public static func validate(_ tags: [Tag]) throws(KMSError) {
        var seen = Set<String>()
        for tag in tags {
            try checkNotReserved(tag.key)
            guard seen.insert(tag.key).inserted else {
                throw KMSError(.tag, "Duplicate tag keys")
            }
        }
    }

    /// Refuses a tag key AWS reserves (`aws:`): no request can set one, nor remove one.
    public static func checkNotReserved(_ key: String) throws(KMSError) {
        if key.lowercased().hasPrefix("aws:") { throw KMSError(.tag, "Tags beginning with aws: are reserved") }
    }
}
