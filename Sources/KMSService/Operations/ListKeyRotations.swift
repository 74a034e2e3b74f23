import Foundation
import KMSStorage

extension KeyManagementService {
    public struct KeyRotationEntry: Sendable {
        public var keyID: String
        public var materialID: String
        /// `CURRENT` or `NON_CURRENT`.
        public var materialState: String
        /// nil for the first material.
        public var rotationDate: Date?
        public var rotationType: RotationType?
        /// For imported material only: `IMPORTED` or `PENDING_IMPORT` (expired or deleted).
        public var importState: String?
        public var expirationModel: String?
        public var validTo: Date?
        public var description: String?
    }

    /// The key's completed rotations, oldest first (`ROTATIONS_ONLY`, the default), or every
    /// material version including the first (`ALL_KEY_MATERIAL`). `limit` 1–1000, default 100.
    public func listKeyRotations(keyID: String, includeAllMaterial: Bool, limit: Int?, marker: String?,
                                 _ context: RequestContext) async throws(KMSError) -> (entries: [KeyRotationEntry], nextMarker: String?) {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: "kms:ListKeyRotations")
        try await authorize(context, AccessRequest("kms:ListKeyRotations"), key: key)
        try requireRotatable(key, imported: true)
        let after = try Pagination.position(from: marker)
        let materials = try await storeCall { () throws(StoreError) in try await store.keyMaterials(keyID: key.id, region: key.region) }
        let entries = materials
            .filter { includeAllMaterial || $0.rotationType != nil }
            .map { m in
                let imported = key.origin == .external
                let current = m.version == key.currentMaterialVersion
                return KeyRotationEntry(keyID: key.id, materialID: m.materialID, materialState: current ? "CURRENT" : "NON_CURRENT",
                                        rotationDate: m.rotationType == nil ? nil : m.creationDate, rotationType: m.rotationType,
                                        importState: imported ? (m.isDeleted ? "PENDING_IMPORT" : "IMPORTED") : nil,
                                        expirationModel: imported && current && !m.isDeleted ? key.expirationModel : nil,
                                        validTo: current && !m.isDeleted ? key.materialValidTo : nil,
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
