import Foundation
import KMSStorage

extension KeyManagementService {
    /// Signs a message (`RAW`, hashed here) or a digest (`DIGEST`, signed as it is) with an
    /// asymmetric `SIGN_VERIFY` key. ECDSA signatures are DER-encoded.
    public func sign(
        keyID: String, message: Data, messageType: MessageType?, algorithm: SigningAlgorithm, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> (signature: [UInt8], keyARN: String) {
        let (key, material) = try await signingKey(keyID, algorithm: algorithm, messageType: messageType, context, action: .sign, operation: "Sign")
        try finishDryRun(dryRun)
        return (try material.sign(Array(message), type: messageType ?? .raw, algorithm: algorithm), key.arn)
    }

    func signingKey(
        _ keyID: String, algorithm: SigningAlgorithm, messageType: MessageType?, _ context: RequestContext, action: KMSAction, operation: String
    ) async throws(KMSError) -> (KMSKey, AsymmetricKeyMaterial) {
        let access = AccessRequest(
            action, keyReference: keyID,
            conditions: [
                "kms:SigningAlgorithm": [algorithm.rawValue], "kms:MessageType": [(messageType ?? .raw).rawValue],
            ])
        let key = try await usableKey(keyID, context, access, operation: operation, usage: .signVerify)
        guard key.signingAlgorithms.contains(algorithm) else {
            throw KMSError.incompatibleAlgorithm(algorithm.rawValue, key.spec)
        }
        return (key, try await asymmetricMaterial(of: key, operation: operation))
    }
}
