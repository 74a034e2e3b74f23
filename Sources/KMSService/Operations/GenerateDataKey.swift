import Foundation
import KMSStorage

extension KeyManagementService {
    public struct DataKeyOutput: Sendable {
        public var ciphertextBlob: [UInt8]
        /// The data key in the clear: a secret. Never log or store it.
        public var plaintext: Data
        public var keyARN: String
        /// `KeyMaterialId` of the material that encrypted the data key.
        public var materialID: String?
    }

    /// A fresh data key, returned in the clear and encrypted under the KMS key.
    ///
    /// Exactly one of `keySpec` and `numberOfBytes` (1–1024) must be given.
    public func generateDataKey(
        keyID: String, keySpec: DataKeySpec?, numberOfBytes: Int?, context encryptionContext: EncryptionContext,
        dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> DataKeyOutput {
        try await generateDataKey(
            keyID: keyID, keySpec: keySpec, numberOfBytes: numberOfBytes, context: encryptionContext,
            dryRun: dryRun, context, action: .generateDataKey, operation: "GenerateDataKey")
    }

    func generateDataKey(
        keyID: String, keySpec: DataKeySpec?, numberOfBytes: Int?, context encryptionContext: EncryptionContext,
        dryRun: Bool?, _ context: RequestContext, action: KMSAction, operation: String
    ) async throws(KMSError) -> DataKeyOutput {
        let length: Int
        switch (keySpec, numberOfBytes) {
        case (let spec?, nil): length = spec.byteCount
        case (nil, let count?): length = count
        default: throw KMSError.validation("Please specify either number of bytes or key spec.")
        }
        let key = try await usableKey(
            keyID, context,
            AccessRequest(
                action, keyReference: keyID, encryptionContext: encryptionContext,
                conditions: ["kms:EncryptionAlgorithm": ["SYMMETRIC_DEFAULT"]]),
            operation: operation)
        try requireSymmetric(key, operation: operation)
        try finishDryRun(dryRun)
        let dataKey = Data(SecureRandom.bytes(length))
        let blob = try await seal(dataKey, under: key, context: encryptionContext, request: context)
        return DataKeyOutput(ciphertextBlob: blob, plaintext: dataKey, keyARN: key.arn, materialID: try await currentMaterialID(of: key))
    }
}
