import Foundation
import KMSStorage

extension KeyManagementService {
    public struct EncryptOutput: Sendable {
        /// A format-1 blob (symmetric keys) or bare RSAES-OAEP output (RSA keys); contains no
        /// plaintext or key material.
        public var ciphertextBlob: [UInt8]
        public var keyARN: String
        public var algorithm: EncryptionAlgorithm
    }

    /// Encrypts up to 4096 bytes under a symmetric key's current material version, binding
    /// `context`; or, with an RSA key and an RSAES-OAEP algorithm, up to the key's OAEP limit.
    public func encrypt(
        keyID: String, plaintext: Data, context encryptionContext: EncryptionContext,
        algorithm: EncryptionAlgorithm?, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> EncryptOutput {
        let key = try await usableKey(keyID, context, AccessRequest(.encrypt, keyReference: keyID, encryptionContext: encryptionContext,
                                                                    conditions: ["kms:EncryptionAlgorithm": [(algorithm ?? .symmetricDefault).rawValue]]),
                                      operation: "Encrypt")
        let algorithm = try requireEncryptionAlgorithm(algorithm, key)
        try finishDryRun(dryRun)
        let blob = try await encrypt(plaintext, under: key, algorithm: algorithm, context: encryptionContext)
        return EncryptOutput(ciphertextBlob: blob, keyARN: key.arn, algorithm: algorithm)
    }

    /// Resolves a key (aliases, and other accounts' keys by ARN, allowed), authorizes the
    /// request, and requires the key `Enabled` with `usage`.
    func usableKey(_ keyID: String, _ context: RequestContext, _ access: AccessRequest, operation: String, usage: KeyUsage = .encryptDecrypt) async throws(KMSError) -> KMSKey {
        let key = try await resolveKey(keyID, context, allowAlias: true, action: access.action, crossAccount: true)
        return try await usable(key, context, access, operation: operation, usage: usage)
    }

    /// Authorizes the request on a resolved key and requires it `Enabled` with `usage`.
    func usable(_ key: KMSKey, _ context: RequestContext, _ access: AccessRequest, operation: String, usage: KeyUsage) async throws(KMSError) -> KMSKey {
        try await authorize(context, access, key: key)
        try KeyLifecycle.check(access.action, on: key)
        try requireUsage(key, usage, operation: operation)
        return key
    }

    /// Encrypts with the key's current material version; `algorithm` is one the key supports.
    func encrypt(_ plaintext: Data, under key: KMSKey, algorithm: EncryptionAlgorithm, context: EncryptionContext) async throws(KMSError) -> [UInt8] {
        if key.spec == .symmetricDefault { return try await seal(plaintext, under: key, context: context) }
        try Self.refuseContext(context, key)
        return try await currentMaterial(of: key, as: AsymmetricKeyMaterial.self).encrypt(Array(plaintext), algorithm: algorithm)
    }

    /// Encrypts with a symmetric key's current material version.
    func seal(_ plaintext: some DataProtocol, under key: KMSKey, context: EncryptionContext) async throws(KMSError) -> [UInt8] {
        let material = try await currentMaterial(of: key, as: SymmetricKeyMaterial.self)
        return try material.encrypt(plaintext, context: context, account: key.account, keyID: key.id,
                                    materialVersion: key.currentMaterialVersion)
    }

    /// Encryption context binds only to symmetric ciphertexts; AWS refuses it with other keys.
    static func refuseContext(_ context: EncryptionContext, _ key: KMSKey) throws(KMSError) {
        guard context.isEmpty else {
            throw KMSError.validation("EncryptionContext is not supported with asymmetric KMS keys (\(key.arn)).")
        }
    }
}
