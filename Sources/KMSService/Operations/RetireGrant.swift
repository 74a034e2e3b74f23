import KMSStorage

extension KeyManagementService {
    /// Deletes a grant named by its token, or by key and grant ID. Allowed to the grant's
    /// retiring principal, its grantee when it allows RetireGrant (a SourceArn constraint does
    /// not apply to retiring; a service principal named as such must ask itself), the root of
    /// the account that created it, and principals whose policies allow kms:RetireGrant on
    /// the key.
    public func retireGrant(grantToken: String?, keyID: String?, grantID: String?, dryRun: Bool?, _ context: RequestContext) async throws(KMSError) {
        let named: String
        var expectedKeyARN: String?
        switch (grantToken, keyID, grantID) {
        case (let token?, _, _):
            let parsed = try Self.parseGrantToken(token)
            named = parsed.grantID
            expectedKeyARN = parsed.keyARN
            if let grantID, grantID != named { throw KMSError(.invalidGrantID, "The grant ID does not match the grant token.") }
        case (nil, _?, let id?):
            guard ResourceName.isWellFormedGrantID(id) else { throw KMSError(.invalidGrantID, "Invalid grant ID \(id).") }
            named = id
        default:
            throw KMSError.validation("Specify a GrantToken, or a KeyId and a GrantId.")
        }
        var key: KMSKey?
        if let keyID {
            let resolved = try await resolveKey(keyID, context, allowAlias: false, action: .retireGrant, crossAccount: true)
            if let expectedKeyARN, expectedKeyARN != resolved.arn { throw KMSError.notFound("Grant not found for \(resolved.arn).") }
            key = resolved
        }
        guard let grant = try await store.grant(id: named),
            key == nil || (grant.keyID == key?.id && grant.keyRegion == key?.region)
        else { throw KMSError.notFound("Grant not found.") }
        let caller = context.principal.arn
        // A service principal is one of the account it is registered in: it names no grant
        // on another account's key.
        let inScope = context.principal.kind != .service || grant.keyAccount == context.account
        func names(_ principal: String?, asService: Bool) -> Bool {
            guard let principal, inScope else { return false }
            return asService ? Self.isServicePrincipalItself(principal, context) : principal == caller
        }
        var allowed =
            names(grant.retiringPrincipal, asService: grant.retiringIsServicePrincipal)
            || (names(grant.granteePrincipal, asService: grant.granteeIsServicePrincipal) && grant.operations.contains(.retireGrant))
            || (context.principal.isRoot && grant.issuingAccount == caller)
        if !allowed, let grantKey = try await store.key(id: grant.keyID, region: grant.keyRegion) {
            allowed = try await isAuthorized(context, AccessRequest(.retireGrant), key: grantKey)
        }
        guard allowed else { throw Self.denied(context, .retireGrant, grant.keyARN, .noResourcePolicy) }
        try finishDryRun(dryRun)
        try await delete(grant, context)
    }
}
