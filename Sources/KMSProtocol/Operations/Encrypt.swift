import Foundation
import KMSService

extension OperationHandler {
    struct EncryptRequest: Decodable {
        var keyId: String
        var plaintext: Data
        var encryptionContext: [String: String]?
        var grantTokens: [String]?
        var encryptionAlgorithm: EncryptionAlgorithm?
        var dryRun: Bool?
    }

    struct EncryptResponse: Encodable {
        var ciphertextBlob: Data
        var keyId: String
        var encryptionAlgorithm: String
    }

    static let encrypt = OperationHandler { (r: EncryptRequest, service, context) throws(KMSError) in
        let out = try await service.encrypt(
            keyID: r.keyId, plaintext: r.plaintext, context: EncryptionContext(r.encryptionContext ?? [:]),
            algorithm: r.encryptionAlgorithm, dryRun: r.dryRun, context)
        return EncryptResponse(ciphertextBlob: Data(out.ciphertextBlob), keyId: out.keyARN, encryptionAlgorithm: out.algorithm.rawValue)
    }
}
