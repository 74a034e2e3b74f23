import KMSStorage

extension KeyManagementService {
    /// As GenerateDataKey, but the output holds only the encrypted data key.
    public func generateDataKeyWithoutPlaintext(
        keyID: String, keySpec: DataKeySpec?, numberOfBytes: Int?, context encryptionContext: EncryptionContext,
        dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> (ciphertextBlob: [UInt8], keyARN: String, materialID: String?) {
        let output = try await generateDataKey(
            keyID: keyID, keySpec: keySpec, numberOfBytes: numberOfBytes, context: encryptionContext, dryRun: dryRun,
            context, action: .generateDataKeyWithoutPlaintext, operation: "GenerateDataKeyWithoutPlaintext")
        return (output.ciphertextBlob, output.keyARN, output.materialID)
    }
}
