import Foundation
import KMSStorage

/// Multi-Region keys: a primary and its replicas share a key ID (`mrk-…`), key material, key
/// spec, usage, origin and automatic rotation; each has its own region, policy, description,
/// tags, grants, aliases and key state. Each holds its own copy of every material version,
/// wrapped for its own key ARN, so a key's material never depends on another region's row.
///
/// The shared properties are written to every key of the set in one transaction: rotation
/// and its schedule are changed on the primary and reach the replicas in the same commit.
extension KeyManagementService {
    /// The other keys of a multi-Region key's set (the primary and replicas other than `key`),
    /// ordered by region; empty for a single-Region key.
    func relatedKeys(of key: KMSKey) async throws(KMSError) -> [KMSKey] {
        guard key.isMultiRegion else { return [] }
        return try await store.relatedKeys(id: key.id)
            .filter { $0.region != key.region && $0.account == key.account }
    }

    /// Operations that change what a multi-Region key's set shares are made on its primary:
    /// on a replica they are `UnsupportedOperationException`, as on AWS.
    func requireNotReplica(_ key: KMSKey, operation: String) throws(KMSError) {
        guard key.isReplica else { return }
        throw KMSError(
            .unsupportedOperation,
            "\(key.arn) is a multi-Region replica key; call \(operation) on its primary key in \(key.primaryRegion ?? "its primary Region").")
    }

    /// The key's shared properties copied onto each related key (for one commit with `key`).
    func sharedUpdates(from key: KMSKey, to related: [KMSKey]) -> [Mutation] {
        related.map { other in
            var updated = other
            updated.currentMaterialVersion = key.currentMaterialVersion
            updated.automaticRotation = key.automaticRotation
            updated.primaryRegion = key.primaryRegion
            return .updateKey(updated)
        }
    }

    /// After a replica is deleted: a primary in `PendingReplicaDeletion` whose last replica
    /// this was starts its own deletion window now.
    func primaryAfterDeleting(replica: KMSKey, at now: Date) async throws(KMSError) -> KMSKey? {
        guard replica.isReplica, let primaryRegion = replica.primaryRegion,
            var primary = try await store.key(id: replica.id, region: primaryRegion),
            primary.state == .pendingReplicaDeletion
        else { return nil }
        let remaining = try await relatedKeys(of: primary).filter { $0.region != replica.region }
        guard remaining.isEmpty else { return nil }
        primary.state = try KeyLifecycle.state(after: .lastReplicaDeleted, of: primary)
        primary.deletionDate = now + Double(primary.pendingWindowInDays ?? 30) * 86_400
        return primary
    }
}

/// `MultiRegionConfiguration` of a multi-Region key, as DescribeKey shows it.
public struct MultiRegionConfiguration: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var arn: String
        public var region: String
    }

    /// `PRIMARY` or `REPLICA`: the described key's role.
    public var keyType: String
    public var primaryKey: Member
    /// Every replica, the described key included when it is one, ordered by region.
    public var replicaKeys: [Member]
}

extension KeyManagementService {
    /// The multi-Region configuration of a key the caller was authorized to describe; nil for
    /// a single-Region key.
    public func multiRegionConfiguration(of key: KMSKey) async throws(KMSError) -> MultiRegionConfiguration? {
        guard let keyType = key.multiRegionKeyType, let primaryRegion = key.primaryRegion else { return nil }
        let members = ([key] + (try await relatedKeys(of: key))).sorted { $0.region < $1.region }
        return MultiRegionConfiguration(
            keyType: keyType,
            primaryKey: .init(arn: ResourceName.keyARN(region: primaryRegion, account: key.account, keyID: key.id), region: primaryRegion),
            replicaKeys: members.filter { $0.region != primaryRegion }.map { .init(arn: $0.arn, region: $0.region) })
    }
}
