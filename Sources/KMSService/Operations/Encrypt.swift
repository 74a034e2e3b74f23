import KMSStorage
import Foundation

extension KeyManagementService {
    public struct EncryptOutput: Sendable {
        /// The format-1 blob; contains no plaintext or key material.
        public var ciphertextBlob: [UInt8]
        public var keyARN: String
        public var algorithm: EncryptionAlgorithm
    }

    /// Encrypts up to 4096 bytes under the key's current material version, binding `context`.
    public func encrypt(
        keyID: String, plaintext: Data, context encryptionContext: EncryptionContext,
        algorithm: EncryptionAlgorithm?, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> EncryptOutput {
        let key = try await usableKey(keyID, context, action: "kms:Encrypt", operation: "Encrypt")
        try requireSymmetricAlgorithm(algorithm, key)
        try finishDryRun(dryRun)
        let blob = try await seal(plaintext, under: key, context: encryptionContext)
        return EncryptOutput(ciphertextBlob: blob, keyARN: key.arn, algorithm: .symmetricDefault)
    }

    /// Resolves a key (aliases allowed), authorizes `action`, and requires it `Enabled` with usage `ENCRYPT_DECRYPT`.
    func usableKey(_ keyID: String, _ context: RequestContext, action: String, operation: String) async throws(KMSError) -> KMSKey {
        let key = try await resolveKey(keyID, context, allowAlias: true, action: action)
        try Authorization.authorize(context, action: action, key: key)
        try requireEnabled(key)
        try requireUsage(key, .encryptDecrypt, operation: operation)
        return key
    }

    /// Encrypts with the key's current material version.
    func seal(_ plaintext: some DataProtocol, under key: KMSKey, context: EncryptionContext) async throws(KMSError) -> [UInt8] {
        guard let material = try await material(of: key, version: key.currentMaterialVersion, as: SymmetricKeyMaterial.self) else {
            logger.error("current key material missing", metadata: ["keyId": "\(key.id)"])
            throw KMSError.internalFailure()
        }
        return try material.encrypt(plaintext, context: context, account: key.account, keyID: key.id,
                                    materialVersion: key.currentMaterialVersion)
    }
}
