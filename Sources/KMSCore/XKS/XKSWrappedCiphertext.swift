import Crypto
import Foundation

/// Format-1 blobs of keys in external key stores: double encryption, as AWS's. The key's own
/// material (in SwiftKMS) seals the plaintext as for any symmetric key; the external key (in
/// the XKS proxy's key manager) then seals that sealed box. The blob keeps the format-1 header,
/// and its sealed box becomes
///
///     1 byte   length of the proxy's IV (12 or 16)
///     1 byte   length of the proxy's ciphertext metadata (0 to 20)
///     n bytes  the IV, then the metadata
///     16 bytes the proxy's authentication tag
///     rest     the proxy's ciphertext of the inner sealed box
///
/// The proxy's AAD is the header and the SHA-256 of the canonical encryption context, so the
/// external key too refuses a blob moved to another key or context.
extension SymmetricCiphertext {
    /// Wraps the sealed box of `inner` (made by the key's own material) with the external key:
    /// `encrypt(plaintext, aad)` is the proxy's Encrypt.
    public static func wrappedThroughXKS(
        _ inner: [UInt8], context: EncryptionContext, encrypt: (_ plaintext: [UInt8], _ aad: [UInt8]) async throws(KMSError) -> XKSSealed
    ) async throws(KMSError) -> [UInt8] {
        let blob = try SymmetricCiphertext(parsing: inner)
        let sealed = try await encrypt(blob.sealedBox, blob.xksAAD(context))
        guard (sealed.iv.count == 12 || sealed.iv.count == 16), sealed.ciphertextMetadata.count <= XKS.maximumCiphertextMetadata,
            sealed.tag.count == tagLength
        else { throw KMSError.internalFailure() }
        return blob.header + [UInt8(sealed.iv.count), UInt8(sealed.ciphertextMetadata.count)] + sealed.iv + sealed.ciphertextMetadata
            + sealed.tag + sealed.ciphertext
    }

    /// The blob the key's own material opens: the external key's layer removed by
    /// `decrypt(sealed, aad)`, the proxy's Decrypt. A sealed box not of this layout is
    /// `InvalidCiphertextException`.
    public func unwrappedThroughXKS(
        context: EncryptionContext, decrypt: (_ sealed: XKSSealed, _ aad: [UInt8]) async throws(KMSError) -> [UInt8]
    ) async throws(KMSError) -> SymmetricCiphertext {
        let box = sealedBox
        guard box.count >= 2 else { throw KMSError.invalidCiphertext }
        let ivLength = Int(box[0]), metadataLength = Int(box[1])
        guard ivLength == 12 || ivLength == 16, metadataLength <= XKS.maximumCiphertextMetadata,
            box.count >= 2 + ivLength + metadataLength + Self.tagLength + Self.tagLength
        else { throw KMSError.invalidCiphertext }
        let layer = XKSSealed(
            iv: Array(box[2..<(2 + ivLength)]), ciphertextMetadata: Array(box[(2 + ivLength)..<(2 + ivLength + metadataLength)]),
            tag: Array(box[(2 + ivLength + metadataLength)..<(2 + ivLength + metadataLength + Self.tagLength)]),
            ciphertext: Array(box[(2 + ivLength + metadataLength + Self.tagLength)...]))
        var inner = self
        inner.sealedBox = try await decrypt(layer, xksAAD(context))
        guard inner.sealedBox.count >= Self.tagLength else { throw KMSError.invalidCiphertext }
        return inner
    }

    /// The header and the SHA-256 of the canonical encryption context.
    func xksAAD(_ context: EncryptionContext) -> [UInt8] {
        header + Array(SHA256.hash(data: context.canonicalBytes))
    }
}
