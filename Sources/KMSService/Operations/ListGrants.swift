import KMSStorage

extension KeyManagementService {
    /// Grants of a key (of this account or, by key ARN, another), ordered by grant ID,
    /// optionally only one grant or one grantee's.
    public func listGrants(
        keyID: String, grantID: String?, granteePrincipal: String?, limit: Int?, marker: String?, _ context: RequestContext
    ) async throws(KMSError) -> (grants: [Grant], nextMarker: String?) {
        if let grantID, !ResourceName.isWellFormedGrantID(grantID) {
            throw KMSError(.invalidGrantID, "Invalid grant ID \(grantID).")
        }
        let after = try Pagination.position(from: marker)
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .listGrants, crossAccount: true)
        var access = AccessRequest(.listGrants)
        if let granteePrincipal { access.conditions["kms:GranteePrincipal"] = [granteePrincipal] }
        try await authorize(context, access, key: key)
        let grants = try await store.grants(keyID: key.id, region: key.region).filter {
            (grantID == nil || $0.id == grantID) && (granteePrincipal == nil || $0.granteePrincipal == granteePrincipal)
                && (after == nil || $0.id > after!)
        }
        let page = Pagination.page(grants, limit: limit ?? 50, sortKey: \.id)
        return (page.items, page.nextMarker)
    }
}
