import KMSStorage

extension KeyManagementService {
    /// The DER SubjectPublicKeyInfo of an asymmetric key. Symmetric and HMAC keys have none
    /// (`UnsupportedOperationException`).
    public func getPublicKey(keyID: String, _ context: RequestContext) async throws(KMSError) -> (key: KMSKey, publicKey: [UInt8]) {
        let key = try await resolveKey(keyID, context, allowAlias: true, action: .getPublicKey, crossAccount: true)
        try await authorize(context, AccessRequest(.getPublicKey, keyReference: keyID), key: key)
        try KeyLifecycle.check(.getPublicKey, on: key)
        let material = try await asymmetricMaterial(of: key, operation: "GetPublicKey")
        return (key, try material.publicKeyDER())
    }

    /// The current material of an asymmetric key; `UnsupportedOperationException` for other keys.
    func asymmetricMaterial(of key: KMSKey, operation: String) async throws(KMSError) -> AsymmetricKeyMaterial {
        guard AsymmetricKeyMaterial.specs.contains(key.spec) else {
            throw KMSError(.unsupportedOperation, "\(operation) is not supported for \(key.spec.rawValue) key \(key.arn).")
        }
        return try await currentMaterial(of: key, as: AsymmetricKeyMaterial.self)
    }
}
