import Foundation
import KMSStorage

extension KeyManagementService {
    public struct ImportParametersOutput: Sendable {
        public var keyARN: String
        public var importToken: [UInt8]
        /// DER SubjectPublicKeyInfo of the RSA wrapping key.
        public var publicKey: [UInt8]
        public var validTo: Date
    }

    /// How long import parameters can be used (AWS: 24 hours).
    static let importParametersLifetime: TimeInterval = 24 * 3600

    /// A fresh RSA wrapping key pair and an import token for a key whose origin is `EXTERNAL`.
    /// The private half is stored only wrapped by the root key, and deleted once the
    /// parameters expire.
    ///
    /// - Parameters:
    ///   - algorithm: `RSAES_PKCS1_V1_5` is refused (`ValidationException`) as AWS refuses it;
    ///     `SM2PKE` is not offered.
    ///   - wrappingKeySpec: `RSA_2048`, `RSA_3072` or `RSA_4096`.
    public func getParametersForImport(
        keyID: String, algorithm: WrappingAlgorithmSpec, wrappingKeySpec: WrappingKeySpec,
        _ context: RequestContext
    ) async throws(KMSError) -> ImportParametersOutput {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .getParametersForImport)
        try await authorize(
            context,
            AccessRequest(
                .getParametersForImport,
                conditions: [
                    "kms:WrappingAlgorithm": [algorithm.rawValue], "kms:WrappingKeySpec": [wrappingKeySpec.rawValue],
                ]), key: key)
        try requireImportable(key)
        try KeyLifecycle.check(.getParametersForImport, on: key)
        guard let wrapping = algorithm.supported else {
            if algorithm == .rsaesPKCS1V15 {
                throw KMSError.validation(
                    "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported. Use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.")
            }
            throw KMSError(.unsupportedOperation, "The wrapping algorithm \(algorithm.rawValue) is not supported.")
        }
        guard let spec = wrappingKeySpec.rsaKeySpec else {
            throw KMSError(.unsupportedOperation, "The wrapping key spec \(wrappingKeySpec.rawValue) is not supported.")
        }
        let wrappingKey = try await KeyGeneration.offloaded { () throws(KMSError) in try AsymmetricKeyMaterial.generate(spec) }
        let now = clock.now()
        var parameters = ImportParameters(
            id: Hex.encode(SecureRandom.bytes(32)), keyID: key.id, region: key.region, algorithm: wrapping, wrappedPrivateKey: [],
            validTo: now + Self.importParametersLifetime)
        parameters.wrappedPrivateKey = try rootKey.wrapKeyMaterial(wrappingKey, keyARN: parameters.wrappingBinding, version: 0)
        try await store.commit([.insertImportParameters(parameters)], recording: context)
        return ImportParametersOutput(
            keyARN: key.arn, importToken: Self.importToken(parameters.id), publicKey: try wrappingKey.publicKeyDER(),
            validTo: parameters.validTo)
    }

    /// Only keys created for imported material (origin `EXTERNAL`) take it.
    func requireImportable(_ key: KMSKey) throws(KMSError) {
        guard key.origin == .external else {
            throw KMSError(.unsupportedOperation, "\(key.arn) origin is \(key.origin.rawValue) which is not valid for this operation.")
        }
    }

    private static let importTokenPrefix = Array("swiftkms:import-token:1:".utf8)

    /// The import token: a versioned prefix and the parameters' ID (the token is no secret:
    /// the parameters can only be used by callers allowed `kms:ImportKeyMaterial` on the key).
    static func importToken(_ id: String) -> [UInt8] {
        importTokenPrefix + Array(id.utf8)
    }

    /// The parameters' ID an import token names; nil for anything that is not one of ours.
    static func importParametersID(_ token: [UInt8]) -> String? {
        guard token.count == importTokenPrefix.count + 64, token.starts(with: importTokenPrefix) else { return nil }
        let id = String(decoding: token[importTokenPrefix.count...], as: UTF8.self)
        return ResourceName.isWellFormedGrantID(id) ? id : nil
    }
}
