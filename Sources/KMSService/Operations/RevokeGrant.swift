import KMSStorage

extension KeyManagementService {
    /// Deletes a grant of a key; needs kms:RevokeGrant on the key.
    public func revokeGrant(keyID: String, grantID: String, dryRun: Bool?, _ context: RequestContext) async throws(KMSError) {
        guard ResourceName.isWellFormedGrantID(grantID) else { throw KMSError(.invalidGrantID, "Invalid grant ID \(grantID).") }
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .revokeGrant, crossAccount: true)
        try await authorize(context, AccessRequest(.revokeGrant), key: key)
        guard let grant = try await store.grant(id: grantID), grant.keyID == key.id, grant.keyRegion == key.region else {
            throw KMSError.notFound("Grant not found for \(key.arn).")
        }
        try finishDryRun(dryRun)
        try await delete(grant, context)
    }
}
