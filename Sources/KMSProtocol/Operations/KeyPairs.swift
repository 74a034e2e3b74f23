import Foundation
import KMSService

extension OperationHandler {
    struct DeriveSharedSecretRequest: Decodable {
        var keyId: String
        var keyAgreementAlgorithm: KeyAgreementAlgorithm
        var publicKey: Data
        var grantTokens: [String]?
        var dryRun: Bool?
        var recipient: RecipientInfo?
    }

    struct DeriveSharedSecretResponse: Encodable {
        var keyId: String
        var sharedSecret: Data?
        var ciphertextForRecipient: Data?
        var keyAgreementAlgorithm: String
        var keyOrigin: String
    }

    static let deriveSharedSecret = OperationHandler { (r: DeriveSharedSecretRequest, service, context) throws(KMSError) in
        let context = try attested(r.recipient, service, context)
        let out = try await service.deriveSharedSecret(
            keyID: r.keyId, algorithm: r.keyAgreementAlgorithm, peerPublicKey: r.publicKey, dryRun: r.dryRun, context)
        let (secret, forRecipient) = try forRecipient(Data(out.secret), context.recipient)
        return DeriveSharedSecretResponse(
            keyId: out.key.arn, sharedSecret: secret, ciphertextForRecipient: forRecipient,
            keyAgreementAlgorithm: r.keyAgreementAlgorithm.rawValue, keyOrigin: out.key.origin.rawValue)
    }

    struct GenerateDataKeyPairRequest: Decodable {
        var encryptionContext: [String: String]?
        var keyId: String
        var keyPairSpec: KeySpec
        var grantTokens: [String]?
        var recipient: RecipientInfo?
        var dryRun: Bool?
    }

    struct GenerateDataKeyPairResponse: Encodable {
        var privateKeyCiphertextBlob: Data
        var privateKeyPlaintext: Data?
        var ciphertextForRecipient: Data?
        var publicKey: Data
        var keyId: String
        var keyPairSpec: String
        var keyMaterialId: String?
    }

    static let generateDataKeyPair = dataKeyPair(withPlaintext: true)
    static let generateDataKeyPairWithoutPlaintext = dataKeyPair(withPlaintext: false)

    /// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext share their shapes; the
    /// second's response has no `PrivateKeyPlaintext` (and its request no `Recipient`).
    static func dataKeyPair(withPlaintext: Bool) -> OperationHandler {
        OperationHandler { (r: GenerateDataKeyPairRequest, service, context) throws(KMSError) in
            let context = try attested(withPlaintext ? r.recipient : nil, service, context)
            let encryptionContext = EncryptionContext(r.encryptionContext ?? [:])
            let out =
                withPlaintext
                ? try await service.generateDataKeyPair(keyID: r.keyId, spec: r.keyPairSpec, context: encryptionContext, dryRun: r.dryRun, context)
                : try await service.generateDataKeyPairWithoutPlaintext(
                    keyID: r.keyId, spec: r.keyPairSpec, context: encryptionContext, dryRun: r.dryRun, context)
            var (privateKeyPlaintext, forRecipient): (Data?, Data?) = (nil, nil)
            if let plaintext = out.privateKeyPlaintext { (privateKeyPlaintext, forRecipient) = try Self.forRecipient(plaintext, context.recipient) }
            return GenerateDataKeyPairResponse(
                privateKeyCiphertextBlob: Data(out.privateKeyCiphertextBlob), privateKeyPlaintext: privateKeyPlaintext,
                ciphertextForRecipient: forRecipient, publicKey: Data(out.publicKey), keyId: out.keyARN, keyPairSpec: r.keyPairSpec.rawValue,
                keyMaterialId: out.materialID)
        }
    }
}
