import Foundation
import KMSStorage

extension KeyManagementService {
    public struct DataKeyPairOutput: Sendable {
        /// The private key (DER PKCS#8) encrypted under the symmetric KMS key, with the context.
        public var privateKeyCiphertextBlob: [UInt8]
        /// The private key in the clear (DER PKCS#8): a secret. Nil for ...WithoutPlaintext.
        public var privateKeyPlaintext: Data?
        /// DER SubjectPublicKeyInfo.
        public var publicKey: [UInt8]
        public var keyARN: String
        /// `KeyMaterialId` of the material that encrypted the private key.
        public var materialID: String?
    }

    /// A fresh key pair of `spec`, its private key encrypted under a symmetric encryption key.
    public func generateDataKeyPair(
        keyID: String, spec: KeySpec, context encryptionContext: EncryptionContext, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> DataKeyPairOutput {
        try await generateDataKeyPair(
            keyID: keyID, spec: spec, context: encryptionContext, dryRun: dryRun, context,
            action: .generateDataKeyPair, operation: "GenerateDataKeyPair", withPlaintext: true)
    }

    func generateDataKeyPair(
        keyID: String, spec: KeySpec, context encryptionContext: EncryptionContext, dryRun: Bool?, _ context: RequestContext,
        action: KMSAction, operation: String, withPlaintext: Bool
    ) async throws(KMSError) -> DataKeyPairOutput {
        let key = try await usableKey(
            keyID, context,
            AccessRequest(
                action, keyReference: keyID, encryptionContext: encryptionContext,
                conditions: ["kms:DataKeyPairSpec": [spec.rawValue], "kms:EncryptionAlgorithm": ["SYMMETRIC_DEFAULT"]]),
            operation: operation)
        try requireSymmetric(key, operation: operation)
        try Self.requireOffered(spec, context, member: "KeyPairSpec")
        try finishDryRun(dryRun)
        let pair = try await KeyGeneration.offloaded { () throws(KMSError) in try AsymmetricKeyMaterial.generate(spec) }
        let (blob, plaintext) = try await pair.withPKCS8 { pkcs8 throws(KMSError) in
            (try await seal(pkcs8, under: key, context: encryptionContext, request: context), withPlaintext ? Data(pkcs8) : nil)
        }
        return DataKeyPairOutput(
            privateKeyCiphertextBlob: blob, privateKeyPlaintext: plaintext,
            publicKey: try pair.publicKeyDER(), keyARN: key.arn, materialID: try await currentMaterialID(of: key))
    }
}

extension AsymmetricKeyMaterial {
    /// Runs `body` with the private key as DER PKCS#8, zeroed afterwards.
    func withPKCS8<R>(_ body: ([UInt8]) async throws(KMSError) -> R) async throws(KMSError) -> R {
        var der: [UInt8]
        do { der = try withUnsafeRawBytes { Array($0) } } catch { throw KMSError.internalFailure() }
        defer { for i in der.indices { der[i] = 0 } }
        return try await body(der)
    }
}
