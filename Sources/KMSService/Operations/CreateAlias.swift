import KMSStorage

extension KeyManagementService {
    /// Creates `alias/...` for a key of the caller's account and region.
    /// `targetKeyID` is a key ID or key ARN (not an alias).
    public func createAlias(name: String, targetKeyID: String, _ context: RequestContext) async throws(KMSError) {
        try Alias.validateCustomerAliasName(name)
        let action = KMSAction.createAlias
        try await store.commitRetrying(recording: context) { () throws(KMSError) in
            let key = try await resolveKey(targetKeyID, context, allowAlias: false, action: action)
            try await authorizeAlias(context, action, alias: name, keys: [key])
            try KeyLifecycle.check(action, on: key)
            try await requireAliasRoom(on: key, context)
            let now = clock.now()
            let alias = Alias(
                name: name, account: context.account, region: context.region, targetKeyID: key.id,
                creationDate: now, lastUpdatedDate: now)
            // The key's update is the guard that it was not deleted or scheduled for deletion meanwhile.
            return ServiceStore.Change(
                [.updateKey(key), .insertAlias(alias)], (),
                ifExists: KMSError(.alreadyExists, "An alias with the name \(alias.arn) already exists"))
        }
    }
}

extension KeyManagementService {
    /// The aliases-per-key quota (`LimitExceededException`). The commit that adds the alias
    /// also updates the key, so two aliases added at once cannot both pass on a stale count.
    func requireAliasRoom(on key: KMSKey, _ context: RequestContext) async throws(KMSError) {
        let aliases = try await store.aliases(
            account: key.account, region: key.region, targetKeyID: key.id, afterName: nil, limit: quotas.aliasesPerKey)
        guard aliases.count < quotas.aliasesPerKey else {
            throw KMSError(.limitExceeded, "\(key.arn) already has \(quotas.aliasesPerKey) aliases.")
        }
    }
}
