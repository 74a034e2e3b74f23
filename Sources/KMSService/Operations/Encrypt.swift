import Foundation
import KMSStorage

extension KeyManagementService {
    public struct EncryptOutput: Sendable {
        /// A format-1 blob (symmetric keys) or bare RSAES-OAEP output (RSA keys); contains no
        /// plaintext or key material.
        public var ciphertextBlob: [UInt8]
        public var keyARN: String
        public var algorithm: EncryptionAlgorithm
    }

    /// Encrypts up to 4096 bytes under a symmetric key's current material version, binding
    /// `context`; or, with an RSA key and an RSAES-OAEP algorithm, up to the key's OAEP limit.
    public func encrypt(
        keyID: String, plaintext: Data, context encryptionContext: EncryptionContext,
        algorithm: EncryptionAlgorithm?, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> EncryptOutput {
        let key = try await usableKey(
            keyID, context,
            AccessRequest(
                .encrypt, keyReference: keyID, encryptionContext: encryptionContext,
                conditions: ["kms:EncryptionAlgorithm": [(algorithm ?? .symmetricDefault).rawValue]]),
            operation: "Encrypt")
        let algorithm = try requireEncryptionAlgorithm(algorithm, key)
        try finishDryRun(dryRun)
        let blob = try await encrypt(plaintext, under: key, algorithm: algorithm, context: encryptionContext, request: context)
        return EncryptOutput(ciphertextBlob: blob, keyARN: key.arn, algorithm: algorithm)
    }
}
