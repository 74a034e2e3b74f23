import COpenSSL
import Foundation

/// `WrappingAlgorithm` of a GetParametersForImport request (`AlgorithmSpec`): every value the
/// model allows, including the two this server refuses.
public enum WrappingAlgorithmSpec: String, Sendable, CaseIterable, Codable {
    case rsaesPKCS1V15 = "RSAES_PKCS1_V1_5"
    case rsaesOAEPSHA1 = "RSAES_OAEP_SHA_1"
    case rsaesOAEPSHA256 = "RSAES_OAEP_SHA_256"
    case rsaAESKeyWrapSHA1 = "RSA_AES_KEY_WRAP_SHA_1"
    case rsaAESKeyWrapSHA256 = "RSA_AES_KEY_WRAP_SHA_256"
    case sm2pke = "SM2PKE"

    /// The algorithm import parameters are made for; nil for the two refused.
    public var supported: ImportWrappingAlgorithm? { ImportWrappingAlgorithm(rawValue: rawValue) }
}

/// `WrappingKeySpec` of GetParametersForImport.
public enum WrappingKeySpec: String, Sendable, CaseIterable, Codable {
    case rsa2048 = "RSA_2048", rsa3072 = "RSA_3072", rsa4096 = "RSA_4096", sm2 = "SM2"

    /// The RSA key spec of the wrapping key; nil for SM2 (China Regions), which is not offered.
    public var rsaKeySpec: KeySpec? {
        switch self {
        case .rsa2048: .rsa2048
        case .rsa3072: .rsa3072
        case .rsa4096: .rsa4096
        case .sm2: nil
        }
    }
}

/// `ExpirationModel` of imported key material.
public enum ExpirationModel: String, Sendable, CaseIterable, Codable {
    case expires = "KEY_MATERIAL_EXPIRES"
    case doesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE"

    /// The model of material that expires at `validTo` (or never, when nil).
    public init(validTo: Date?) { self = validTo == nil ? .doesNotExpire : .expires }
}

/// `ImportType` of ImportKeyMaterial.
public enum ImportType: String, Sendable, CaseIterable, Codable {
    /// Material the key has not had: its first, or the next version (`PENDING_ROTATION`).
    case newKeyMaterial = "NEW_KEY_MATERIAL"
    /// Material imported before, again (after expiry or deletion, into a replica, or to
    /// change its expiry).
    case existingKeyMaterial = "EXISTING_KEY_MATERIAL"
}

/// The wrapping algorithms import parameters are made for. `RSAES_PKCS1_V1_5` is refused, as
/// AWS has refused it since October 2023; `SM2PKE` (China Regions) is not offered.
public enum ImportWrappingAlgorithm: String, Sendable, Codable {
    case rsaesOAEPSHA1 = "RSAES_OAEP_SHA_1"
    case rsaesOAEPSHA256 = "RSAES_OAEP_SHA_256"
    case rsaAESKeyWrapSHA1 = "RSA_AES_KEY_WRAP_SHA_1"
    case rsaAESKeyWrapSHA256 = "RSA_AES_KEY_WRAP_SHA_256"

    var oaep: EncryptionAlgorithm {
        switch self {
        case .rsaesOAEPSHA1, .rsaAESKeyWrapSHA1: .rsaesOaepSha1
        case .rsaesOAEPSHA256, .rsaAESKeyWrapSHA256: .rsaesOaepSha256
        }
    }

    /// RSA_AES: an ephemeral AES key under RSA-OAEP, then the material under that key with
    /// AES key wrap with padding (RFC 5649).
    var wrapsWithAES: Bool { self == .rsaAESKeyWrapSHA1 || self == .rsaAESKeyWrapSHA256 }
}

/// Key material a caller imports: unwrapped with the import's private wrapping key, then
/// checked against the KMS key's spec.
public enum ImportedKeyMaterial {
    /// The plaintext material of `encrypted`; nil when it does not unwrap (the caller answers
    /// `InvalidCiphertextException`, saying nothing more).
    public static func unwrap(_ encrypted: [UInt8], with wrappingKey: AsymmetricKeyMaterial, algorithm: ImportWrappingAlgorithm) -> [UInt8]? {
        guard !algorithm.wrapsWithAES else {
            guard let modulusBytes = try? Int(wrappingKey.keyPair.bits + 7) / 8, encrypted.count > modulusBytes,
                var aesKey = try? wrappingKey.decrypt(Array(encrypted[..<modulusBytes]), algorithm: algorithm.oaep)
            else { return nil }
            defer { Zeroize.wipe(&aesKey) }  // the ephemeral key that wrapped the material
            guard [16, 24, 32].contains(aesKey.count) else { return nil }
            return AESKeyWrap.unwrapWithPadding(Array(encrypted[modulusBytes...]), key: aesKey)
        }
        return try? wrappingKey.decrypt(encrypted, algorithm: algorithm.oaep)
    }

    /// `material` as the key material of a key of `spec`: 32 bytes for SYMMETRIC_DEFAULT; for
    /// HMAC keys a length AWS accepts for the spec; for asymmetric keys a DER PKCS#8 private
    /// key of exactly that spec. Anything else is `IncorrectKeyMaterialException`.
    public static func validated(_ material: [UInt8], for spec: KeySpec) throws(KMSError) -> any KeyMaterial {
        let incorrect = KMSError(.incorrectKeyMaterial, "The key material does not fit the KMS key's key spec \(spec.rawValue).")
        if spec == .symmetricDefault {
            guard material.count == 32 else { throw incorrect }
            return try SymmetricKeyMaterial(unsafeRawBytes: material)
        }
        if let algorithm = spec.macAlgorithm {
            guard hmacLengths(algorithm).contains(material.count) else { throw incorrect }
            return try HMACKeyMaterial(unsafeRawBytes: material)
        }
        guard let key = try? AsymmetricKeyMaterial(unsafeRawBytes: material), key.spec == spec else { throw incorrect }
        return key
    }

    /// Key lengths AWS accepts for imported HMAC material: from the digest size up to the block size.
    public static func hmacLengths(_ algorithm: MacAlgorithm) -> ClosedRange<Int> {
        switch algorithm {
        case .hmacSHA224: 28...64
        case .hmacSHA256: 32...64
        case .hmacSHA384: 48...128
        case .hmacSHA512: 64...128
        }
    }
}

/// AES key wrap with padding (RFC 5649), through OpenSSL.
public enum AESKeyWrap {
    public static func unwrapWithPadding(_ wrapped: [UInt8], key: [UInt8]) -> [UInt8]? {
        run(wrapped, key: key, encrypt: false)
    }

    public static func wrapWithPadding(_ plaintext: [UInt8], key: [UInt8]) -> [UInt8]? {
        run(plaintext, key: key, encrypt: true)
    }

    private static func run(_ input: [UInt8], key: [UInt8], encrypt: Bool) -> [UInt8]? {
        let cipher: OpaquePointer? =
            switch key.count {
            case 16: EVP_aes_128_wrap_pad()
            case 24: EVP_aes_192_wrap_pad()
            case 32: EVP_aes_256_wrap_pad()
            default: nil
            }
        guard let cipher, !input.isEmpty, let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        EVP_CIPHER_CTX_set_flags(ctx, Int32(EVP_CIPHER_CTX_FLAG_WRAP_ALLOW))
        guard EVP_CipherInit_ex(ctx, cipher, nil, key, nil, encrypt ? 1 : 0) == 1 else { return nil }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var length: Int32 = 0
        guard EVP_CipherUpdate(ctx, &out, &length, input, Int32(input.count)) == 1, length >= 0 else {
            for i in out.indices { out[i] = 0 }
            return nil
        }
        var final: Int32 = 0
        let tail = Int(length)
        guard out.withUnsafeMutableBufferPointer({ EVP_CipherFinal_ex(ctx, $0.baseAddress! + tail, &final) }) == 1 else {
            for i in out.indices { out[i] = 0 }
            return nil
        }
        return Array(out[..<(tail + Int(final))])
    }
}

extension AsymmetricKeyMaterial {
    /// The key spec this private key is of; nil for a key no KMS spec describes (RSA of
    /// another size, another curve).
    public var spec: KeySpec? {
        if let spec = mlDSASpec { return spec }
        guard let keyPair = try? keyPair else { return nil }
        if keyPair.isSM2 { return .sm2 }
        switch keyPair.baseID {
        case EVP_PKEY_RSA:
            return switch keyPair.bits {
            case 2048: .rsa2048
            case 3072: .rsa3072
            case 4096: .rsa4096
            default: nil
            }
        case EVP_PKEY_ED25519: return .eccNistEdwards25519
        case EVP_PKEY_EC:
            return switch keyPair.curve {
            case NID_X9_62_prime256v1: .eccNistP256
            case NID_secp384r1: .eccNistP384
            case NID_secp521r1: .eccNistP521
            case NID_secp256k1: .eccSecgP256k1
            default: nil
            }
        default: return nil
        }
    }
}
