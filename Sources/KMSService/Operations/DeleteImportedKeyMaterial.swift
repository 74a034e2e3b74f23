import Foundation
import KMSStorage

extension KeyManagementService {
    /// Deletes a key's imported material now: the key becomes `PendingImport` (one pending
    /// deletion stays so) until the same material is imported again.
    ///
    /// - Parameter materialID: when given, must name the key's current material (`NotFoundException`).
    /// - Returns: the key ARN and the deleted material's ID.
    public func deleteImportedKeyMaterial(keyID: String, materialID: String?, _ context: RequestContext) async throws(KMSError) -> (keyARN: String, materialID: String?) {
        try await updatingKey(keyID, context, action: "kms:DeleteImportedKeyMaterial") { key throws(KMSError) in
            try await authorize(context, AccessRequest("kms:DeleteImportedKeyMaterial"), key: key)
            try requireImportable(key)
            let record = key.currentMaterialVersion == 0 ? nil
                : try await storeCall { () throws(StoreError) in try await store.keyMaterial(keyID: key.id, region: key.region, version: key.currentMaterialVersion) }
            if let materialID, record?.materialID != materialID {
                throw KMSError.notFound("\(key.arn) has no key material \(materialID).")
            }
            let (mutations, _) = Self.materialDeletion(key, record)
            context.audit.setResponseElements(["keyId": .string(key.arn), "keyMaterialId": record.map { .string($0.materialID) } ?? .null])
            return (mutations, (key.arn, record?.materialID))
        }
    }

    /// The mutations that delete a key's imported material: the material row keeps its ID and
    /// loses the material; the key goes `PendingImport` unless it is pending deletion.
    static func materialDeletion(_ key: KMSKey, _ record: KeyMaterialRecord?) -> (mutations: [Mutation], key: KMSKey) {
        var updated = key
        if key.state != .pendingDeletion { updated.state = .pendingImport }
        updated.materialValidTo = nil
        var mutations: [Mutation] = [.updateKey(updated)]
        if var record, !record.isDeleted {
            record.wrapped = []
            mutations.append(.replaceKeyMaterial(record))
        }
        return (mutations, updated)
    }

    /// Deletes the imported material whose `ValidTo` has passed, each key in one transaction
    /// with a `DeleteExpiredKeyMaterial` service event, and forgets expired import parameters.
    ///
    /// - Returns: the IDs of the keys whose material expired.
    @discardableResult
    public func expireImportedKeyMaterial() async throws(KMSError) -> [String] {
        let now = clock.now()
        let expired = try await storeCall { () throws(StoreError) in try await store.keysWithMaterialExpired(by: now) }
        var done: [String] = []
        for key in expired {
            let record = try await storeCall { () throws(StoreError) in try await store.keyMaterial(keyID: key.id, region: key.region, version: key.currentMaterialVersion) }
            let event = AuditEvent.serviceEvent("DeleteExpiredKeyMaterial", key: key, chain: audit.chain, at: now)
            do {
                try await store.commit(Self.materialDeletion(key, record).mutations + [.appendAuditEvent(event)])
                done.append(key.id)
                logger.info("imported key material expired", metadata: ["keyId": "\(key.id)"])
            } catch .conflict {
                continue
            } catch {
                logger.error("store failure", metadata: ["error": "\(error)"])
                throw KMSError.internalFailure()
            }
        }
        try await storeCall { () throws(StoreError) in try await store.commit([.deleteImportParameters(expiredBy: now)]) }
        return done
    }
}
