import Foundation
import KMSService

extension OperationHandler {
    struct GetPublicKeyRequest: Decodable {
        var keyId: String
        var grantTokens: [String]?
    }

    struct GetPublicKeyResponse: Encodable {
        var keyId: String
        var publicKey: Data
        var customerMasterKeySpec: String
        var keySpec: String
        var keyUsage: String
        var encryptionAlgorithms: [String]?
        var signingAlgorithms: [String]?
        var keyAgreementAlgorithms: [String]?
    }

    static let getPublicKey = OperationHandler { (r: GetPublicKeyRequest, service, context) throws(KMSError) in
        let (key, publicKey) = try await service.getPublicKey(keyID: r.keyId, context)
        return GetPublicKeyResponse(
            keyId: key.arn, publicKey: Data(publicKey), customerMasterKeySpec: key.spec.rawValue,
            keySpec: key.spec.rawValue, keyUsage: key.usage.rawValue,
            encryptionAlgorithms: KeyMetadata.names(key.encryptionAlgorithms),
            signingAlgorithms: KeyMetadata.names(key.signingAlgorithms),
            keyAgreementAlgorithms: KeyMetadata.names(key.keyAgreementAlgorithms))
    }

    struct SignRequest: Decodable {
        var keyId: String
        var message: Data
        var messageType: MessageType?
        var grantTokens: [String]?
        var signingAlgorithm: SigningAlgorithm
        var dryRun: Bool?
    }

    struct SignResponse: Encodable {
        var keyId: String
        var signature: Data
        var signingAlgorithm: String
    }

    static let sign = OperationHandler { (r: SignRequest, service, context) throws(KMSError) in
        let out = try await service.sign(
            keyID: r.keyId, message: r.message, messageType: r.messageType, algorithm: r.signingAlgorithm, dryRun: r.dryRun, context)
        return SignResponse(keyId: out.keyARN, signature: Data(out.signature), signingAlgorithm: r.signingAlgorithm.rawValue)
    }

    struct VerifyRequest: Decodable {
        var keyId: String
        var message: Data
        var messageType: MessageType?
        var signature: Data
        var signingAlgorithm: SigningAlgorithm
        var grantTokens: [String]?
        var dryRun: Bool?
    }

    struct VerifyResponse: Encodable {
        var keyId: String
        var signatureValid: Bool
        var signingAlgorithm: String
    }

    static let verify = OperationHandler { (r: VerifyRequest, service, context) throws(KMSError) in
        let arn = try await service.verify(
            keyID: r.keyId, message: r.message, messageType: r.messageType, signature: r.signature,
            algorithm: r.signingAlgorithm, dryRun: r.dryRun, context)
        return VerifyResponse(keyId: arn, signatureValid: true, signingAlgorithm: r.signingAlgorithm.rawValue)
    }
}
