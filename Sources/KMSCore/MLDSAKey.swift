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
    let spec: KeySpec
    private let level: Int32
    /// Zeroed and freed with the object; BoringSSL only reads it.
    private let key: OpaquePointer
    private let seed: [UInt8]
    private let publicKey: [UInt8]

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
        var publicKey = [UInt8](repeating: 0, count: swiftkms_mldsa_public_key_bytes(level))
        guard swiftkms_mldsa_public_key(key, &publicKey) == 1 else {
            swiftkms_mldsa_key_free(key)
            return nil
        }
        (self.spec, self.level, self.key, self.seed, self.publicKey) = (spec, level, key, seed, publicKey)
    }

    deinit { swiftkms_mldsa_key_free(key) }

    /// A secret: only for wrapping under the root key.
    var pkcs8: [UInt8] { Self.pkcs8Prefix(spec) + seed }

    /// SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID }, BIT STRING (0 unused bits) key }.
    var spki: [UInt8] {
        let oid = Self.oid(spec)!
        let algorithm: [UInt8] = [0x30, UInt8(oid.count)] + oid
        let bitString: [UInt8] = [0x03] + DER.length(publicKey.count + 1) + [0x00] + publicKey
        return [0x30] + DER.length(algorithm.count + bitString.count) + algorithm + bitString
    }

    /// Hedged ML-DSA signature of `message`.
    func sign(_ message: [UInt8]) throws(KMSError) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: swiftkms_mldsa_signature_bytes(level))
        guard swiftkms_mldsa_sign(key, message, message.count, &signature) == 1 else { throw KMSError.internalFailure() }
        return signature
    }

    /// Hedged ML-DSA signature of the message a 64-byte μ represents.
    func sign(mu: [UInt8]) throws(KMSError) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: swiftkms_mldsa_signature_bytes(level))
        guard mu.count == 64, swiftkms_mldsa_sign_mu(key, mu, &signature) == 1 else { throw KMSError.internalFailure() }
        return signature
    }

    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        swiftkms_mldsa_verify(level, publicKey, publicKey.count, signature, signature.count, message, message.count) == 1
    }

    /// Verifies with a public key alone, given as DER SPKI; nil when the SPKI is not ML-DSA.
    static func isValidSignature(_ signature: [UInt8], for message: [UInt8], spki: [UInt8]) -> Bool? {
        for spec in specs {
            let algorithm: [UInt8] = [0x30, UInt8(oid(spec)!.count)] + oid(spec)!
            guard let start = spki.firstRange(of: algorithm)?.upperBound, spki.count > start + 1 else { continue }
            // BIT STRING header: 03, length (long form), 00 unused bits.
            let lengthBytes = spki[start + 1] & 0x80 != 0 ? Int(spki[start + 1] & 0x7f) : 0
            let keyStart = start + 2 + lengthBytes + 1
            guard keyStart <= spki.count, let level = level(spec) else { return false }
            let raw = Array(spki[keyStart...])
            return swiftkms_mldsa_verify(level, raw, raw.count, signature, signature.count, message, message.count) == 1
        }
        return nil
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
