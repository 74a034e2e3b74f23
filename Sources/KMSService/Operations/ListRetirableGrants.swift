import KMSStorage

extension KeyManagementService {
    /// Grants in this region that `retiringPrincipal`, a principal of the caller's account, may
    /// retire: on keys of any account when it is an ARN of the caller's account, on keys of the
    /// caller's account when it is a service principal (those are matched per account). An
    /// identity-policy permission (`kms:ListRetirableGrants` on `*`). Whether the principal
    /// exists is not told: a principal with no grants and one that does not exist look alike.
    public func listRetirableGrants(
        retiringPrincipal: String, limit: Int?, marker: String?, _ context: RequestContext
    ) async throws(KMSError) -> (grants: [Grant], nextMarker: String?) {
        try await authorizeAccountAction(context, AccessRequest(.listRetirableGrants))
        let isServicePrincipal = retiringPrincipal.hasSuffix(".amazonaws.com") && !retiringPrincipal.contains(":")
        if !isServicePrincipal {
            guard PrincipalSet.awsPrincipalARN(retiringPrincipal) != nil, retiringPrincipal.hasPrefix("arn:") else {
                throw KMSError(.invalidArn, "RetiringPrincipal \(retiringPrincipal) is not a valid principal ARN.")
            }
            guard Principal(arn: retiringPrincipal)?.account == context.account else {
                throw KMSError(
                    .accessDenied, "User: \(context.principal.arn) is not authorized to list the retirable grants of a principal of another account.")
            }
        }
        func listed(_ grant: Grant) -> Bool {
            let arnParts = grant.keyARN.split(separator: ":", maxSplits: 5)
            guard arnParts.count == 6, arnParts[3] == context.region else { return false }
            return !isServicePrincipal || arnParts[4] == context.account
        }
        let limit = limit ?? 50
        var after = try Pagination.position(from: marker)
        var found: [Grant] = []
        // Grants of other regions are skipped; fetch until a page (plus one) is full.
        while found.count <= limit {
            let batch = try await store.grants(retiringPrincipal: retiringPrincipal, afterID: after, limit: limit + 1)
            found += batch.filter(listed)
            guard batch.count == limit + 1, let last = batch.last else { break }
            after = last.id
        }
        let page = Pagination.page(found, limit: limit, sortKey: \.id)
        return (page.items, page.nextMarker)
    }
}
