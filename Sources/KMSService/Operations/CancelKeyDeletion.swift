import KMSStorage

extension KeyManagementService {
    /// Takes a key out of `PendingDeletion` (or `PendingReplicaDeletion`). As in AWS KMS, it comes back `Disabled`, or
    /// `PendingImport` when it is a key for imported material that has none.
    public func cancelKeyDeletion(keyID: String, _ context: RequestContext) async throws(KMSError) -> KMSKey {
        let action = KMSAction.cancelKeyDeletion
        return try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            guard KeyLifecycle.isPendingDeletion(key.state) else { throw KMSError.invalidState("\(key.arn) is not pending deletion.") }
            var updated = key
            updated.state = try KeyLifecycle.state(after: .cancelDeletion(hasMaterial: try await hasUsableMaterial(key)), of: key)
            updated.deletionDate = nil
            updated.pendingWindowInDays = nil
            context.audit.setResponseElements(["keyId": .string(key.arn)])
            return ([.updateKey(updated)], updated)
        }
    }
}

extension KeyManagementService {
    /// Whether the key's current material is there (always, unless imported material was
    /// never imported, expired or was deleted).
    func hasUsableMaterial(_ key: KMSKey) async throws(KMSError) -> Bool {
        guard key.origin == .external else { return true }
        guard key.currentMaterialVersion > 0,
            let record = try await store.keyMaterial(keyID: key.id, region: key.region, version: key.currentMaterialVersion)
        else { return false }
        return !record.isDeleted
    }
}
