import KMSStorage
import Foundation

extension KeyManagementService {
    public struct ReEncryptOutput: Sendable {
        public var ciphertextBlob: [UInt8]
        public var sourceKeyARN: String
        public var keyARN: String
        public var sourceAlgorithm: EncryptionAlgorithm
        public var destinationAlgorithm: EncryptionAlgorithm
    }

    /// Decrypts under the source key and encrypts under the destination key; the plaintext
    /// never leaves the service.
    public func reEncrypt(
        ciphertext: Data, sourceContext: EncryptionContext, sourceKeyID: String?,
        destinationKeyID: String, destinationContext: EncryptionContext,
        sourceAlgorithm: EncryptionAlgorithm?, destinationAlgorithm: EncryptionAlgorithm?,
        dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> ReEncryptOutput {
        let (source, blob) = try await ciphertextKey(ciphertext, requestedKeyID: sourceKeyID, context, action: "kms:ReEncryptFrom")
        try requireEnabled(source)
        try requireUsage(source, .encryptDecrypt, operation: "ReEncrypt")
        try requireSymmetricAlgorithm(sourceAlgorithm, source)
        let destination = try await usableKey(destinationKeyID, context, action: "kms:ReEncryptTo", operation: "ReEncrypt")
        try requireSymmetricAlgorithm(destinationAlgorithm, destination)
        try finishDryRun(dryRun)
        let plaintext = try await open(blob, with: source, context: sourceContext)
        let sealed = try await seal(plaintext, under: destination, context: destinationContext)
        return ReEncryptOutput(ciphertextBlob: sealed, sourceKeyARN: source.arn, keyARN: destination.arn,
                               sourceAlgorithm: .symmetricDefault, destinationAlgorithm: .symmetricDefault)
    }
}
