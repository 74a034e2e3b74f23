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
        var recipient: IgnoredMember?
    }

    struct GenerateDataKeyResponse: Encodable {
        var ciphertextBlob: Data
        var plaintext: Data
        var keyId: String
        var keyMaterialId: String?
    }

    static let generateDataKey = OperationHandler { (r: GenerateDataKeyRequest, service, context) throws(KMSError) in
        try rejectRecipient(r.recipient)
        let out = try await service.generateDataKey(
            keyID: r.keyId, keySpec: r.keySpec, numberOfBytes: r.numberOfBytes,
            context: EncryptionContext(r.encryptionContext ?? [:]), dryRun: r.dryRun, context)
        return GenerateDataKeyResponse(
            ciphertextBlob: Data(out.ciphertextBlob), plaintext: out.plaintext, keyId: out.keyARN, keyMaterialId: out.materialID)
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

    /// Nitro Enclaves attestation (`Recipient`) is not available: refuse it rather than
    /// return a plaintext the caller asked to receive only encrypted to an enclave.
    static func rejectRecipient(_ recipient: IgnoredMember?) throws(KMSError) {
        if recipient != nil {
            throw KMSError(.unsupportedOperation, "Recipient (Nitro Enclaves attestation) is not supported by this server.")
        }
    }
}

/// A member whose presence matters but whose content is not read.
struct IgnoredMember: Decodable {
    init(from decoder: any Decoder) throws {}
}
