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
    }

    struct DecryptResponse: Encodable {
        var keyId: String
        var plaintext: Data
        var encryptionAlgorithm: String
        var keyMaterialId: String?
    }

    static let decrypt = OperationHandler { (r: DecryptRequest, service, context) throws(KMSError) in
        let out = try await service.decrypt(ciphertext: r.ciphertextBlob, context: EncryptionContext(r.encryptionContext ?? [:]),
                                            keyID: r.keyId, algorithm: r.encryptionAlgorithm, dryRun: r.dryRun, context)
        return DecryptResponse(keyId: out.keyARN, plaintext: out.plaintext, encryptionAlgorithm: out.algorithm.rawValue, keyMaterialId: out.materialID)
    }
}
