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
