import Foundation

/// Format-1 blobs of keys whose material never leaves an HSM (CloudHSM key stores). The HSM
/// cannot run SwiftKMS's per-message HKDF, so its AES-256-GCM key seals directly: the
/// derivation nonce is all zeros, the IV is fresh and random, and the AAD is the one every
/// format-1 blob has (header and encryption context). A blob says nothing of where its key lives.
extension SymmetricCiphertext {
    /// A blob of `plaintext` under a key in an HSM; `seal(iv, aad, plaintext)` runs AES-GCM
    /// there and returns the ciphertext with its 16-byte tag appended.
    public static func sealedInHSM(
        _ plaintext: [UInt8], context: EncryptionContext, account: String, keyID: String, materialVersion: UInt32,
        seal: (_ iv: [UInt8], _ aad: [UInt8], _ plaintext: [UInt8]) async throws(KMSError) -> [UInt8]
    ) async throws(KMSError) -> [UInt8] {
        guard canEncode(account: account, keyID: keyID) else { throw KMSError.internalFailure() }
        let iv = AES256GCM.randomIV()
        let header = SymmetricCiphertext(
            account: account, keyID: keyID, materialVersion: materialVersion,
            derivationNonce: [UInt8](repeating: 0, count: derivationNonceLength), iv: iv, sealedBox: []
        ).header
        let sealed = try await seal(iv, header + context.canonicalBytes, plaintext)
        guard sealed.count == plaintext.count + tagLength else { throw KMSError.internalFailure() }
        return header + sealed
    }

    /// The plaintext of a blob made by `sealedInHSM`; `open(iv, aad, sealedBox)` runs AES-GCM
    /// in the HSM. A blob with a derivation nonce is not one, and is `InvalidCiphertextException`.
    public func openInHSM(
        context: EncryptionContext, open: (_ iv: [UInt8], _ aad: [UInt8], _ sealed: [UInt8]) async throws(KMSError) -> [UInt8]
    ) async throws(KMSError) -> [UInt8] {
        guard derivationNonce.allSatisfy({ $0 == 0 }) else { throw KMSError.invalidCiphertext }
        return try await open(iv, header + context.canonicalBytes, sealedBox)
    }
}
