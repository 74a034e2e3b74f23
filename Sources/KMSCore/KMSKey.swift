import Foundation

/// A KMS key's metadata and lifecycle state. Holds no key material.
public struct KMSKey: Sendable, Equatable {
    public var id: String
    public var account: String
    public var region: String
    public var creationDate: Date
    public var description: String
    public var usage: KeyUsage
    public var spec: KeySpec
    public var origin: KeyOrigin
    public var state: KeyState
    /// Set while the key is `PendingDeletion`: when the background job deletes it.
    public var deletionDate: Date?
    public var pendingWindowInDays: Int?
    /// The key policy document (JSON text).
    public var policy: String
    /// The material version new ciphertexts are made with.
    public var currentMaterialVersion: UInt32
    /// Set while automatic rotation is enabled.
    public var automaticRotation: AutomaticRotation?
    /// When imported material expires (`ValidTo`); nil when it does not, or none is imported.
    public var materialValidTo: Date?
    /// The region of the primary key of a multi-Region key (this key's own region when it is
    /// the primary); nil for a single-Region key.
    public var primaryRegion: String?
    /// `AWS` for an AWS managed key (alias `alias/aws/SERVICE`, made for a service); customers
    /// view and use those only through the service, and cannot change them.
    public var keyManager: KeyManager
    /// The custom key store holding the key's material (`AWS_CLOUDHSM` or `EXTERNAL_KEY_STORE`
    /// origin); nil for other keys.
    public var customKeyStoreID: String?
    /// `EXTERNAL_KEY_STORE` keys: the ID of the external key in the store's XKS proxy (`XksKeyId`).
    public var xksKeyID: String?
    /// Not stored: whether the key's custom key store is connected, as the service found it when
    /// it read the key. A key of a store that is not is `Unavailable` (see `displayedState`).
    public var customKeyStoreConnected = true
    /// Incremented by every change; storage refuses a write based on a stale revision.
    public var revision: Int64

    public init(
        id: String, account: String, region: String, creationDate: Date, description: String,
        usage: KeyUsage, spec: KeySpec, origin: KeyOrigin, state: KeyState,
        deletionDate: Date? = nil, pendingWindowInDays: Int? = nil, policy: String,
        currentMaterialVersion: UInt32 = 1, automaticRotation: AutomaticRotation? = nil, materialValidTo: Date? = nil, primaryRegion: String? = nil,
        keyManager: KeyManager = .customer, customKeyStoreID: String? = nil, xksKeyID: String? = nil, revision: Int64 = 0
    ) {
        self.customKeyStoreID = customKeyStoreID
        self.xksKeyID = xksKeyID
        self.id = id
        self.account = account
        self.region = region
        self.creationDate = creationDate
        self.description = description
        self.usage = usage
        self.spec = spec
        self.origin = origin
        self.state = state
        self.deletionDate = deletionDate
        self.pendingWindowInDays = pendingWindowInDays
        self.policy = policy
        self.currentMaterialVersion = currentMaterialVersion
        self.automaticRotation = automaticRotation
        self.materialValidTo = materialValidTo
        self.primaryRegion = primaryRegion
        self.keyManager = keyManager
        self.revision = revision
    }

    public var arn: String { ResourceName.keyARN(region: region, account: account, keyID: id) }

    /// `ExpirationModel` of a key with imported material (`EXTERNAL`) while it has some: nil
    /// before the first import, after DeleteImportedKeyMaterial, and for other keys (as AWS).
    public var expirationModel: ExpirationModel? {
        origin == .external && state != .pendingImport && currentMaterialVersion > 0 ? ExpirationModel(validTo: materialValidTo) : nil
    }
    public var enabled: Bool { state == .enabled }

    /// The state AWS reports and checks: `Unavailable` for an enabled or disabled key whose custom
    /// key store is not connected; the stored state otherwise. Never stored itself: the key comes
    /// back as it was when its store reconnects.
    public var displayedState: KeyState {
        customKeyStoreConnected || (state != .enabled && state != .disabled) ? state : .unavailable
    }

    /// Whether this is a primary or replica of a multi-Region key (key ID `mrk-…`).
    public var isMultiRegion: Bool { primaryRegion != nil }
    /// A multi-Region key's role: the one key of its set that can be replicated and rotated.
    public var isPrimary: Bool { primaryRegion == region }
    public var isReplica: Bool { primaryRegion != nil && primaryRegion != region }
    /// `MultiRegionKeyType`: `PRIMARY` or `REPLICA`; nil for a single-Region key.
    public var multiRegionKeyType: String? {
        guard isMultiRegion else { return nil }
        return isPrimary ? "PRIMARY" : "REPLICA"
    }

    /// The algorithms DescribeKey reports for this key.
    public var encryptionAlgorithms: [EncryptionAlgorithm] {
        guard usage == .encryptDecrypt else { return [] }
        return switch spec {
        case .symmetricDefault: [.symmetricDefault]
        case .rsa2048, .rsa3072, .rsa4096: [.rsaesOaepSha1, .rsaesOaepSha256]
        case .sm2: [.sm2pke]
        default: []
        }
    }

    /// The signing algorithms DescribeKey and GetPublicKey report for this key.
    public var signingAlgorithms: [SigningAlgorithm] {
        guard usage == .signVerify else { return [] }
        switch spec {
        case .rsa2048, .rsa3072, .rsa4096:
            return [.rsassaPSSSHA256, .rsassaPSSSHA384, .rsassaPSSSHA512, .rsassaPKCS1SHA256, .rsassaPKCS1SHA384, .rsassaPKCS1SHA512]
        case .eccNistP256, .eccSecgP256k1: return [.ecdsaSHA256]
        case .eccNistP384: return [.ecdsaSHA384]
        case .eccNistP521: return [.ecdsaSHA512]
        case .eccNistEdwards25519: return [.ed25519SHA512, .ed25519PHSHA512]
        case .mlDsa44, .mlDsa65, .mlDsa87: return [.mlDSASHAKE256]
        case .sm2: return [.sm2DSA]
        default: return []
        }
    }

    /// The key agreement algorithms DescribeKey and GetPublicKey report for this key.
    public var keyAgreementAlgorithms: [KeyAgreementAlgorithm] {
        usage == .keyAgreement ? [.ecdh] : []
    }

    /// The MAC algorithms DescribeKey reports for this key (HMAC keys only).
    public var macAlgorithms: [MacAlgorithm] {
        spec.macAlgorithm.map { [$0] } ?? []
    }
}

/// Who manages a key (`KeyManager`).
public enum KeyManager: String, Sendable, Codable {
    case customer = "CUSTOMER"
    case aws = "AWS"
}

/// Automatic rotation of a key's material: every `periodInDays`, next at `nextDate`.
public struct AutomaticRotation: Sendable, Equatable {
    /// 90–2560 days (AWS's range; default 365).
    public var periodInDays: Int
    public var nextDate: Date

    public init(periodInDays: Int, nextDate: Date) {
        self.periodInDays = periodInDays
        self.nextDate = nextDate
    }

    public static let defaultPeriodInDays = 365
    public static let periodRange = 90...2560
}

/// How a version of key material after the first came to be (`RotationType`).
public enum RotationType: String, Sendable, Codable {
    case automatic = "AUTOMATIC"
    case onDemand = "ON_DEMAND"
}

/// The parameters GetParametersForImport handed out: a wrapping key pair (its private half
/// wrapped under the root key) and what it may import, until `validTo`.
public struct ImportParameters: Sendable, Equatable {
    /// 64 hex characters; the import token carries it.
    public var id: String
    public var keyID: String
    /// The region of the key (replicas of a multi-Region key share its ID).
    public var region: String
    public var algorithm: ImportWrappingAlgorithm
    /// The wrapping private key, DER PKCS#8, wrapped by the root key (bound to `id`).
    public var wrappedPrivateKey: [UInt8]
    public var validTo: Date

    public init(id: String, keyID: String, region: String, algorithm: ImportWrappingAlgorithm, wrappedPrivateKey: [UInt8], validTo: Date) {
        self.id = id
        self.keyID = keyID
        self.region = region
        self.algorithm = algorithm
        self.wrappedPrivateKey = wrappedPrivateKey
        self.validTo = validTo
    }

    /// The binding under which the private key is wrapped (never a key ARN).
    public var wrappingBinding: String { "import-parameters:\(id)" }
}
