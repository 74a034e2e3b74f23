import Foundation
import KMSStorage

extension KeyManagementService {
    /// Checks a signature as `sign` makes it. A signature that does not verify is
    /// `KMSInvalidSignatureException`, never a `false` result.
    public func verify(
        keyID: String, message: Data, messageType: MessageType?, signature: Data, algorithm: SigningAlgorithm, dryRun: Bool?,
        _ context: RequestContext
    ) async throws(KMSError) -> String {
        let (key, material) = try await signingKey(
            keyID, algorithm: algorithm, messageType: messageType, context, action: .verify, operation: "Verify")
        try finishDryRun(dryRun)
        guard try material.isValidSignature(Array(signature), for: Array(message), type: messageType ?? .raw, algorithm: algorithm) else {
            throw KMSError(.kmsInvalidSignature, "")
        }
        return key.arn
    }
}
