import Foundation
import KMSStorage

extension KeyManagementService {
    /// The HMAC of `message` (1–4096 bytes) with an HMAC key, for the key's one algorithm.
    public func generateMac(
        keyID: String, message: Data, algorithm: MacAlgorithm, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> (mac: [UInt8], keyARN: String) {
        let (key, material) = try await macKey(keyID, algorithm: algorithm, context, action: .generateMac, operation: "GenerateMac")
        try finishDryRun(dryRun)
        return (try material.mac(message, algorithm: algorithm), key.arn)
    }

    /// Resolves an HMAC key usable with `algorithm`, authorizes `action`, and unwraps its material.
    func macKey(
        _ keyID: String, algorithm: MacAlgorithm, _ context: RequestContext, action: KMSAction, operation: String
    ) async throws(KMSError) -> (KMSKey, HMACKeyMaterial) {
        let key = try await usableKey(
            keyID, context, AccessRequest(action, keyReference: keyID, conditions: ["kms:MacAlgorithm": [algorithm.rawValue]]),
            operation: operation, usage: .generateVerifyMac)
        guard key.macAlgorithms.contains(algorithm) else {
            throw KMSError.incompatibleAlgorithm(algorithm.rawValue, key.spec)
        }
        return (key, try await currentMaterial(of: key, as: HMACKeyMaterial.self))
    }
}
