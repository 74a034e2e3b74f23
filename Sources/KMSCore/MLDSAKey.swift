import CBoringMLDSA

/// An ML-DSA-44, -65 or -87 private key (`CBoringMLDSA`: swift-crypto's BoringSSL), signing pure
/// ML-DSA with the empty context as AWS KMS does for `ML_DSA_SHAKE_256`: MessageType RAW, or
/// EXTERNAL_MU (a caller-made μ, FIPS 204 §6.2). There is no verification from μ: a signature
/// made over μ verifies, with MessageType RAW, against the message μ was computed from.
///
/// Stored as the PKCS#8 "seed" form of RFC 9881 (exactly 54 bytes):
///
///     30 34 02 01 00 30 0b 06 09 <OID 2.16.840.1.101.3.4.3.{17,18,19}> 04 22 80 20 <seed (32)>
final class MLDSAKey: @unchecked Sendable {
    let publicKey: MLDSAPublicKey
    /// Zeroed and freed with the object; BoringSSL only reads it.
    private let key: OpaquePointer
    private let seed: [UInt8]

    static let specs: [KeySpec] = [.mlDsa44, .mlDsa65, .mlDsa87]

    static func level(_ spec: KeySpec) -> Int32? {
        switch spec {
        case .mlDsa44: 44
        case .mlDsa65: 65
        case .mlDsa87: 87
        default: nil
        }
    }

    static func oid(_ spec: KeySpec) -> [UInt8]? {
        switch spec {
        case .mlDsa44: [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11]
        case .mlDsa65: [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12]
        case .mlDsa87: [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13]
        default: nil
        }
    }

    static func pkcs8Prefix(_ spec: KeySpec) -> [UInt8] {
        [0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b] + oid(spec)! + [0x04, 0x22, 0x80, 0x20]
    }

    /// A fresh key from a random seed.
    static func generate(_ spec: KeySpec) throws(KMSError) -> MLDSAKey {
        var seed = [UInt8](repeating: 0, count: 32)
        defer { for i in seed.indices { seed[i] = 0 } }
        guard swiftkms_random_bytes(&seed, seed.count) == 1, let key = MLDSAKey(spec: spec, seed: seed) else {
            throw KMSError.internalFailure()
        }
        return key
    }

    /// nil when `der` is not the PKCS#8 seed form of an ML-DSA key.
    convenience init?(pkcs8 der: [UInt8]) {
        guard let spec = Self.specs.first(where: { der.count == Self.pkcs8Prefix($0).count + 32 && der.starts(with: Self.pkcs8Prefix($0)) })
        else { return nil }
        self.init(spec: spec, seed: Array(der.suffix(32)))
    }

    private init?(spec: KeySpec, seed: [UInt8]) {
        guard let level = Self.level(spec), seed.count == 32, let key = swiftkms_mldsa_key_new(level, seed) else { return nil }
        var raw = [UInt8](repeating: 0, count: swiftkms_mldsa_public_key_bytes(level))
        guard swiftkms_mldsa_public_key(key, &raw) == 1 else {
            swiftkms_mldsa_key_free(key)
            return nil
        }
        (self.publicKey, self.key, self.seed) = (MLDSAPublicKey(spec: spec, raw: raw), key, seed)
    }

    deinit { swiftkms_mldsa_key_free(key) }

    var spec: KeySpec { publicKey.spec }

    /// A secret: only for wrapping under the root key.
    var pkcs8: [UInt8] { Self.pkcs8Prefix(spec) + seed }

    /// Hedged ML-DSA signature of `message`.
    func sign(_ message: [UInt8]) throws(KMSError) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: swiftkms_mldsa_signature_bytes(publicKey.level))
        guard swiftkms_mldsa_sign(key, message, message.count, &signature) == 1 else { throw KMSError.internalFailure() }
        return signature
    }

    /// Hedged ML-DSA signature of the message a 64-byte μ represents.
    func sign(mu: [UInt8]) throws(KMSError) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: swiftkms_mldsa_signature_bytes(publicKey.level))
        guard mu.count == 64, swiftkms_mldsa_sign_mu(key, mu, &signature) == 1 else { throw KMSError.internalFailure() }
        return signature
    }
}

/// An ML-DSA public key (FIPS 204 pkEncode) and its SubjectPublicKeyInfo:
/// SEQUENCE { SEQUENCE { OID }, BIT STRING (0 unused bits) key }.
struct MLDSAPublicKey: Sendable {
    let spec: KeySpec
    let raw: [UInt8]

    var level: Int32 { MLDSAKey.level(spec)! }

    /// nil unless `der` is exactly the SPKI of an ML-DSA key of its parameter set's size.
    init?(spki der: [UInt8]) {
        for spec in MLDSAKey.specs {
            let keyLength = swiftkms_mldsa_public_key_bytes(MLDSAKey.level(spec)!)
            let header = Self.spkiHeader(spec, keyLength: keyLength)
            if der.count == header.count + keyLength, der.starts(with: header) {
                self.init(spec: spec, raw: Array(der.dropFirst(header.count)))
                return
            }
        }
        return nil
    }

    init(spec: KeySpec, raw: [UInt8]) {
        self.spec = spec
        self.raw = raw
    }

    var spki: [UInt8] { Self.spkiHeader(spec, keyLength: raw.count) + raw }

    private static func spkiHeader(_ spec: KeySpec, keyLength: Int) -> [UInt8] {
        let oid = MLDSAKey.oid(spec)!
        let algorithm: [UInt8] = [0x30, UInt8(oid.count)] + oid
        let bitString: [UInt8] = [0x03] + DER.length(keyLength + 1) + [0x00]
        return [0x30] + DER.length(algorithm.count + bitString.count + keyLength) + algorithm + bitString
    }

    /// Pure ML-DSA with the empty context.
    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        swiftkms_mldsa_verify(level, raw, raw.count, signature, signature.count, message, message.count) == 1
    }
}

/// DER lengths, for the few structures SwiftKMS writes itself.
enum DER {
    static func length(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        if n < 0x100 { return [0x81, UInt8(n)] }
        return [0x82, UInt8(n >> 8), UInt8(n & 0xff)]
    }
}
