import KMSStorage

extension KeyManagementService {
    /// Adds tags to a key, overwriting the values of tag keys it already has.
    public func tagResource(keyID: String, tags: [Tag], _ context: RequestContext) async throws(KMSError) {
        try Tag.validate(tags)
        let action = KMSAction.tagResource
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action, conditions: Self.requestTagConditions(tags)), key: key)
            try KeyLifecycle.check(action, on: key)
            let existing = Set(try await store.tags(keyID: key.id, region: key.region).map(\.key))
            guard existing.union(tags.map(\.key)).count <= Tag.maximumPerKey else {
                throw KMSError(.limitExceeded, "A key can have at most \(Tag.maximumPerKey) tags.")
            }
            return ([.updateKey(key), .putTags(keyID: key.id, region: key.region, tags: tags)], ())
        }
    }

    /// `aws:RequestTag/KEY` and `aws:TagKeys` of a request that sets tags.
    static func requestTagConditions(_ tags: [Tag]) -> [String: [String]] {
        var conditions: [String: [String]] = tags.isEmpty ? [:] : ["aws:TagKeys": tags.map(\.key)]
        for tag in tags { conditions["aws:RequestTag/\(tag.key)"] = [tag.value] }
        return conditions
    }
}
