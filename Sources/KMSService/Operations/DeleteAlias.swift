import KMSStorage

extension KeyManagementService {
    /// Deletes an alias; the key it points to is not affected.
    public func deleteAlias(name: String, _ context: RequestContext) async throws(KMSError) {
        let arn = ResourceName.aliasARN(region: context.region, account: context.account, aliasName: name)
        guard name.hasPrefix("alias/"),
            let alias = try await store.alias(account: context.account, region: context.region, name: name)
        else { throw KMSError.aliasNotFound(arn) }
        let key = try await store.key(id: alias.targetKeyID, region: alias.region)
        try await authorizeAlias(context, .deleteAlias, alias: name, keys: [key].compactMap { $0 })
        try await store.commit(
            [.deleteAlias(account: context.account, region: context.region, name: name)], recording: context,
            ifMissing: KMSError.aliasNotFound(arn))
    }
}
