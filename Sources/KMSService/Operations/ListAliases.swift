import KMSStorage

extension KeyManagementService {
    /// Aliases of the caller's account and region, or of one key (`keyID`: key ID or key ARN).
    public func listAliases(
        keyID: String?, limit: Int?, marker: String?, _ context: RequestContext
    ) async throws(KMSError) -> (aliases: [Alias], nextMarker: String?) {
        try await authorizeAccountAction(context, AccessRequest(.listAliases))
        let limit = limit ?? 50
        let after = try Pagination.position(from: marker)
        var target: String?
        if let keyID {
            let key = try await resolveKey(keyID, context, allowAlias: false, action: .listAliases)
            target = key.id
        }
        let fetched = try await store.aliases(
            account: context.account, region: context.region, targetKeyID: target, afterName: after, limit: limit + 1)
        let page = Pagination.page(fetched, limit: limit, sortKey: \.name)
        return (page.items, page.nextMarker)
    }
}
