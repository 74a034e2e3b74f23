/// Builds and parses the names AWS KMS gives its resources: key IDs, key ARNs,
/// alias names and alias ARNs.
public enum ResourceName {
    /// The AWS partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`).
    public static func partition(region: String) -> String {
        if region.hasPrefix("cn-") { return "aws-cn" }
        if region.hasPrefix("us-gov-") { return "aws-us-gov" }
        return "aws"
    }

    /// Whether AWS offers the SM2 key spec in `region`: only in China Regions.
    public static func offersSM2(region: String) -> Bool {
        partition(region: region) == "aws-cn"
    }

    public static func keyARN(region: String, account: String, keyID: String) -> String {
        "arn:\(partition(region: region)):kms:\(region):\(account):key/\(keyID)"
    }

    /// - Parameter aliasName: the full alias name, `alias/...`.
    public static func aliasARN(region: String, account: String, aliasName: String) -> String {
        "arn:\(partition(region: region)):kms:\(region):\(account):\(aliasName)"
    }

    /// The account of an AWS resource's ARN as a SourceArn names it (`arn:PARTITION:SERVICE:
    /// REGION:ACCOUNT:RESOURCE`, the model's `GrantConstraintSourceArnType`: 20–512
    /// characters, a 12-digit account, a resource); nil when `arn` is not one.
    public static func accountOfSourceARN(_ arn: String) -> String? {
        guard (20...512).contains(arn.utf16.count) else { return nil }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        func isLowerAlphanumeric(_ text: Substring) -> Bool {
            text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
        }
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), isLowerAlphanumeric(parts[1]),
            !parts[2].isEmpty, isLowerAlphanumeric(parts[2]), isLowerAlphanumeric(parts[3]),
            parts[4].utf8.count == 12, parts[4].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            !parts[5].isEmpty, !parts[5].contains(where: \.isNewline)
        else { return nil }
        return String(parts[4])
    }

    /// True for the forms AWS issues: a lowercase UUID, or `mrk-` and 32 lowercase hex digits.
    /// Grant IDs are 64 lowercase hex digits.
    public static func isWellFormedGrantID(_ id: String) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    public static func isWellFormedKeyID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        func isHex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) }
        if id.hasPrefix("mrk-") { return bytes.count == 36 && bytes.dropFirst(4).allSatisfy(isHex) }
        guard bytes.count == 36 else { return false }
        for (i, b) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) { if b != UInt8(ascii: "-") { return false } } else if !isHex(b) { return false }
        }
        return true
    }
}

/// How a request names a KMS key: by key ID, key ARN, alias name or alias ARN.
public enum KeyReference: Sendable, Equatable {
    case keyID(String)
    case keyARN(region: String, account: String, keyID: String)
    case aliasName(String)
    case aliasARN(region: String, account: String, aliasName: String)

    /// Parses a `KeyId` member. An `arn:` string that is not a well-formed KMS key or alias
    /// ARN is an `InvalidArnException`; anything else not an alias is taken as a key ID.
    public static func parse(_ text: String) throws(KMSError) -> KeyReference {
        if text.hasPrefix("arn:") {
            let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 6, parts[1].hasPrefix("aws"), parts[2] == "kms", !parts[3].isEmpty,
                parts[4].count == 12, parts[4].allSatisfy(\.isASCII), parts[4].allSatisfy(\.isNumber)
            else { throw KMSError(.invalidArn, "Invalid arn \(text)") }
            let resource = parts[5]
            if resource.hasPrefix("key/"), resource.count > 4 {
                return .keyARN(region: parts[3], account: parts[4], keyID: String(resource.dropFirst(4)))
            }
            if resource.hasPrefix("alias/"), resource.count > 6 {
                return .aliasARN(region: parts[3], account: parts[4], aliasName: resource)
            }
            throw KMSError(.invalidArn, "Invalid arn \(text)")
        }
        if text.hasPrefix("alias/") { return .aliasName(text) }
        return .keyID(text)
    }

    public var isAlias: Bool {
        switch self {
        case .aliasName, .aliasARN: true
        case .keyID, .keyARN: false
        }
    }
}
