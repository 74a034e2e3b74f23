/// A signing algorithm (`SigningAlgorithmSpec`).
public enum SigningAlgorithm: String, Sendable, CaseIterable, Codable {
    case rsassaPSSSHA256 = "RSASSA_PSS_SHA_256"
    case rsassaPSSSHA384 = "RSASSA_PSS_SHA_384"
    case rsassaPSSSHA512 = "RSASSA_PSS_SHA_512"
    case rsassaPKCS1SHA256 = "RSASSA_PKCS1_V1_5_SHA_256"
    case rsassaPKCS1SHA384 = "RSASSA_PKCS1_V1_5_SHA_384"
    case rsassaPKCS1SHA512 = "RSASSA_PKCS1_V1_5_SHA_512"
    case ecdsaSHA256 = "ECDSA_SHA_256"
    case ecdsaSHA384 = "ECDSA_SHA_384"
    case ecdsaSHA512 = "ECDSA_SHA_512"
    case ed25519SHA512 = "ED25519_SHA_512"
    case ed25519PHSHA512 = "ED25519_PH_SHA_512"
    case mlDSASHAKE256 = "ML_DSA_SHAKE_256"
    case sm2DSA = "SM2DSA"

    /// The hash a RAW message is digested with, and whose length a DIGEST must have.
    var hash: HashAlgorithm? {
        switch self {
        case .rsassaPSSSHA256, .rsassaPKCS1SHA256, .ecdsaSHA256: .sha256
        case .rsassaPSSSHA384, .rsassaPKCS1SHA384, .ecdsaSHA384: .sha384
        case .rsassaPSSSHA512, .rsassaPKCS1SHA512, .ecdsaSHA512, .ed25519PHSHA512: .sha512
        case .sm2DSA: .sm3
        case .ed25519SHA512, .mlDSASHAKE256: nil
        }
    }
}

/// How Sign and Verify read `Message` (`MessageType`).
public enum MessageType: String, Sendable, CaseIterable, Codable {
    /// The message itself (up to 4096 bytes), hashed by the service.
    case raw = "RAW"
    /// A digest made by the caller with the algorithm's hash; signed as it is.
    case digest = "DIGEST"
    /// ML-DSA's external mu (64 bytes).
    case externalMu = "EXTERNAL_MU"
}

/// A key agreement algorithm (`KeyAgreementAlgorithmSpec`).
public enum KeyAgreementAlgorithm: String, Sendable, CaseIterable, Codable {
    case ecdh = "ECDH"
}
