/// The type of a KMS key's material, as AWS names it (`KeySpec`).
public enum KeySpec: String, Sendable, CaseIterable, Codable {
    case symmetricDefault = "SYMMETRIC_DEFAULT"
    case rsa2048 = "RSA_2048", rsa3072 = "RSA_3072", rsa4096 = "RSA_4096"
    case eccNistP256 = "ECC_NIST_P256", eccNistP384 = "ECC_NIST_P384", eccNistP521 = "ECC_NIST_P521"
    case eccSecgP256k1 = "ECC_SECG_P256K1"
    case eccNistEdwards25519 = "ECC_NIST_EDWARDS25519"
    case hmac224 = "HMAC_224", hmac256 = "HMAC_256", hmac384 = "HMAC_384", hmac512 = "HMAC_512"
    case sm2 = "SM2"
    case mlDsa44 = "ML_DSA_44", mlDsa65 = "ML_DSA_65", mlDsa87 = "ML_DSA_87"

    /// The one MAC algorithm of an HMAC key spec; nil for other specs.
    public var macAlgorithm: MacAlgorithm? {
        switch self {
        case .hmac224: .hmacSHA224
        case .hmac256: .hmacSHA256
        case .hmac384: .hmacSHA384
        case .hmac512: .hmacSHA512
        default: nil
        }
    }

    /// Key usages AWS allows for this spec.
    public var allowedUsages: [KeyUsage] {
        switch self {
        case .symmetricDefault: [.encryptDecrypt]
        case .rsa2048, .rsa3072, .rsa4096: [.encryptDecrypt, .signVerify]
        case .eccNistP256, .eccNistP384, .eccNistP521: [.signVerify, .keyAgreement]
        case .eccSecgP256k1, .eccNistEdwards25519, .mlDsa44, .mlDsa65, .mlDsa87: [.signVerify]
        case .hmac224, .hmac256, .hmac384, .hmac512: [.generateVerifyMac]
        case .sm2: [.signVerify, .encryptDecrypt, .keyAgreement]
        }
    }
}

/// What a KMS key may be used for (`KeyUsage`).
public enum KeyUsage: String, Sendable, CaseIterable, Codable {
    case encryptDecrypt = "ENCRYPT_DECRYPT"
    case signVerify = "SIGN_VERIFY"
    case generateVerifyMac = "GENERATE_VERIFY_MAC"
    case keyAgreement = "KEY_AGREEMENT"
}

/// Where a key's material came from (`Origin`).
public enum KeyOrigin: String, Sendable, CaseIterable, Codable {
    case awsKMS = "AWS_KMS"
    case external = "EXTERNAL"
    case awsCloudHSM = "AWS_CLOUDHSM"
    case externalKeyStore = "EXTERNAL_KEY_STORE"
}

/// A key's lifecycle state (`KeyState`).
public enum KeyState: String, Sendable, CaseIterable, Codable {
    case creating = "Creating"
    case enabled = "Enabled"
    case disabled = "Disabled"
    case pendingDeletion = "PendingDeletion"
    case pendingImport = "PendingImport"
    case pendingReplicaDeletion = "PendingReplicaDeletion"
    case unavailable = "Unavailable"
    case updating = "Updating"
}

/// Symmetric or public-key encryption algorithm (`EncryptionAlgorithmSpec`).
public enum EncryptionAlgorithm: String, Sendable, CaseIterable, Codable {
    case symmetricDefault = "SYMMETRIC_DEFAULT"
    case rsaesOaepSha1 = "RSAES_OAEP_SHA_1"
    case rsaesOaepSha256 = "RSAES_OAEP_SHA_256"
    case sm2pke = "SM2PKE"
}

/// Length of a generated data key (`DataKeySpec`).
public enum DataKeySpec: String, Sendable, CaseIterable, Codable {
    case aes256 = "AES_256"
    case aes128 = "AES_128"

    public var byteCount: Int { self == .aes256 ? 32 : 16 }
}
