import Foundation
import KMSStorage

extension KeyManagementService {
    public struct ReEncryptOutput: Sendable {
        public var ciphertextBlob: [UInt8]
        public var sourceKeyARN: String
        public var keyARN: String
        public var sourceAlgorithm: EncryptionAlgorithm
        public var destinationAlgorithm: EncryptionAlgorithm
        /// `KeyMaterialId`s of the source and destination material (symmetric keys only).
        public var sourceMaterialID: String?
        public var destinationMaterialID: String?
    }

    /// Decrypts under the source key and encrypts under the destination key, each symmetric
    /// or RSA; the plaintext never leaves the service. A nil `ciphertext` is a dry run that
    /// ignores the ciphertext (`IGNORE_CIPHERTEXT`, `sourceKeyID` then required).
    public func reEncrypt(
        ciphertext: Data?, sourceContext: EncryptionContext, sourceKeyID: String?,
        destinationKeyID: String, destinationContext: EncryptionContext,
        sourceAlgorithm: EncryptionAlgorithm?, destinationAlgorithm: EncryptionAlgorithm?,
        dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> ReEncryptOutput {
        // kms:ReEncryptOnSameKey needs the source key, which only the blob names; it is set
        // when the request names both keys the same way.
        var conditions = ["kms:ReEncryptOnSameKey": [sourceKeyID == destinationKeyID ? "true" : "false"]]
        conditions["kms:EncryptionAlgorithm"] = [(destinationAlgorithm ?? .symmetricDefault).rawValue]
        let destination = try await usableKey(
            destinationKeyID, context,
            AccessRequest(.reEncryptTo, keyReference: destinationKeyID, encryptionContext: destinationContext, conditions: conditions),
            operation: "ReEncrypt")
        let destinationAlgorithm = try requireEncryptionAlgorithm(destinationAlgorithm, destination)
        let source = try await decrypt(
            ciphertext, context: sourceContext, keyID: sourceKeyID, algorithm: sourceAlgorithm,
            dryRun: dryRun, context, action: .reEncryptFrom, operation: "ReEncrypt",
            conditions: ["kms:ReEncryptOnSameKey": conditions["kms:ReEncryptOnSameKey"]!])
        let sealed = try await encrypt(
            source.plaintext, under: destination, algorithm: destinationAlgorithm, context: destinationContext, request: context)
        return ReEncryptOutput(
            ciphertextBlob: sealed, sourceKeyARN: source.keyARN, keyARN: destination.arn,
            sourceAlgorithm: source.algorithm, destinationAlgorithm: destinationAlgorithm,
            sourceMaterialID: source.materialID, destinationMaterialID: try await currentMaterialID(of: destination))
    }
}
