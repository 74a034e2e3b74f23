import COpenSSL
import Crypto
import Foundation

/// A MAC algorithm of an HMAC KMS key (`MacAlgorithmSpec`).
public enum MacAlgorithm: String, Sendable, CaseIterable, Codable {
    case hmacSHA224 = "HMAC_SHA_224"
    case hmacSHA256 = "HMAC_SHA_256"
    case hmacSHA384 = "HMAC_SHA_384"
    case hmacSHA512 = "HMAC_SHA_512"

    /// Length of the MAC, and of the key AWS generates for the matching key spec.
    public var byteCount: Int {
        switch self {
        case .hmacSHA224: 28
        case .hmacSHA256: 32
        case .hmacSHA384: 48
        case .hmacSHA512: 64
        }
    }
}

/// The secret key of an HMAC KMS key. SHA-256/384/512 come from swift-crypto; SHA-224, which
/// swift-crypto lacks, from OpenSSL. Verification compares in constant time.
public struct HMACKeyMaterial: Sendable {
    private let key: SymmetricKey

    /// A fresh key of the length AWS uses for `algorithm`'s key spec.
    public static func generate(for algorithm: MacAlgorithm) -> HMACKeyMaterial {
        HMACKeyMaterial(key: SymmetricKey(size: SymmetricKeySize(bitCount: algorithm.byteCount * 8)))
    }

    private init(key: SymmetricKey) {
        self.key = key
    }

    /// A key from raw bytes (unwrapped from storage, or test vectors). Must not be empty.
    public init(unsafeRawBytes bytes: some ContiguousBytes) throws(KMSError) {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount > 0 else { throw KMSError.internalFailure() }
        self.key = key
    }

    /// The raw key. Only for wrapping under the root key; never log or return it.
    public func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try key.withUnsafeBytes(body)
    }

    public func mac(_ message: some DataProtocol, algorithm: MacAlgorithm) throws(KMSError) -> [UInt8] {
        switch algorithm {
        case .hmacSHA224: try opensslHMACSHA224(Array(message))
        case .hmacSHA256: Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .hmacSHA384: Array(HMAC<SHA384>.authenticationCode(for: message, using: key))
        case .hmacSHA512: Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        }
    }

    /// Whether `mac` is this key's full-length MAC of `message`; constant time in its content.
    public func isValid(_ mac: some DataProtocol & ContiguousBytes, for message: some DataProtocol, algorithm: MacAlgorithm) throws(KMSError) -> Bool
    {
        switch algorithm {
        case .hmacSHA224:
            let expected = try opensslHMACSHA224(Array(message))
            let given = Array(mac)
            guard given.count == expected.count else { return false }
            return CRYPTO_memcmp(given, expected, expected.count) == 0
        case .hmacSHA256: return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: key)
        case .hmacSHA384: return HMAC<SHA384>.isValidAuthenticationCode(mac, authenticating: message, using: key)
        case .hmacSHA512: return HMAC<SHA512>.isValidAuthenticationCode(mac, authenticating: message, using: key)
        }
    }

    private func opensslHMACSHA224(_ message: [UInt8]) throws(KMSError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = key.withUnsafeBytes { raw in
            HMAC(EVP_sha224(), raw.baseAddress, Int32(raw.count), message, message.count, &out, &length) != nil
        }
        guard ok, length == 28 else { throw KMSError.internalFailure() }
        return Array(out.prefix(Int(length)))
    }
}
