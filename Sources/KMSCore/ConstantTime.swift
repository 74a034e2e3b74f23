import COpenSSL
import Foundation

/// Comparison of secrets in time that depends only on their lengths.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes (OpenSSL's `CRYPTO_memcmp`).
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    /// Whether the two hold the same UTF-8 bytes, compared without copying them.
    public static func equals(_ a: String, _ b: String) -> Bool {
        var (a, b) = (a, b)
        return a.withUTF8 { x in
            b.withUTF8 { y in x.count == y.count && (x.isEmpty || CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) == 0) }
        }
    }
}

/// Overwriting secrets in buffers that are about to be released, with OpenSSL's
/// `OPENSSL_cleanse`, which the compiler cannot drop as a dead store. (Swift `String`s cannot
/// be overwritten: secrets are kept in byte buffers while they are worked on.)
public enum Zeroize {
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }

    public static func wipe(_ data: inout Data) {
        data.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }
}
