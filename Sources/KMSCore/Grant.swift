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

/// A grant's constraints. The encryption context ones: the request's context must equal, or
/// include, the given pairs (at most one of the two is set in practice; both hold when both
/// are). `sourceArn`: the request must be made on behalf of that AWS resource
/// (`RequestContext.sourceArn`, what `aws:SourceArn` is in a policy).
public struct GrantConstraints: Sendable, Equatable, Codable {
    public var encryptionContextEquals: [String: String]?
    public var encryptionContextSubset: [String: String]?
    public var sourceArn: String?

    public init(encryptionContextEquals: [String: String]? = nil, encryptionContextSubset: [String: String]? = nil, sourceArn: String? = nil) {
        self.encryptionContextEquals = encryptionContextEquals
        self.encryptionContextSubset = encryptionContextSubset
        self.sourceArn = sourceArn
    }

    /// `kms:GrantConstraintType`: the constraints present, as AWS names them.
    public var types: [String] {
        (encryptionContextEquals != nil ? ["EncryptionContextEquals"] : []) + (encryptionContextSubset != nil ? ["EncryptionContextSubset"] : [])
            + (sourceArn != nil ? ["SourceArn"] : [])
    }

    public var constrainsEncryptionContext: Bool { encryptionContextEquals != nil || encryptionContextSubset != nil }

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
        if let source = parent.sourceArn, sourceArn.map({ $0.bytewiseEquals(source) }) != true { return false }
        return true
    }

    /// The pairs as bytes, so that comparing them is exact (see `String.bytewiseEquals`).
    private static func bytes(_ pairs: [String: String]) -> [[UInt8]: [UInt8]] {
        Dictionary(pairs.map { (Array($0.key.utf8), Array($0.value.utf8)) }, uniquingKeysWith: { a, _ in a })
    }

    public var isEmpty: Bool { !constrainsEncryptionContext && sourceArn == nil }
}

/// A grant on a KMS key: lets `granteePrincipal` perform `operations` on the key while the
/// constraints hold, until it is retired or revoked.
///
/// A grantee (or retiring principal) named by `GranteeServicePrincipal` (`…ServicePrincipal`
/// flags) is an AWS service acting for itself: only that service principal's own requests,
/// not those it forwards for a caller, match it. One named by `GranteePrincipal` with a
/// service principal's name (as AWS allowed before) matches it the same way it always did.
public struct Grant: Sendable, Equatable {
    public var id: String
    public var keyID: String
    /// The account and region of the key (grants live with their key).
    public var keyARN: String
    public var name: String?
    /// A principal ARN (`arn:aws:iam::ACCOUNT:user/NAME`, `…:root`) or a service principal name.
    public var granteePrincipal: String
    public var retiringPrincipal: String?
    /// The grantee was given as `GranteeServicePrincipal`.
    public var granteeIsServicePrincipal: Bool
    /// The retiring principal was given as `RetiringServicePrincipal`.
    public var retiringIsServicePrincipal: Bool
    public var operations: [GrantOperation]
    public var constraints: GrantConstraints?
    /// The account root of the principal that created the grant.
    public var issuingAccount: String
    public var creationDate: Date

    public init(
        id: String, keyID: String, keyARN: String, name: String?, granteePrincipal: String, retiringPrincipal: String?,
        operations: [GrantOperation], constraints: GrantConstraints?, issuingAccount: String, creationDate: Date,
        granteeIsServicePrincipal: Bool = false, retiringIsServicePrincipal: Bool = false
    ) {
        self.id = id
        self.keyID = keyID
        self.keyARN = keyARN
        self.name = name
        self.granteePrincipal = granteePrincipal
        self.retiringPrincipal = retiringPrincipal
        self.granteeIsServicePrincipal = granteeIsServicePrincipal
        self.retiringIsServicePrincipal = retiringIsServicePrincipal
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

    /// The account of the key (from `keyARN`).
    public var keyAccount: String {
        guard case .keyARN(_, let account, _)? = try? KeyReference.parse(keyARN) else { return "" }
        return account
    }

    /// Whether the grant lets its grantee perform `operation` with `context` (for operations
    /// that take one) on behalf of `sourceArn`. A SourceArn constraint holds for every
    /// operation but RetireGrant; CreateGrant's encryption context is checked on the grant
    /// asked for instead (`GrantConstraints.isAtLeastAsStrict`).
    public func allows(_ operation: GrantOperation, context: EncryptionContext?, sourceArn: String?) -> Bool {
        guard operations.contains(operation) else { return false }
        guard let constraints else { return true }
        if let required = constraints.sourceArn, operation != .retireGrant, sourceArn.map({ $0.bytewiseEquals(required) }) != true {
            return false
        }
        guard operation.takesEncryptionContext, operation != .createGrant else { return true }
        return constraints.allow(context ?? EncryptionContext())
    }
}
