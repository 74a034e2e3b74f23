import Crypto
import Foundation

/// The 256-bit material of a symmetric KMS key (one material version).
///
/// Each encryption derives a one-time AES-256-GCM key with HKDF-SHA256 from this material
/// and a fresh random 128-bit nonce, so no key comes near AES-GCM's random-IV limit.
/// The bytes are reachable only through `unsafeRawBytes`, for wrapping under the root key.
public struct SymmetricKeyMaterial: Sendable {
    private let key: SymmetricKey

    /// Fresh material from the system CSPRNG.
    public static func generate() -> SymmetricKeyMaterial {
        SymmetricKeyMaterial(key: SymmetricKey(size: .bits256))
    }

    private init(key: SymmetricKey) {
        self.key = key
    }

    /// Material from raw bytes (unwrapped from storage, or imported). Must be 32 bytes.
    public init(unsafeRawBytes bytes: some ContiguousBytes) throws(KMSError) {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == 256 else { throw KMSError.internalFailure() }
        self.key = key
    }

    /// The raw material. Only for wrapping under the root key; never log or return it.
    public func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try key.withUnsafeBytes(body)
    }

    /// Encrypts `plaintext` into a format-1 blob naming `account`, `keyID` and `materialVersion`.
    public func encrypt(
        _ plaintext: some DataProtocol, context: EncryptionContext,
        account: String, keyID: String, materialVersion: UInt32
    ) throws(KMSError) -> [UInt8] {
        try encrypt(
            plaintext, context: context, account: account, keyID: keyID, materialVersion: materialVersion,
            derivationNonce: SecureRandom.bytes(SymmetricCiphertext.derivationNonceLength), iv: AES256GCM.randomIV())
    }

    /// Deterministic form of `encrypt` for golden-blob tests; production code draws fresh values.
    func encrypt(
        _ plaintext: some DataProtocol, context: EncryptionContext, account: String, keyID: String,
        materialVersion: UInt32, derivationNonce: [UInt8], iv: [UInt8]
    ) throws(KMSError) -> [UInt8] {
        guard SymmetricCiphertext.canEncode(account: account, keyID: keyID) else { throw KMSError.internalFailure() }
        let header = SymmetricCiphertext(
            account: account, keyID: keyID, materialVersion: materialVersion,
            derivationNonce: derivationNonce, iv: iv, sealedBox: []
        ).header
        let sealed = try AES256GCM.seal(
            plaintext, key: derivedKey(header: header, nonce: derivationNonce),
            iv: iv, aad: header + context.canonicalBytes)
        return header + sealed.ciphertext + sealed.tag
    }

    /// Decrypts a parsed blob made with this material. Any failure, including a wrong
    /// encryption context, is `InvalidCiphertextException`.
    public func decrypt(_ blob: SymmetricCiphertext, context: EncryptionContext) throws(KMSError) -> Data {
        let header = blob.header
        let split = blob.sealedBox.count - SymmetricCiphertext.tagLength
        return try AES256GCM.open(
            blob.sealedBox[..<split], tag: blob.sealedBox[split...],
            key: derivedKey(header: header, nonce: blob.derivationNonce),
            iv: blob.iv, aad: header + context.canonicalBytes)
    }

    /// HKDF-SHA256(material, salt: nonce, info: label || header[0..<34]) → 32 bytes.
    private func derivedKey(header: [UInt8], nonce: [UInt8]) throws(KMSError) -> SymmetricKey {
        try HKDFSHA256.derive(key, salt: nonce, info: Array("swiftkms/symmetric/v1".utf8) + header[0..<34], length: 32)
    }
}
