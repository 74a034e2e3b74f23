import Foundation
import KMSService

extension OperationHandler {
    struct DecryptRequest: Decodable {
        var ciphertextBlob: Data?
        var encryptionContext: [String: String]?
        var grantTokens: [String]?
        var keyId: String?
        var encryptionAlgorithm: EncryptionAlgorithm?
        var dryRun: Bool?
        var dryRunModifiers: [String]?
        var recipient: RecipientInfo?
    }

    /// The request's CiphertextBlob, required unless the request is a dry run with
    /// `IGNORE_CIPHERTEXT` (then nil: the ciphertext, even when given, is not looked at).
    static func ciphertextUnlessIgnored(_ blob: Data?, dryRun: Bool?, modifiers: [String]?) throws(KMSError) -> Data? {
        if dryRun == true, modifiers?.contains("IGNORE_CIPHERTEXT") == true { return nil }
        guard let blob else {
            throw KMSError.validation(
                "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null")
        }
        return blob
    }

    struct DecryptResponse: Encodable {
        var keyId: String
        var plaintext: Data?
        var ciphertextForRecipient: Data?
        var encryptionAlgorithm: String
        var keyMaterialId: String?
    }

    static let decrypt = OperationHandler { (r: DecryptRequest, service, context) throws(KMSError) in
        let context = try attested(r.recipient, service, context)
        let ciphertext = try ciphertextUnlessIgnored(r.ciphertextBlob, dryRun: r.dryRun, modifiers: r.dryRunModifiers)
        let out = try await service.decrypt(
            ciphertext: ciphertext, context: EncryptionContext(r.encryptionContext ?? [:]),
            keyID: r.keyId, algorithm: r.encryptionAlgorithm, dryRun: r.dryRun, context)
        let (plaintext, forRecipient) = try forRecipient(out.plaintext, context.recipient)
        return DecryptResponse(
            keyId: out.keyARN, plaintext: plaintext, ciphertextForRecipient: forRecipient, encryptionAlgorithm: out.algorithm.rawValue,
            keyMaterialId: out.materialID)
    }
}
