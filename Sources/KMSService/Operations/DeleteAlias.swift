import KMSStorage

extension KeyManagementService {
    /// Deletes an alias; the key it points to is not affected.
    public func deleteAlias(name: String, _ context: RequestContext) async throws(KMSError) {
        let arn = ResourceName.aliasARN(region: context.region, account: context.account, aliasName: name)
        guard name.hasPrefix("alias/"),
              let alias = try await storeCall({ () throws(StoreError) in try await store.alias(account: context.account, region: context.region, name: name) })
        else { throw KMSError.aliasNotFound(arn) }
        let key = try await storeCall { () throws(StoreError) in try await store.key(id: alias.targetKeyID, region: alias.region) }
        try await authorizeAlias(context, .deleteAlias, alias: name, keys: [key].compactMap { $0 })
        do {
            try await commit([.deleteAlias(account: context.account, region: context.region, name: name)], context)
        } catch .notFound {
            throw KMSError.aliasNotFound(arn)
        } catch {
            throw KMSError.internalFailure()
        }
    }
}
