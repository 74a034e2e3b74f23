import KMSStorage

extension KeyManagementService {
    /// Keys of the caller's account in the caller's region, including those pending deletion.
    public func listKeys(limit: Int?, marker: String?, _ context: RequestContext) async throws(KMSError) -> (keys: [KMSKey], nextMarker: String?) {
        try await authorizeAccountAction(context, AccessRequest(.listKeys))
        let limit = limit ?? 100
        let after = try Pagination.position(from: marker)
        let fetched = try await store.keys(account: context.account, region: context.region, afterID: after, limit: limit + 1)
        let page = Pagination.page(fetched, limit: limit, sortKey: \.id)
        return (page.items, page.nextMarker)
    }
}
