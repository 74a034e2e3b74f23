import Crypto
import Foundation

/// AES-256-GCM as SwiftKMS uses it: 256-bit keys, 96-bit IVs and 128-bit tags only
/// (swift-crypto accepts other IV sizes; we refuse them here).
enum AES256GCM {
    static let ivLength = 12
    static let tagLength = 16

    static func seal(
        _ plaintext: some DataProtocol, key: SymmetricKey, iv: some DataProtocol, aad: some DataProtocol
    ) throws(KMSError) -> (ciphertext: [UInt8], tag: [UInt8]) {
        guard key.bitCount == 256, iv.count == ivLength else { throw KMSError.internalFailure() }
        do {
            let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: iv), authenticating: aad)
            return (Array(box.ciphertext), Array(box.tag))
        } catch {
            throw KMSError.internalFailure()
        }
    }

    /// Any failure (wrong key, IV, AAD, tag, or a malformed input) is `InvalidCiphertextException`.
    static func open(
        _ ciphertext: some DataProtocol, tag: some DataProtocol, key: SymmetricKey, iv: some DataProtocol, aad: some DataProtocol
    ) throws(KMSError) -> Data {
        guard key.bitCount == 256, iv.count == ivLength, tag.count == tagLength else { throw .invalidCiphertext }
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: iv), ciphertext: ciphertext, tag: tag)
            return try AES.GCM.open(box, using: key, authenticating: aad)
        } catch {
            throw .invalidCiphertext
        }
    }

    static func randomIV() -> [UInt8] {
        SecureRandom.bytes(ivLength)
    }
}

/// HKDF with SHA-256 (RFC 5869).
enum HKDFSHA256 {
    /// - Precondition: `length` ≤ 255 × 32 (HKDF's limit), else `KMSInternalException`.
    static func derive(_ ikm: SymmetricKey, salt: some DataProtocol, info: some DataProtocol, length: Int) throws(KMSError) -> SymmetricKey {
        guard length > 0, length <= 255 * SHA256.byteCount else { throw KMSError.internalFailure() }
        return HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: info, outputByteCount: length)
    }
}

extension UUID {
    /// A random (version 4) UUID, lowercase, from `SecureRandom`. Foundation's `UUID()` opens
    /// and reads /dev/urandom for each one; requests make two or three.
    public static func randomLowercased() -> String {
        var bytes = SecureRandom.bytes(16)
        bytes[6] = bytes[6] & 0x0F | 0x40
        return lowercased(bytes)
    }

    /// A time-ordered (version 7, RFC 9562) UUID, lowercase: its first 48 bits are the Unix
    /// time in milliseconds, the rest random. An audit event's ID so made names its time,
    /// which is how a lookup by event ID finds it without an index of IDs.
    public static func timeOrderedLowercased(millis: Int64) -> String {
        var bytes = SecureRandom.bytes(16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - index))) }
        bytes[6] = bytes[6] & 0x0F | 0x70
        return lowercased(bytes)
    }

    /// The milliseconds a version 7 UUID (in its text form) names; nil for any other text.
    public static func timeOrderedMillis(_ text: String) -> Int64? {
        guard let uuid = UUID(uuidString: text) else { return nil }
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        guard bytes[6] >> 4 == 7, bytes[8] >> 6 == 2 else { return nil }
        return bytes[0..<6].reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    /// The UUID of 16 bytes whose version nibble is set, with RFC 9562's variant, lowercase.
    private static func lowercased(_ bytes: [UInt8]) -> String {
        var bytes = bytes
        bytes[8] = bytes[8] & 0x3F | 0x80
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }
}

/// Random bytes for keys, nonces and IDs.
public enum SecureRandom {
    /// `count` bytes from BoringSSL's CSPRNG (kernel-seeded, fork-safe), drawn in one call,
    /// rather than from `SystemRandomNumberGenerator`, which makes a `getrandom` system call
    /// per 8 bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}
