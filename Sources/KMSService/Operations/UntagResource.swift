import KMSStorage

extension KeyManagementService {
    /// Removes tags from a key; tag keys it doesn't have are ignored, reserved ones (`aws:`)
    /// refused as TagResource refuses them.
    public func untagResource(keyID: String, tagKeys: [String], _ context: RequestContext) async throws(KMSError) {
        let action = KMSAction.untagResource
        for tagKey in tagKeys { try Tag.checkNotReserved(tagKey) }
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action, conditions: ["aws:TagKeys": tagKeys]), key: key)
            try KeyLifecycle.check(action, on: key)
            return ([.updateKey(key), .removeTags(keyID: key.id, region: key.region, tagKeys: tagKeys)], ())
        }
    }
}
