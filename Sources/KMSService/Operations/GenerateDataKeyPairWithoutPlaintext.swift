import Foundation

extension KeyManagementService {
    /// As GenerateDataKeyPair, but the output holds no private key in the clear.
    public func generateDataKeyPairWithoutPlaintext(
        keyID: String, spec: KeySpec, context encryptionContext: EncryptionContext, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> DataKeyPairOutput {
        try await generateDataKeyPair(
            keyID: keyID, spec: spec, context: encryptionContext, dryRun: dryRun, context,
            action: .generateDataKeyPairWithoutPlaintext,
            operation: "GenerateDataKeyPairWithoutPlaintext", withPlaintext: false)
    }
}
