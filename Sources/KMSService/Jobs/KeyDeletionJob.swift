import Foundation
import KMSStorage

extension KeyManagementService {
    /// Deletes every key whose deletion window has ended, with its material, aliases and
    /// tags, and records a `DeleteKey` service event in the same transaction. A key whose
    /// deletion was cancelled meanwhile is left alone (revision conflict). Deleting the last
    /// replica of a primary in `PendingReplicaDeletion` starts the primary's window.
    ///
    /// - Returns: the IDs of the keys deleted.
    @discardableResult
    public func deleteKeysDueForDeletion() async throws(KMSError) -> [String] {
        let due = try await store.keysDueForDeletion(at: clock.now())
        var deleted: [String] = []
        for key in due {
            let now = clock.now()
            let event = AuditEvent.serviceEvent("DeleteKey", key: key, chain: audit.chain, at: now)
            var mutations: [Mutation] = [.deleteKey(id: key.id, region: key.region, revision: key.revision), .appendAuditEvent(event)]
            if let primary = try await primaryAfterDeleting(replica: key, at: now) { mutations.append(.updateKey(primary)) }
            guard try await store.commitUnlessChanged(mutations) else { continue }
            deleted.append(key.id)
            if key.origin == .awsCloudHSM { await destroyInHSM(key) }
            logger.info("key deleted at the end of its deletion window", metadata: ["keyId": "\(key.id)"])
        }
        return deleted
    }
}
