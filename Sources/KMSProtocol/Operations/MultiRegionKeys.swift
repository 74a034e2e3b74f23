import KMSService

extension OperationHandler {
    struct ReplicateKeyRequest: Decodable {
        var keyId: String
        var replicaRegion: String
        var policy: String?
        var bypassPolicyLockoutSafetyCheck: Bool?
        var description: String?
        var tags: [WireTag]?
    }

    struct ReplicateKeyResponse: Encodable {
        var replicaKeyMetadata: KeyMetadata
        var replicaPolicy: String
        /// Absent when the request gave no tags, as AWS's.
        var replicaTags: [WireTag]?
    }

    static let replicateKey = OperationHandler { (r: ReplicateKeyRequest, service, context) throws(KMSError) in
        let (replica, tags) = try await service.replicateKey(
            .init(
                keyID: r.keyId, replicaRegion: r.replicaRegion, policy: r.policy, bypassPolicyLockoutSafetyCheck: r.bypassPolicyLockoutSafetyCheck,
                description: r.description, tags: (r.tags ?? []).map(\.tag)), context)
        return ReplicateKeyResponse(
            replicaKeyMetadata: try await .of(replica, service), replicaPolicy: replica.policy,
            replicaTags: r.tags == nil ? nil : tags.map(WireTag.init))
    }

    struct UpdatePrimaryRegionRequest: Decodable {
        var keyId: String
        var primaryRegion: String
    }

    static let updatePrimaryRegion = OperationHandler { (r: UpdatePrimaryRegionRequest, service, context) throws(KMSError) in
        try await service.updatePrimaryRegion(keyID: r.keyId, primaryRegion: r.primaryRegion, context)
        return NoOutput()
    }
}
