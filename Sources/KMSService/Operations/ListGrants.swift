import KMSStorage

extension KeyManagementService {
    /// Grants of a key (of this account or, by key ARN, another), ordered by grant ID,
    /// optionally only one grant, or one grantee's: `granteePrincipal` matches grants made
    /// with that `GranteePrincipal`, `granteeServicePrincipal` (a filter only service
    /// principals may use, as in AWS) those made with that `GranteeServicePrincipal`.
    public func listGrants(
        keyID: String, grantID: String?, granteePrincipal: String?, granteeServicePrincipal: String? = nil,
        limit: Int?, marker: String?, _ context: RequestContext
    ) async throws(KMSError) -> (grants: [Grant], nextMarker: String?) {
        if let grantID, !ResourceName.isWellFormedGrantID(grantID) {
            throw KMSError(.invalidGrantID, "Invalid grant ID \(grantID).")
        }
        let grantee = try Self.oneOf(granteePrincipal, granteeServicePrincipal, "Grantee")
        let after = try Pagination.position(from: marker)
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .listGrants, crossAccount: true)
        var access = AccessRequest(.listGrants)
        if let granteePrincipal { access.conditions["kms:GranteePrincipal"] = [granteePrincipal] }
        if let granteeServicePrincipal { access.conditions["kms:GranteeServicePrincipal"] = [granteeServicePrincipal] }
        try await authorize(context, access, key: key)
        if grantee?.isService == true { try Self.requireServicePrincipalCaller(context, filter: "GranteeServicePrincipal") }
        let grants = try await store.grants(keyID: key.id, region: key.region).filter { grant in
            let granteeMatches = grantee.map { grant.granteePrincipal == $0.name && grant.granteeIsServicePrincipal == $0.isService } ?? true
            return granteeMatches && (grantID == nil || grant.id == grantID) && (after == nil || grant.id > after!)
        }
        let page = Pagination.page(grants, limit: limit ?? 50, sortKey: \.id)
        return (page.items, page.nextMarker)
    }

    /// The filters by service principal are for service principals' own requests (AWS: "only
    /// usable by callers in a service principal").
    static func requireServicePrincipalCaller(_ context: RequestContext, filter: String) throws(KMSError) {
        guard context.principal.kind == .service, context.invokedBy == nil else {
            throw KMSError(
                .accessDenied, "User: \(context.principal.arn) is not a service principal: only service principals can filter by \(filter).")
        }
    }
}
