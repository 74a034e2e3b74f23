import KMSStorage

extension KeyManagementService {
    /// Grants in this region that a principal of the caller's account may retire, named by
    /// `retiringPrincipal` (grants made with that `RetiringPrincipal`: on keys of any account
    /// when it is an ARN of the caller's account, on keys of the caller's account when it is a
    /// service principal's name) or by `retiringServicePrincipal` (grants made with that
    /// `RetiringServicePrincipal`, on keys of the caller's account; only that service principal
    /// itself may ask, and needs no permission to). Otherwise an identity-policy permission
    /// (`kms:ListRetirableGrants` on `*`).
    /// Whether the principal exists is not told: a principal with no grants and one that does
    /// not exist look alike.
    public func listRetirableGrants(
        retiringPrincipal: String?, retiringServicePrincipal: String? = nil, limit: Int?, marker: String?, _ context: RequestContext
    ) async throws(KMSError) -> (grants: [Grant], nextMarker: String?) {
        guard let (retiring, byService) = try Self.oneOf(retiringPrincipal, retiringServicePrincipal, "Retiring") else {
            throw KMSError.validation("You must specify either RetiringPrincipal or RetiringServicePrincipal.")
        }
        let isServicePrincipal = byService || (retiring.hasSuffix(".amazonaws.com") && !retiring.contains(":"))
        if byService {
            // A service principal asking which grants it may retire itself: it has no identity
            // policies to allow that, and needs none.
            try Self.requireServicePrincipalCaller(context, filter: "RetiringServicePrincipal")
            guard context.principal.name == retiring else {
                throw KMSError(
                    .accessDenied, "User: \(context.principal.arn) is not authorized to list the retirable grants of service principal \(retiring).")
            }
        } else {
            try await authorizeAccountAction(context, AccessRequest(.listRetirableGrants))
        }
        if !byService, !isServicePrincipal {
            guard PrincipalSet.awsPrincipalARN(retiring) != nil, retiring.hasPrefix("arn:") else {
                throw KMSError(.invalidArn, "RetiringPrincipal \(retiring) is not a valid principal ARN.")
            }
            guard Principal(arn: retiring)?.account == context.account else {
                throw KMSError(
                    .accessDenied, "User: \(context.principal.arn) is not authorized to list the retirable grants of a principal of another account.")
            }
        }
        func listed(_ grant: Grant) -> Bool {
            let arnParts = grant.keyARN.split(separator: ":", maxSplits: 5)
            guard grant.retiringIsServicePrincipal == byService, arnParts.count == 6, arnParts[3] == context.region else { return false }
            return !isServicePrincipal || arnParts[4] == context.account
        }
        let limit = limit ?? 50
        var after = try Pagination.position(from: marker)
        var found: [Grant] = []
        // Grants of other regions are skipped; fetch until a page (plus one) is full.
        while found.count <= limit {
            let batch = try await store.grants(retiringPrincipal: retiring, afterID: after, limit: limit + 1)
            found += batch.filter(listed)
            guard batch.count == limit + 1, let last = batch.last else { break }
            after = last.id
        }
        let page = Pagination.page(found, limit: limit, sortKey: \.id)
        return (page.items, page.nextMarker)
    }
}
