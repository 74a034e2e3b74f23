import Foundation
import KMSStorage

extension KeyManagementService {
    public struct DecryptOutput: Sendable {
        /// The plaintext: a secret. Never log it.
        public var plaintext: Data
        public var keyARN: String
        public var algorithm: EncryptionAlgorithm
        /// `KeyMaterialId` of the material that opened a symmetric ciphertext.
        public var materialID: String? = nil
    }

    /// Decrypts a symmetric blob (`keyID` optional; when given it must name the blob's key,
    /// else `IncorrectKeyException`), or an RSAES-OAEP ciphertext (`keyID` and `algorithm`
    /// required, as in AWS KMS). Every kind of bad ciphertext, including a wrong encryption
    /// context or a key that doesn't exist any more, is `InvalidCiphertextException`.
    ///
    /// A nil `ciphertext` is a dry run that ignores the ciphertext (`IGNORE_CIPHERTEXT`): see
    /// `dryRunIgnoringCiphertext`.
    public func decrypt(
        ciphertext: Data?, context encryptionContext: EncryptionContext, keyID: String?,
        algorithm: EncryptionAlgorithm?, dryRun: Bool?, _ context: RequestContext
    ) async throws(KMSError) -> DecryptOutput {
        try await decrypt(
            ciphertext, context: encryptionContext, keyID: keyID, algorithm: algorithm, dryRun: dryRun,
            context, action: .decrypt, operation: "Decrypt", conditions: [:])
    }

    func decrypt(
        _ ciphertext: Data?, context encryptionContext: EncryptionContext, keyID: String?, algorithm: EncryptionAlgorithm?,
        dryRun: Bool?, _ context: RequestContext, action: KMSAction, operation: String, conditions: [String: [String]]
    ) async throws(KMSError) -> DecryptOutput {
        var access = AccessRequest(action, keyReference: keyID, encryptionContext: encryptionContext, conditions: conditions)
        access.conditions["kms:EncryptionAlgorithm"] = [(algorithm ?? .symmetricDefault).rawValue]
        guard let ciphertext else {
            try await dryRunIgnoringCiphertext(
                keyID: keyID, algorithm: algorithm, encryptionContext: encryptionContext, context, access, operation: operation)
        }
        var requested: KMSKey?
        if let keyID {
            let key = try await resolveKey(keyID, context, allowAlias: true, action: action, crossAccount: true)
            requested = key
            // The key match first (AWS): a symmetric blob of another key is IncorrectKeyException
            // even when the named key cannot decrypt at all.
            if key.usage != .encryptDecrypt, let blob = try? SymmetricCiphertext(parsing: ciphertext), blob.keyID != key.id {
                throw KMSError(.incorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
            }
            if key.spec != .symmetricDefault {
                _ = try await usable(key, context, access, operation: operation, usage: .encryptDecrypt)
                let algorithm = try requireEncryptionAlgorithm(algorithm, key)
                try Self.refuseContext(encryptionContext, key)
                try finishDryRun(dryRun)
                let material = try await currentMaterial(of: key, as: AsymmetricKeyMaterial.self)
                return DecryptOutput(
                    plaintext: Data(try material.decrypt(Array(ciphertext), algorithm: algorithm)), keyARN: key.arn, algorithm: algorithm)
            }
        }
        let (key, blob) = try await ciphertextKey(ciphertext, requested: requested, context, access)
        try KeyLifecycle.check(access.action, on: key)
        try requireUsage(key, .encryptDecrypt, operation: operation)
        try requireEncryptionAlgorithm(algorithm, key)
        try finishDryRun(dryRun)
        let plaintext = try await open(blob, with: key, context: encryptionContext, request: context)
        return DecryptOutput(
            plaintext: plaintext, keyARN: key.arn, algorithm: .symmetricDefault,
            materialID: try await materialID(of: key, version: blob.materialVersion))
    }

    /// A dry run of Decrypt or ReEncrypt without its ciphertext (`DryRunModifiers:
    /// [IGNORE_CIPHERTEXT]`): the key must be named (`KeyId`, `SourceKeyId`); the request is
    /// authorized on it and the key must be able to decrypt as asked. Never returns: the
    /// answer is `DryRunOperationException`, or why the request would fail.
    func dryRunIgnoringCiphertext(
        keyID: String?, algorithm: EncryptionAlgorithm?, encryptionContext: EncryptionContext, _ context: RequestContext,
        _ access: AccessRequest, operation: String
    ) async throws(KMSError) -> Never {
        guard let keyID else {
            let member = operation == "ReEncrypt" ? "SourceKeyId" : "KeyId"
            throw KMSError.validation("\(member) is required when DryRun is true and DryRunModifiers includes IGNORE_CIPHERTEXT.")
        }
        let key = try await resolveKey(keyID, context, allowAlias: true, action: access.action, crossAccount: true)
        _ = try await usable(key, context, access, operation: operation, usage: .encryptDecrypt)
        try requireEncryptionAlgorithm(algorithm, key)
        if key.spec != .symmetricDefault { try Self.refuseContext(encryptionContext, key) }
        throw Self.dryRunSucceeded
    }

    /// Parses a blob and finds the key it names, checking it against the key the request
    /// named (if any) and authorizing the request on it.
    func ciphertextKey(
        _ ciphertext: Data, requested: KMSKey?, _ context: RequestContext, _ access: AccessRequest
    ) async throws(KMSError) -> (KMSKey, SymmetricCiphertext) {
        let blob = try SymmetricCiphertext(parsing: ciphertext)
        let found: KMSKey?
        if let requested {
            guard requested.id == blob.keyID, requested.account == blob.account else {
                throw KMSError(.incorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
            }
            found = requested
        } else {
            found = try await store.key(id: blob.keyID, region: context.region)
        }
        guard var key = found, key.account == blob.account, key.region == context.region, key.spec == .symmetricDefault
        else { throw KMSError.invalidCiphertext }
        try await noteStoreConnection(&key)
        try await authorize(context, access, key: key)
        return (key, blob)
    }

    func open(_ blob: SymmetricCiphertext, with key: KMSKey, context: EncryptionContext, request: RequestContext) async throws(KMSError) -> Data {
        if key.origin == .awsCloudHSM { return try await openInHSM(blob, with: key, context: context) }
        var blob = blob
        if key.origin == .externalKeyStore { blob = try await unwrapInXKS(blob, with: key, context: context, request: request) }
        guard let material = try await material(of: key, version: blob.materialVersion, as: SymmetricKeyMaterial.self) else {
            throw KMSError.invalidCiphertext
        }
        return try material.decrypt(blob, context: context)
    }
}
