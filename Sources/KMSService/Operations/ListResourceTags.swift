import KMSStorage

extension KeyManagementService {
    /// Tags of a key in any state, ordered by tag key.
    public func listResourceTags(
        keyID: String, limit: Int?, marker: String?, _ context: RequestContext
    ) async throws(KMSError) -> (tags: [Tag], nextMarker: String?) {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .listResourceTags)
        try await authorize(context, AccessRequest(.listResourceTags), key: key)
        let limit = limit ?? 50
        let after = try Pagination.position(from: marker)
        let all = try await store.tags(keyID: key.id, region: key.region)
        let remaining = after.map { after in all.filter { $0.key > after } } ?? all
        let page = Pagination.page(Array(remaining.prefix(limit + 1)), limit: limit, sortKey: \.key)
        return (page.items, page.nextMarker)
    }
}
