import Crypto
import Foundation

/// An ML-DSA-65 or ML-DSA-87 private key (swift-crypto), signing pure ML-DSA with the empty
/// context, as AWS KMS does for `ML_DSA_SHAKE_256` with MessageType RAW.
///
/// Stored as the PKCS#8 "seed" form of RFC 9881 (exactly 54 bytes):
///
///     30 34 02 01 00 30 0b 06 09 <OID 2.16.840.1.101.3.4.3.{18,19}> 04 22 80 20 <seed (32)>
enum MLDSAKey: Sendable {
    case mlDSA65(MLDSA65.PrivateKey)
    case mlDSA87(MLDSA87.PrivateKey)

    static func oid(_ spec: KeySpec) -> [UInt8]? {
        switch spec {
        case .mlDsa65: [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12]
        case .mlDsa87: [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13]
        default: nil
        }
    }

    static func pkcs8Prefix(_ spec: KeySpec) -> [UInt8] {
        [0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b] + oid(spec)! + [0x04, 0x22, 0x80, 0x20]
    }

    static func generate(_ spec: KeySpec) throws(KMSError) -> MLDSAKey {
        do {
            switch spec {
            case .mlDsa65: return .mlDSA65(try MLDSA65.PrivateKey())
            case .mlDsa87: return .mlDSA87(try MLDSA87.PrivateKey())
            default: throw KMSError.internalFailure()
            }
        } catch {
            throw KMSError.internalFailure()
        }
    }

    /// nil when `der` is not the PKCS#8 seed form of ML-DSA-65 or -87.
    init?(pkcs8 der: [UInt8]) {
        for spec in [KeySpec.mlDsa65, .mlDsa87] {
            let prefix = Self.pkcs8Prefix(spec)
            guard der.count == prefix.count + 32, Array(der.prefix(prefix.count)) == prefix else { continue }
            let seed = der.suffix(32)
            guard let key: MLDSAKey = spec == .mlDsa65
                ? (try? MLDSA65.PrivateKey(seedRepresentation: seed, publicKey: nil)).map(MLDSAKey.mlDSA65)
                : (try? MLDSA87.PrivateKey(seedRepresentation: seed, publicKey: nil)).map(MLDSAKey.mlDSA87)
            else { return nil }
            self = key
            return
        }
        return nil
    }

    var spec: KeySpec {
        switch self {
        case .mlDSA65: .mlDsa65
        case .mlDSA87: .mlDsa87
        }
    }

    /// A secret: only for wrapping under the root key.
    var pkcs8: [UInt8] {
        let seed = switch self {
        case .mlDSA65(let key): key.seedRepresentation
        case .mlDSA87(let key): key.seedRepresentation
        }
        return Self.pkcs8Prefix(spec) + Array(seed)
    }

    var publicKeyRaw: Data {
        switch self {
        case .mlDSA65(let key): key.publicKey.rawRepresentation
        case .mlDSA87(let key): key.publicKey.rawRepresentation
        }
    }

    /// SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID }, BIT STRING (0 unused bits) key }.
    var spki: [UInt8] {
        let algorithm: [UInt8] = [0x30, UInt8(Self.oid(spec)!.count)] + Self.oid(spec)!
        let bitString: [UInt8] = [0x03] + DER.length(publicKeyRaw.count + 1) + [0x00] + Array(publicKeyRaw)
        return [0x30] + DER.length(algorithm.count + bitString.count) + algorithm + bitString
    }

    func sign(_ message: [UInt8]) throws(KMSError) -> [UInt8] {
        do {
            switch self {
            case .mlDSA65(let key): return Array(try key.signature(for: message))
            case .mlDSA87(let key): return Array(try key.signature(for: message))
            }
        } catch {
            throw KMSError.internalFailure()
        }
    }

    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        switch self {
        case .mlDSA65(let key): key.publicKey.isValidSignature(signature, for: message)
        case .mlDSA87(let key): key.publicKey.isValidSignature(signature, for: message)
        }
    }

    /// Verifies with a public key alone, given as DER SPKI; nil when the SPKI is not ML-DSA-65/87.
    static func isValidSignature(_ signature: [UInt8], for message: [UInt8], spki: [UInt8]) -> Bool? {
        for spec in [KeySpec.mlDsa65, .mlDsa87] {
            let algorithm: [UInt8] = [0x30, UInt8(oid(spec)!.count)] + oid(spec)!
            guard let start = spki.firstRange(of: algorithm)?.upperBound, spki.count > start + 1 else { continue }
            // BIT STRING header: 03, length (long form), 00 unused bits.
            let lengthBytes = spki[start + 1] & 0x80 != 0 ? Int(spki[start + 1] & 0x7f) : 0
            let keyStart = start + 2 + lengthBytes + 1
            guard keyStart <= spki.count else { return false }
            let raw = spki[keyStart...]
            switch spec {
            case .mlDsa65: return (try? MLDSA65.PublicKey(rawRepresentation: raw))?.isValidSignature(signature, for: message) ?? false
            default: return (try? MLDSA87.PublicKey(rawRepresentation: raw))?.isValidSignature(signature, for: message) ?? false
            }
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
