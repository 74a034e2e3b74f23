import Foundation
import KMSStorage

extension KeyManagementService {
    /// Checks an HMAC made by `generateMac` (compared in constant time). A MAC that does not
    /// verify is `KMSInvalidMacException`, never a `false` result.
    public func verifyMac(
        keyID: String, message: Data, mac: Data, algorithm: MacAlgorithm, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> String {
        let (key, material) = try await macKey(keyID, algorithm: algorithm, context, action: .verifyMac, operation: "VerifyMac")
        try finishDryRun(dryRun)
        guard try material.isValid(mac, for: message, algorithm: algorithm) else {
            throw KMSError(.invalidMac, "")
        }
        return key.arn
    }
}
