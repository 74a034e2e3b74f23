import KMSStorage
extension KeyManagementService {
    public func updateKeyDescription(keyID: String, description: String, _ context: RequestContext) async throws(KMSError) {
        let action = "kms:UpdateKeyDescription"
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            try requireNotPendingDeletion(key)
            var updated = key
            updated.description = description
            return ([.updateKey(updated)], ())
        }
    }
}
