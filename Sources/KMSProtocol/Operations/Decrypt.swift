import Foundation
import KMSService

extension OperationHandler {
    struct DecryptRequest: Decodable {
        var ciphertextBlob: Data
        var encryptionContext: [String: String]?
        var grantTokens: [String]?
        var keyId: String?
        var encryptionAlgorithm: EncryptionAlgorithm?
        var dryRun: Bool?
        var recipient: IgnoredMember?
    }

    struct DecryptResponse: Encodable {
        var keyId: String
        var plaintext: Data
        var encryptionAlgorithm: String
        var keyMaterialId: String?
    }

    static let decrypt = OperationHandler { (r: DecryptRequest, service, context) throws(KMSError) in
        // Never the plaintext to a request that asked for it only sealed to a recipient.
        try rejectRecipient(r.recipient)
        let out = try await service.decrypt(
            ciphertext: r.ciphertextBlob, context: EncryptionContext(r.encryptionContext ?? [:]),
            keyID: r.keyId, algorithm: r.encryptionAlgorithm, dryRun: r.dryRun, context)
        return DecryptResponse(
            keyId: out.keyARN, plaintext: out.plaintext, encryptionAlgorithm: out.algorithm.rawValue, keyMaterialId: out.materialID)
    }
}
