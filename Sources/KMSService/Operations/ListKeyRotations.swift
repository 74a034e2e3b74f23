import Foundation
import KMSStorage

extension KeyManagementService {
    public struct KeyRotationEntry: Sendable {
        public var keyID: String
        public var materialID: String
        /// `CURRENT`, `NON_CURRENT`, `PENDING_ROTATION` (imported for the next on-demand
        /// rotation) or `PENDING_MULTI_REGION_IMPORT_AND_ROTATION` (a replica has yet to import it).
        public var materialState: String
        /// nil for the first material.
        public var rotationDate: Date?
        public var rotationType: RotationType?
        /// For imported material only: `IMPORTED` or `PENDING_IMPORT` (expired or deleted).
        public var importState: String?
        public var expirationModel: ExpirationModel?
        public var validTo: Date?
        public var description: String?
    }

    /// The key's completed rotations, oldest first (`ROTATIONS_ONLY`, the default), or every
    /// material version including the first (`ALL_KEY_MATERIAL`). `limit` 1–1000, default 100.
    public func listKeyRotations(
        keyID: String, includeAllMaterial: Bool, limit: Int?, marker: String?,
        _ context: RequestContext
    ) async throws(KMSError) -> (entries: [KeyRotationEntry], nextMarker: String?) {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .listKeyRotations)
        try await authorize(context, AccessRequest(.listKeyRotations), key: key)
        try requireRotatable(key, imported: true)
        let after = try Pagination.position(from: marker)
        let materials = try await store.keyMaterials(keyID: key.id, region: key.region)
        // Material imported for the next rotation that some replica still has to import.
        var awaitingReplicas = false
        if key.isPrimary, let pending = materials.first(where: { $0.version > key.currentMaterialVersion }) {
            for replica in try await relatedKeys(of: key) {
                let copy = try await store.keyMaterial(keyID: replica.id, region: replica.region, version: pending.version)
                if copy?.isDeleted ?? true { awaitingReplicas = true }
            }
        }
        let entries =
            materials
            .filter { includeAllMaterial || $0.rotationType != nil }
            .map { m in
                let imported = key.origin == .external
                let state =
                    m.version == key.currentMaterialVersion
                    ? "CURRENT"
                    : m.version < key.currentMaterialVersion
                        ? "NON_CURRENT"
                        : awaitingReplicas ? "PENDING_MULTI_REGION_IMPORT_AND_ROTATION" : "PENDING_ROTATION"
                let present = imported && !m.isDeleted
                return KeyRotationEntry(
                    keyID: key.id, materialID: m.materialID, materialState: state,
                    rotationDate: m.rotationType == nil ? nil : m.creationDate, rotationType: m.rotationType,
                    importState: imported ? (m.isDeleted ? "PENDING_IMPORT" : "IMPORTED") : nil,
                    expirationModel: present ? ExpirationModel(validTo: m.validTo) : nil,
                    validTo: present ? m.validTo : nil,
                    description: imported ? m.description : nil)
            }
        let versionOf = Dictionary(uniqueKeysWithValues: materials.map { ($0.materialID, $0.version) })
        func sortKey(_ e: KeyRotationEntry) -> String { String(format: "%010u", versionOf[e.materialID] ?? 0) }
        let remaining = after.map { after in entries.filter { sortKey($0) > after } } ?? entries
        let limit = limit ?? 100
        let page = Pagination.page(Array(remaining.prefix(limit + 1)), limit: limit, sortKey: sortKey)
        return (page.items, page.nextMarker)
    }
}
