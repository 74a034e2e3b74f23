import Foundation

/// The operations a grant can allow, as the model's `GrantOperation` names them.
public enum GrantOperation: String, Sendable, CaseIterable, Codable {
    case decrypt = "Decrypt", encrypt = "Encrypt", generateDataKey = "GenerateDataKey"
    case generateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext"
    case reEncryptFrom = "ReEncryptFrom", reEncryptTo = "ReEncryptTo"
    case sign = "Sign", verify = "Verify", getPublicKey = "GetPublicKey"
    case createGrant = "CreateGrant", retireGrant = "RetireGrant", describeKey = "DescribeKey"
    case generateDataKeyPair = "GenerateDataKeyPair", generateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext"
    case generateMac = "GenerateMac", verifyMac = "VerifyMac", deriveSharedSecret = "DeriveSharedSecret"

    /// Whether a key of this usage and spec supports the operation (CreateGrant refuses the rest).
    public func isSupported(by key: KMSKey) -> Bool {
        switch self {
        case .createGrant, .retireGrant, .describeKey: true
        case .generateDataKey, .generateDataKeyWithoutPlaintext, .generateDataKeyPair, .generateDataKeyPairWithoutPlaintext:
            key.spec == .symmetricDefault
        case .encrypt, .decrypt, .reEncryptFrom, .reEncryptTo: key.usage == .encryptDecrypt
        case .sign, .verify: key.usage == .signVerify
        case .getPublicKey: key.spec != .symmetricDefault && key.spec.macAlgorithm == nil
        case .generateMac, .verifyMac: key.usage == .generateVerifyMac
        case .deriveSharedSecret: key.usage == .keyAgreement
        }
    }

    /// Operations whose requests carry an encryption context, to which constraints apply.
    public var takesEncryptionContext: Bool {
        switch self {
        case .decrypt, .encrypt, .generateDataKey, .generateDataKeyWithoutPlaintext, .reEncryptFrom, .reEncryptTo,
            .generateDataKeyPair, .generateDataKeyPairWithoutPlaintext, .createGrant:
            true
        default: false
        }
    }
}

/// A grant's encryption context constraint: the request's context must equal, or include,
/// the given pairs. At most one of the two is set in practice; both hold when both are.
public struct GrantConstraints: Sendable, Equatable, Codable {
    public var encryptionContextEquals: [String: String]?
    public var encryptionContextSubset: [String: String]?

    public init(encryptionContextEquals: [String: String]? = nil, encryptionContextSubset: [String: String]? = nil) {
        self.encryptionContextEquals = encryptionContextEquals
        self.encryptionContextSubset = encryptionContextSubset
    }

    /// As AWS compares them: context keys case-insensitively, values exactly; both as bytes,
    /// never by canonical equivalence (`café` composed is not `cafe` and a combining accent).
    public func allow(_ context: EncryptionContext) -> Bool {
        let request = context.pairs.map { (key: Array($0.key.lowercased().utf8), value: $0.value) }
        func contains(_ pairs: [String: String]) -> Bool {
            pairs.allSatisfy { pair in
                let key = Array(pair.key.lowercased().utf8)
                return request.contains { $0.key == key && $0.value.bytewiseEquals(pair.value) }
            }
        }
        if let equals = encryptionContextEquals, equals.count != context.pairs.count || !contains(equals) { return false }
        if let subset = encryptionContextSubset, !contains(subset) { return false }
        return true
    }

    /// Whether every context these constraints allow is one `parent` allows too (a grant made
    /// through a grant must be at least as strict as its parent).
    public func isAtLeastAsStrict(as parent: GrantConstraints) -> Bool {
        // The pairs every allowed context is known to contain, and whether it is exactly that.
        let required = Self.bytes((encryptionContextSubset ?? [:]).merging(encryptionContextEquals ?? [:]) { a, _ in a })
        if let equals = parent.encryptionContextEquals {
            guard let mine = encryptionContextEquals, Self.bytes(mine) == Self.bytes(equals) else { return false }
        }
        if let subset = parent.encryptionContextSubset {
            guard Self.bytes(subset).allSatisfy({ required[$0.key] == $0.value }) else { return false }
        }
        return true
    }

    /// The pairs as bytes, so that comparing them is exact (see `String.bytewiseEquals`).
    private static func bytes(_ pairs: [String: String]) -> [[UInt8]: [UInt8]] {
        Dictionary(pairs.map { (Array($0.key.utf8), Array($0.value.utf8)) }, uniquingKeysWith: { a, _ in a })
    }

    public var isEmpty: Bool { encryptionContextEquals == nil && encryptionContextSubset == nil }
}

/// A grant on a KMS key: lets `granteePrincipal` perform `operations` on the key while the
/// constraints hold, until it is retired or revoked.
public struct Grant: Sendable, Equatable {
    public var id: String
    public var keyID: String
    /// The account and region of the key (grants live with their key).
    public var keyARN: String
    public var name: String?
    /// A principal ARN (`arn:aws:iam::ACCOUNT:user/NAME`, `…:root`) or a service principal name.
    public var granteePrincipal: String
    public var retiringPrincipal: String?
    public var operations: [GrantOperation]
    public var constraints: GrantConstraints?
    /// The account root of the principal that created the grant.
    public var issuingAccount: String
    public var creationDate: Date

    public init(
        id: String, keyID: String, keyARN: String, name: String?, granteePrincipal: String, retiringPrincipal: String?,
        operations: [GrantOperation], constraints: GrantConstraints?, issuingAccount: String, creationDate: Date
    ) {
        self.id = id
        self.keyID = keyID
        self.keyARN = keyARN
        self.name = name
        self.granteePrincipal = granteePrincipal
        self.retiringPrincipal = retiringPrincipal
        self.operations = operations
        self.constraints = constraints
        self.issuingAccount = issuingAccount
        self.creationDate = creationDate
    }

    /// The region of the key (from `keyARN`, which is always a key ARN).
    public var keyRegion: String {
        guard case .keyARN(let region, _, _)? = try? KeyReference.parse(keyARN) else { return "" }
        return region
    }

    /// Whether the grant lets it perform `operation` with `context` (for operations that take one).
    public func allows(_ operation: GrantOperation, context: EncryptionContext?) -> Bool {
        guard operations.contains(operation) else { return false }
        guard let constraints, operation.takesEncryptionContext, operation != .createGrant else { return true }
        return constraints.allow(context ?? EncryptionContext())
    }
}
