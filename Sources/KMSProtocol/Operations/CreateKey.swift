import KMSService

extension OperationHandler {
    struct CreateKeyRequest: Decodable {
        var policy: String?
        var description: String?
        var keyUsage: KeyUsage?
        var customerMasterKeySpec: KeySpec?
        var keySpec: KeySpec?
        var origin: KeyOrigin?
        var customKeyStoreId: String?
        var bypassPolicyLockoutSafetyCheck: Bool?
        var tags: [WireTag]?
        var multiRegion: Bool?
        var xksKeyId: String?
    }

    static let createKey = OperationHandler { (r: CreateKeyRequest, service, context) throws(KMSError) in
        let key = try await service.createKey(
            .init(
                policy: r.policy, description: r.description, keyUsage: r.keyUsage, keySpec: r.keySpec,
                customerMasterKeySpec: r.customerMasterKeySpec, origin: r.origin, customKeyStoreID: r.customKeyStoreId,
                tags: (r.tags ?? []).map(\.tag), multiRegion: r.multiRegion, xksKeyID: r.xksKeyId,
                bypassPolicyLockoutSafetyCheck: r.bypassPolicyLockoutSafetyCheck), context)
        return KeyMetadataResponse(keyMetadata: try await .of(key, service))
    }
}
