import COpenSSL
import Foundation

/// The private key of an asymmetric KMS key (RSA, NIST and secp256k1 curves, Ed25519, SM2
/// through OpenSSL; ML-DSA through swift-crypto's BoringSSL), stored as DER PKCS#8 wrapped under the root
/// key. The private key never leaves it except through `withUnsafeRawBytes`, for wrapping.
public struct AsymmetricKeyMaterial: KeyMaterial {
    private let backend: Backend

    private enum Backend: Sendable {
        case openSSL(OpenSSLKeyPair)
        case mlDSA(MLDSAKey)
    }

    /// The key specs this type generates.
    public static let specs: Set<KeySpec> = [
        .rsa2048, .rsa3072, .rsa4096, .eccNistP256, .eccNistP384, .eccNistP521, .eccSecgP256k1, .eccNistEdwards25519, .sm2, .mlDsa44, .mlDsa65,
        .mlDsa87,
    ]

    /// The OpenSSL key pair; `KMSInternalException` for an ML-DSA key (callers check usage first).
    var keyPair: OpenSSLKeyPair {
        get throws(KMSError) {
            guard case .openSSL(let keyPair) = backend else { throw KMSError.internalFailure() }
            return keyPair
        }
    }

    /// The half that verifies.
    private var publicKey: PublicKeyDER.Key {
        switch backend {
        case .openSSL(let keyPair): .openSSL(keyPair)
        case .mlDSA(let key): .mlDSA(key.publicKey)
        }
    }

    public static func generate(_ spec: KeySpec) throws(KMSError) -> AsymmetricKeyMaterial {
        if MLDSAKey.specs.contains(spec) { return AsymmetricKeyMaterial(backend: .mlDSA(try .generate(spec))) }
        let kind: OpenSSLKeyPair.Kind
        switch spec {
        case .rsa2048: kind = .rsa(bits: 2048)
        case .rsa3072: kind = .rsa(bits: 3072)
        case .rsa4096: kind = .rsa(bits: 4096)
        case .eccNistP256: kind = .ec(curve: NID_X9_62_prime256v1)
        case .eccNistP384: kind = .ec(curve: NID_secp384r1)
        case .eccNistP521: kind = .ec(curve: NID_secp521r1)
        case .eccSecgP256k1: kind = .ec(curve: NID_secp256k1)
        case .eccNistEdwards25519: kind = .ed25519
        case .sm2: kind = .sm2
        default: throw KMSError.internalFailure()
        }
        return AsymmetricKeyMaterial(keyPair: try .generate(kind))
    }

    init(keyPair: OpenSSLKeyPair) {
        backend = .openSSL(keyPair)
    }

    private init(backend: Backend) {
        self.backend = backend
    }

    /// The ML-DSA parameter set; nil for an OpenSSL key.
    var mlDSASpec: KeySpec? {
        if case .mlDSA(let key) = backend { key.spec } else { nil }
    }

    /// - Parameter bytes: DER PKCS#8.
    public init(unsafeRawBytes bytes: some ContiguousBytes) throws(KMSError) {
        let der = bytes.withUnsafeBytes { Array($0) }
        if let key = MLDSAKey(pkcs8: der) {
            backend = .mlDSA(key)
        } else {
            backend = .openSSL(try OpenSSLKeyPair(privateKeyDER: der))
        }
    }

    /// The private key as DER PKCS#8: for wrapping only.
    public func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        var der: [UInt8]
        switch backend {
        case .openSSL(let keyPair): der = try keyPair.pkcs8DER()
        case .mlDSA(let key): der = key.pkcs8
        }
        defer { for i in der.indices { der[i] = 0 } }
        return try der.withUnsafeBytes(body)
    }

    /// DER SubjectPublicKeyInfo.
    public func publicKeyDER() throws(KMSError) -> [UInt8] {
        switch backend {
        case .openSSL(let keyPair): try keyPair.spkiDER()
        case .mlDSA(let key): key.publicKey.spki
        }
    }

    // MARK: Signatures

    /// What an algorithm signs for a message of a MessageType, by AWS's rules: RAW is hashed
    /// with the algorithm's hash (EdDSA and ML-DSA take it whole; SM2DSA hashes Z and the
    /// message); DIGEST must have the hash's length and is signed as it is (Ed25519ph prehashes
    /// it again); EXTERNAL_MU is ML-DSA's 64-byte μ. Sign and Verify read it alike.
    enum SigningInput {
        /// Hashed, if at all, by the key's own scheme (PureEdDSA, ML-DSA, SM2DSA with Z).
        case whole([UInt8])
        case mlDSAMu([UInt8])
        case ed25519ph([UInt8])
        case digest([UInt8], HashAlgorithm)

        init(_ message: [UInt8], type: MessageType, algorithm: SigningAlgorithm) throws(KMSError) {
            switch (algorithm, type) {
            case (.ed25519SHA512, .raw), (.mlDSASHAKE256, .raw), (.sm2DSA, .raw): self = .whole(message)
            case (.mlDSASHAKE256, .externalMu):
                guard message.count == 64 else { throw KMSError.validation("Message of MessageType EXTERNAL_MU must be 64 bytes.") }
                self = .mlDSAMu(message)
            case (.ed25519PHSHA512, .digest): self = .ed25519ph(try Self.checkedDigest(message, algorithm))
            case (_, .digest) where ![.ed25519SHA512, .mlDSASHAKE256].contains(algorithm):
                self = .digest(try Self.checkedDigest(message, algorithm), try Self.hash(algorithm))
            case (_, .raw) where ![.ed25519PHSHA512].contains(algorithm):
                let hash = try Self.hash(algorithm)
                self = .digest(try hash.hash(message), hash)
            default:
                throw KMSError.validation("MessageType \(type.rawValue) is not supported with signing algorithm \(algorithm.rawValue).")
            }
        }

        private static func hash(_ algorithm: SigningAlgorithm) throws(KMSError) -> HashAlgorithm {
            guard let hash = algorithm.hash else { throw KMSError.internalFailure() }
            return hash
        }

        private static func checkedDigest(_ message: [UInt8], _ algorithm: SigningAlgorithm) throws(KMSError) -> [UInt8] {
            guard message.count == (try hash(algorithm)).byteCount else {
                throw KMSError.validation("Digest is invalid length for algorithm \(algorithm.rawValue).")
            }
            return message
        }
    }

    public func sign(_ message: [UInt8], type: MessageType, algorithm: SigningAlgorithm) throws(KMSError) -> [UInt8] {
        let input = try SigningInput(message, type: type, algorithm: algorithm)
        if case .mlDSA(let key) = backend {
            switch input {
            case .whole(let message): return try key.sign(message)
            case .mlDSAMu(let mu): return try key.sign(mu: mu)
            default: throw KMSError.internalFailure()
            }
        }
        let keyPair = try keyPair
        switch input {
        case .whole(let message): return try keyPair.sign(message: message)
        case .ed25519ph(let digest):
            var seed = try keyPair.rawPrivateKey()
            defer { for i in seed.indices { seed[i] = 0 } }
            return try Ed25519ph.sign(digest, seed: seed)
        case .digest(let digest, let hash):
            return try keyPair.sign(digest: digest, digestAlgorithm: hash.openSSL, rsaPadding: Self.padding(algorithm))
        case .mlDSAMu: throw KMSError.internalFailure()
        }
    }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8], type: MessageType, algorithm: SigningAlgorithm) throws(KMSError) -> Bool
    {
        try publicKey.isValidSignature(signature, for: message, type: type, algorithm: algorithm)
    }

    static func padding(_ algorithm: SigningAlgorithm) -> OpenSSLKeyPair.RSAPadding? {
        switch algorithm {
        case .rsassaPSSSHA256, .rsassaPSSSHA384, .rsassaPSSSHA512: .pss
        case .rsassaPKCS1SHA256, .rsassaPKCS1SHA384, .rsassaPKCS1SHA512: .pkcs1
        default: nil
        }
    }

    // MARK: Encryption (RSA, SM2)

    /// The longest plaintext this key takes with `algorithm`: k − 2·hLen − 2 for RSAES-OAEP,
    /// 1024 bytes for SM2PKE (AWS's limit); nil when the key can't use the algorithm.
    public func maximumPlaintextLength(_ algorithm: EncryptionAlgorithm) -> Int? {
        guard case .openSSL(let keyPair) = backend else { return nil }
        if algorithm == .sm2pke { return keyPair.isSM2 ? 1024 : nil }
        guard keyPair.baseID == EVP_PKEY_RSA, let hash = Self.oaepHash(algorithm) else { return nil }
        return Int(keyPair.bits) / 8 - 2 * hash.byteCount - 2
    }

    /// Bare RSAES-OAEP output, or SM2PKE in GM/T 0009's ASN.1 form: decryptable with the
    /// private key anywhere.
    /// `spec` names the key in the error for a plaintext too long (AWS's words).
    public func encrypt(_ plaintext: [UInt8], algorithm: EncryptionAlgorithm, spec: KeySpec) throws(KMSError) -> [UInt8] {
        guard let limit = maximumPlaintextLength(algorithm) else { throw KMSError.internalFailure() }
        guard plaintext.count <= limit else {
            throw KMSError.validation("Algorithm \(algorithm.rawValue) and key spec \(spec.rawValue) cannot encrypt data larger than \(limit) bytes.")
        }
        if algorithm == .sm2pke { return try keyPair.encryptSM2(plaintext) }
        guard let hash = Self.oaepHash(algorithm) else { throw KMSError.internalFailure() }
        return try keyPair.encryptOAEP(plaintext, digest: hash.openSSL)
    }

    /// Any ciphertext that does not decrypt is `InvalidCiphertextException`.
    public func decrypt(_ ciphertext: [UInt8], algorithm: EncryptionAlgorithm) throws(KMSError) -> [UInt8] {
        guard case .openSSL(let keyPair) = backend else { throw .invalidCiphertext }
        let plaintext =
            if algorithm == .sm2pke {
                keyPair.decryptSM2(ciphertext)
            } else {
                Self.oaepHash(algorithm).flatMap { keyPair.decryptOAEP(ciphertext, digest: $0.openSSL) }
            }
        guard let plaintext else { throw .invalidCiphertext }
        return plaintext
    }

    static func oaepHash(_ algorithm: EncryptionAlgorithm) -> HashAlgorithm? {
        switch algorithm {
        case .rsaesOaepSha1: .sha1
        case .rsaesOaepSha256: .sha256
        default: nil
        }
    }
}

extension AsymmetricKeyMaterial {
    /// The raw ECDH shared secret with a peer's DER SubjectPublicKeyInfo, as AWS returns it
    /// (no KDF applied). A peer key that is malformed, not on this key's curve or not a valid
    /// point is a `ValidationException`.
    public func deriveSharedSecret(peerPublicKey der: [UInt8]) throws(KMSError) -> [UInt8] {
        guard let peer = OpenSSLKeyPair.publicKey(spki: der), let secret = try keyPair.deriveSharedSecret(with: peer) else {
            throw KMSError.validation("PublicKey is not a valid DER-encoded SubjectPublicKeyInfo of a point on the key's curve.")
        }
        return secret
    }
}

/// A public key: of a KMS key, or received from outside (Wycheproof vectors).
public struct PublicKeyDER: Sendable {
    enum Key: Sendable {
        case openSSL(OpenSSLKeyPair)
        case mlDSA(MLDSAPublicKey)

        /// A signature that does not check out is `false`; a MessageType the algorithm does not
        /// take is a `ValidationException`.
        func isValidSignature(_ signature: [UInt8], for message: [UInt8], type: MessageType, algorithm: SigningAlgorithm) throws(KMSError) -> Bool {
            let input = try AsymmetricKeyMaterial.SigningInput(message, type: type, algorithm: algorithm)
            switch (self, input) {
            case (.mlDSA(let key), .whole(let message)): return key.isValidSignature(signature, for: message)
            case (.mlDSA, .mlDSAMu):
                // Verification from μ needs a library that offers it (BoringSSL does not).
                throw KMSError(
                    .unsupportedOperation,
                    "Verify with MessageType EXTERNAL_MU is not supported by this server; verify the signature with MessageType RAW and the message.")
            case (.openSSL(let keyPair), .whole(let message)): return keyPair.isValidSignature(signature, message: message)
            case (.openSSL(let keyPair), .ed25519ph(let digest)):
                guard let publicKey = keyPair.rawPublicKey() else { throw KMSError.internalFailure() }
                return Ed25519ph.isValidSignature(signature, for: digest, publicKey: publicKey)
            case (.openSSL(let keyPair), .digest(let digest, let hash)):
                return keyPair.isValidSignature(
                    signature, digest: digest, digestAlgorithm: hash.openSSL, rsaPadding: AsymmetricKeyMaterial.padding(algorithm))
            default: throw KMSError.internalFailure()
            }
        }
    }

    private let key: Key

    /// nil when `der` is not a DER SubjectPublicKeyInfo of a key SwiftKMS can use.
    public init?(_ der: [UInt8]) {
        if let keyPair = OpenSSLKeyPair.publicKey(spki: der) {
            key = .openSSL(keyPair)
        } else if let mlDSA = MLDSAPublicKey(spki: der) {
            key = .mlDSA(mlDSA)
        } else {
            return nil
        }
    }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8], type: MessageType, algorithm: SigningAlgorithm) throws(KMSError) -> Bool
    {
        try key.isValidSignature(signature, for: message, type: type, algorithm: algorithm)
    }
}
