import KMSStorage

extension KeyManagementService {
    public func updateKeyDescription(keyID: String, description: String, _ context: RequestContext) async throws(KMSError) {
        let action = KMSAction.updateKeyDescription
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            try KeyLifecycle.check(action, on: key)
            var updated = key
            updated.description = description
            return ([.updateKey(updated)], ())
        }
    }
}
