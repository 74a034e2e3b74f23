import Foundation
import KMSService

extension OperationHandler {
    struct ReEncryptRequest: Decodable {
        var ciphertextBlob: Data?
        var sourceEncryptionContext: [String: String]?
        var sourceKeyId: String?
        var destinationKeyId: String
        var destinationEncryptionContext: [String: String]?
        var sourceEncryptionAlgorithm: EncryptionAlgorithm?
        var destinationEncryptionAlgorithm: EncryptionAlgorithm?
        var grantTokens: [String]?
        var dryRun: Bool?
        var dryRunModifiers: [String]?
    }

    struct ReEncryptResponse: Encodable {
        var ciphertextBlob: Data
        var sourceKeyId: String
        var keyId: String
        var sourceEncryptionAlgorithm: String
        var destinationEncryptionAlgorithm: String
        var sourceKeyMaterialId: String?
        var destinationKeyMaterialId: String?
    }

    static let reEncrypt = OperationHandler { (r: ReEncryptRequest, service, context) throws(KMSError) in
        let out = try await service.reEncrypt(
            ciphertext: try ciphertextUnlessIgnored(r.ciphertextBlob, dryRun: r.dryRun, modifiers: r.dryRunModifiers),
            sourceContext: EncryptionContext(r.sourceEncryptionContext ?? [:]),
            sourceKeyID: r.sourceKeyId, destinationKeyID: r.destinationKeyId,
            destinationContext: EncryptionContext(r.destinationEncryptionContext ?? [:]),
            sourceAlgorithm: r.sourceEncryptionAlgorithm, destinationAlgorithm: r.destinationEncryptionAlgorithm,
            dryRun: r.dryRun, context)
        return ReEncryptResponse(
            ciphertextBlob: Data(out.ciphertextBlob), sourceKeyId: out.sourceKeyARN, keyId: out.keyARN,
            sourceEncryptionAlgorithm: out.sourceAlgorithm.rawValue,
            destinationEncryptionAlgorithm: out.destinationAlgorithm.rawValue,
            sourceKeyMaterialId: out.sourceMaterialID, destinationKeyMaterialId: out.destinationMaterialID)
    }
}
