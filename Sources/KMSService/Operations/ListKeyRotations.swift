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
    }

    /// The key's completed rotations, oldest first (`ROTATIONS_ONLY`, the default), or every
    /// material version including the first (`ALL_KEY_MATERIAL`). `limit` 1–1000, default 100.
    public func listKeyRotations(keyID: String, includeAllMaterial: Bool, limit: Int?, marker: String?,
                                 _ context: RequestContext) async throws(KMSError) -> (entries: [KeyRotationEntry], nextMarker: String?) {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: "kms:ListKeyRotations")
        try await authorize(context, AccessRequest("kms:ListKeyRotations"), key: key)
        try requireRotatable(key)
        if key.state == .pendingImport { throw KMSError.invalidState("\(key.arn) is pending import.") }
        let after = try Pagination.position(from: marker)
        let materials = try await storeCall { () throws(StoreError) in try await store.keyMaterials(keyID: key.id) }
        let entries = materials
            .filter { includeAllMaterial || $0.rotationType != nil }
            .map { m in
                KeyRotationEntry(keyID: key.id, materialID: m.materialID,
                                 materialState: m.version == key.currentMaterialVersion ? "CURRENT" : "NON_CURRENT",
                                 rotationDate: m.rotationType == nil ? nil : m.creationDate, rotationType: m.rotationType)
            }
        let versionOf = Dictionary(uniqueKeysWithValues: materials.map { ($0.materialID, $0.version) })
        func sortKey(_ e: KeyRotationEntry) -> String { String(format: "%010u", versionOf[e.materialID] ?? 0) }
        let remaining = after.map { after in entries.filter { sortKey($0) > after } } ?? entries
        let limit = limit ?? 100
        let page = Pagination.page(Array(remaining.prefix(limit + 1)), limit: limit, sortKey: sortKey)
        return (page.items, page.nextMarker)
    }
}
