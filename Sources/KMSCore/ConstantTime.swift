import COpenSSL

/// Comparison of secrets in time that depends only on their lengths.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes (OpenSSL's `CRYPTO_memcmp`).
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}
