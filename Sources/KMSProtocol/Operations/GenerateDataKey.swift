import Foundation
import KMSService

extension OperationHandler {
    struct GenerateDataKeyRequest: Decodable {
        var keyId: String
        var encryptionContext: [String: String]?
        var numberOfBytes: Int?
        var keySpec: DataKeySpec?
        var grantTokens: [String]?
        var dryRun: Bool?
        var recipient: RecipientInfo?
    }

    struct GenerateDataKeyResponse: Encodable {
        var ciphertextBlob: Data
        var plaintext: Data?
        var ciphertextForRecipient: Data?
        var keyId: String
        var keyMaterialId: String?
    }

    static let generateDataKey = OperationHandler { (r: GenerateDataKeyRequest, service, context) throws(KMSError) in
        let context = try attested(r.recipient, service, context)
        let out = try await service.generateDataKey(
            keyID: r.keyId, keySpec: r.keySpec, numberOfBytes: r.numberOfBytes,
            context: EncryptionContext(r.encryptionContext ?? [:]), dryRun: r.dryRun, context)
        let (plaintext, forRecipient) = try forRecipient(out.plaintext, context.recipient)
        return GenerateDataKeyResponse(
            ciphertextBlob: Data(out.ciphertextBlob), plaintext: plaintext, ciphertextForRecipient: forRecipient, keyId: out.keyARN,
            keyMaterialId: out.materialID)
    }

    struct GenerateDataKeyWithoutPlaintextResponse: Encodable {
        var ciphertextBlob: Data
        var keyId: String
        var keyMaterialId: String?
    }

    static let generateDataKeyWithoutPlaintext = OperationHandler { (r: GenerateDataKeyRequest, service, context) throws(KMSError) in
        let out = try await service.generateDataKeyWithoutPlaintext(
            keyID: r.keyId, keySpec: r.keySpec, numberOfBytes: r.numberOfBytes,
            context: EncryptionContext(r.encryptionContext ?? [:]), dryRun: r.dryRun, context)
        return GenerateDataKeyWithoutPlaintextResponse(ciphertextBlob: Data(out.ciphertextBlob), keyId: out.keyARN, keyMaterialId: out.materialID)
    }

    /// The context of a request with a `Recipient`: its attestation document verified, and
    /// its measurements there for policies to test (`kms:RecipientAttestation:*`).
    static func attested(
        _ recipient: RecipientInfo?, _ service: KeyManagementService, _ context: RequestContext
    ) throws(KMSError) -> RequestContext {
        guard let recipient else { return context }
        var attested = context
        attested.recipient = try service.verifiedRecipient(attestationDocument: recipient.attestationDocument, context)
        return attested
    }

    /// What a response carries of a secret: the plaintext, or, for a request with a
    /// `Recipient`, only `CiphertextForRecipient` (the plaintext sealed for the enclave).
    static func forRecipient(_ plaintext: Data, _ recipient: RecipientAttestation?) throws(KMSError) -> (plaintext: Data?, sealed: Data?) {
        guard let recipient else { return (plaintext, nil) }
        return (nil, Data(try recipient.seal(plaintext)))
    }
}

/// `RecipientInfo`: a Nitro enclave's attestation document. Its `KeyEncryptionAlgorithm` has
/// one value in the model (RSAES_OAEP_SHA_256), which validation enforces; it is not read.
struct RecipientInfo: Decodable {
    var attestationDocument: Data?
}
