import Crypto
import Foundation

/// AES-256-GCM as SwiftKMS uses it: 256-bit keys, 96-bit IVs and 128-bit tags only
/// (swift-crypto accepts other IV sizes; we refuse them here).
enum AES256GCM {
    static let ivLength = 12
    static let tagLength = 16

    static func seal(_ plaintext: some DataProtocol, key: SymmetricKey, iv: some DataProtocol, aad: some DataProtocol) throws(KMSError) -> (ciphertext: [UInt8], tag: [UInt8]) {
        guard key.bitCount == 256, iv.count == ivLength else { throw KMSError.internalFailure() }
        do {
            let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: iv), authenticating: aad)
            return (Array(box.ciphertext), Array(box.tag))
        } catch {
            throw KMSError.internalFailure()
        }
    }

    /// Any failure (wrong key, IV, AAD, tag, or a malformed input) is `InvalidCiphertextException`.
    static func open(_ ciphertext: some DataProtocol, tag: some DataProtocol, key: SymmetricKey, iv: some DataProtocol, aad: some DataProtocol) throws(KMSError) -> Data {
        guard key.bitCount == 256, iv.count == ivLength, tag.count == tagLength else { throw .invalidCiphertext }
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: iv), ciphertext: ciphertext, tag: tag)
            return try AES.GCM.open(box, using: key, authenticating: aad)
        } catch {
            throw .invalidCiphertext
        }
    }

    static func randomIV() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<ivLength).map { _ in rng.next() }
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
