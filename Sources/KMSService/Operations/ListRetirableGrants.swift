import KMSStorage

extension KeyManagementService {
    /// Grants on keys in this region, of any account, that `retiringPrincipal` may retire.
    /// An identity-policy permission (`kms:ListRetirableGrants` on `*`).
    public func listRetirableGrants(retiringPrincipal: String, limit: Int?, marker: String?, _ context: RequestContext) async throws(KMSError) -> (grants: [Grant], nextMarker: String?) {
        try await authorizeAccountAction(context, AccessRequest("kms:ListRetirableGrants"))
        try await requireGrantPrincipal(retiringPrincipal, member: "RetiringPrincipal")
        let limit = limit ?? 50
        var after = try Pagination.position(from: marker)
        var found: [Grant] = []
        // Grants of other regions are skipped; fetch until a page (plus one) is full.
        while found.count <= limit {
            let batch = try await storeCall { () throws(StoreError) in
                try await store.grants(retiringPrincipal: retiringPrincipal, afterID: after, limit: limit + 1)
            }
            found += batch.filter { $0.keyARN.split(separator: ":", maxSplits: 5).dropFirst(3).first.map(String.init) == context.region }
            guard batch.count == limit + 1, let last = batch.last else { break }
            after = last.id
        }
        let page = Pagination.page(found, limit: limit, sortKey: \.id)
        return (page.items, page.nextMarker)
    }
}
