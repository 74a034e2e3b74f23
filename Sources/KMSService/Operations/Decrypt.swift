import KMSStorage
import Foundation

extension KeyManagementService {
    public struct DecryptOutput: Sendable {
        /// The plaintext: a secret. Never log it.
        public var plaintext: Data
        public var keyARN: String
        public var algorithm: EncryptionAlgorithm
    }

    /// Decrypts a symmetric ciphertext. `keyID`, when given, must name the key the blob was
    /// made with (else `IncorrectKeyException`). Every kind of bad blob, including a wrong
    /// encryption context or a key that doesn't exist any more, is `InvalidCiphertextException`.
    public func decrypt(
        ciphertext: Data, context encryptionContext: EncryptionContext, keyID: String?,
        algorithm: EncryptionAlgorithm?, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> DecryptOutput {
        let (key, blob) = try await ciphertextKey(ciphertext, requestedKeyID: keyID, context, action: "kms:Decrypt")
        try requireEnabled(key)
        try requireUsage(key, .encryptDecrypt, operation: "Decrypt")
        try requireSymmetricAlgorithm(algorithm, key)
        try finishDryRun(dryRun)
        let plaintext = try await open(blob, with: key, context: encryptionContext)
        return DecryptOutput(plaintext: plaintext, keyARN: key.arn, algorithm: .symmetricDefault)
    }

    /// Parses a blob and finds the key it names, checking it against the key the request
    /// names (if any) and authorizing `action` on it.
    func ciphertextKey(_ ciphertext: Data, requestedKeyID: String?, _ context: RequestContext, action: String) async throws(KMSError) -> (KMSKey, SymmetricCiphertext) {
        let blob = try SymmetricCiphertext(parsing: ciphertext)
        if let requestedKeyID {
            let requested = try await resolveKey(requestedKeyID, context, allowAlias: true, action: action)
            guard requested.id == blob.keyID, requested.account == blob.account else {
                throw KMSError(.incorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
            }
        }
        guard let key = try await storeCall({ () throws(StoreError) in try await store.key(id: blob.keyID) }),
              key.account == blob.account, key.region == context.region
        else { throw KMSError.invalidCiphertext }
        try Authorization.authorize(context, action: action, key: key)
        return (key, blob)
    }

    func open(_ blob: SymmetricCiphertext, with key: KMSKey, context: EncryptionContext) async throws(KMSError) -> Data {
        guard let material = try await material(of: key, version: blob.materialVersion, as: SymmetricKeyMaterial.self) else { throw KMSError.invalidCiphertext }
        return try material.decrypt(blob, context: context)
    }
}
