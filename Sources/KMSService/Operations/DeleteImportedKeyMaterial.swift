import Foundation
import KMSStorage

extension KeyManagementService {
    /// Deletes imported material now: the current material (the key becomes `PendingImport`,
    /// one pending deletion stays so, until the same material is imported again), or the
    /// version `materialID` names.
    ///
    /// - Parameter materialID: when given, must name a version of the key's material (`NotFoundException`).
    /// - Returns: the key ARN and the deleted material's ID.
    public func deleteImportedKeyMaterial(
        keyID: String, materialID: String?, _ context: RequestContext
    ) async throws(KMSError) -> (keyARN: String, materialID: String?) {
        try await updatingKey(keyID, context, action: .deleteImportedKeyMaterial) { key throws(KMSError) in
            try await authorize(context, AccessRequest(.deleteImportedKeyMaterial), key: key)
            try requireImportable(key)
            let records = try await store.keyMaterials(keyID: key.id, region: key.region)
            let record: KeyMaterialRecord?
            if let materialID {
                guard let named = records.first(where: { $0.materialID == materialID }) else {
                    throw KMSError.notFound("\(key.arn) has no key material \(materialID).")
                }
                record = named
            } else {
                record = records.first { $0.version == key.currentMaterialVersion }
            }
            let mutations = try Self.materialDeletion(key, record)
            context.audit.setResponseElements(["keyId": .string(key.arn), "keyMaterialId": record.map { .string($0.materialID) } ?? .null])
            return (mutations, (key.arn, record?.materialID))
        }
    }

    /// The mutations that delete one version of a key's imported material: the row keeps its
    /// ID and loses the material; when it is the current version, the key goes `PendingImport`
    /// (`KeyLifecycle`: unless it is pending deletion).
    static func materialDeletion(_ key: KMSKey, _ record: KeyMaterialRecord?) throws(KMSError) -> [Mutation] {
        var updated = key
        if record == nil || record?.version == key.currentMaterialVersion {
            updated.state = try KeyLifecycle.state(after: .currentMaterialDeleted, of: key)
            updated.materialValidTo = nil
        }
        var mutations: [Mutation] = [.updateKey(updated)]
        if var record, !record.isDeleted {
            record.wrapped = []
            mutations.append(.replaceKeyMaterial(record))
        }
        return mutations
    }
}
