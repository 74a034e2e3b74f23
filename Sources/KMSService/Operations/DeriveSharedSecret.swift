import Foundation
import KMSStorage

extension KeyManagementService {
    /// ECDH between a `KEY_AGREEMENT` key's private key and a peer's public key (DER SPKI on
    /// the same curve). Returns the raw shared secret, as AWS does: no KDF applied.
    public func deriveSharedSecret(
        keyID: String, algorithm: KeyAgreementAlgorithm, peerPublicKey: Data, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> (secret: [UInt8], key: KMSKey) {
        let action = KMSAction.deriveSharedSecret
        let key = try await usableKey(
            keyID, context, AccessRequest(action, keyReference: keyID, conditions: ["kms:KeyAgreementAlgorithm": [algorithm.rawValue]]),
            operation: "DeriveSharedSecret", usage: .keyAgreement)
        guard key.keyAgreementAlgorithms.contains(algorithm) else {
            throw KMSError.incompatibleAlgorithm(algorithm.rawValue, key.spec)
        }
        let material = try await asymmetricMaterial(of: key, operation: "DeriveSharedSecret")
        try finishDryRun(dryRun)
        return (try material.deriveSharedSecret(peerPublicKey: Array(peerPublicKey)), key)
    }
}
