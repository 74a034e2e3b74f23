import Foundation
import KMSStorage

extension KeyManagementService {
    /// How long expired import parameters are kept to say so.
    static let expiredImportTokenMemory: TimeInterval = 7 * 24 * 3600

    /// Deletes the imported material whose `ValidTo` has passed, each version in one
    /// transaction with a `DeleteExpiredKeyMaterial` service event, and forgets import
    /// parameters `expiredImportTokenMemory` after they expired (until then, their token is
    /// `ExpiredImportTokenException`, as at AWS, rather than unknown).
    ///
    /// - Returns: the IDs of the keys whose material expired.
    @discardableResult
    public func expireImportedKeyMaterial() async throws(KMSError) -> [String] {
        let now = clock.now()
        let expired = try await store.expiredKeyMaterials(by: now)
        var done: [String] = []
        for listed in expired {
            // The list may be older than the key: another node can have deleted this material
            // between the two reads, and its commit moved the key's revision before this read.
            // The material is read again after the key, so that such a deletion is seen here
            // (or, when it commits after, this commit meets the key's new revision).
            guard let key = try await store.key(id: listed.keyID, region: listed.region),
                let record = try await store.keyMaterial(keyID: listed.keyID, region: listed.region, version: listed.version),
                !record.isDeleted, let validTo = record.validTo, validTo <= now
            else { continue }
            let event = AuditEvent.serviceEvent(
                "DeleteExpiredKeyMaterial", key: key, chain: audit.chain, at: now,
                details: ["keyMaterialId": .string(record.materialID)])
            let mutations = try Self.materialDeletion(key, record) + [.appendAuditEvent(event)]
            guard try await store.commitUnlessChanged(mutations) else { continue }
            done.append(key.id)
            logger.info("imported key material expired", metadata: ["keyId": "\(key.id)", "version": "\(record.version)"])
        }
        try await store.commit([.deleteImportParameters(expiredBy: now - Self.expiredImportTokenMemory)])
        return done
    }
}
