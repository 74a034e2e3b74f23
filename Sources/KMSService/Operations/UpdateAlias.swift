import KMSStorage

extension KeyManagementService {
    /// Points an existing alias at another key of the same kind (key spec family and usage).
    public func updateAlias(name: String, targetKeyID: String, _ context: RequestContext) async throws(KMSError) {
        let action = KMSAction.updateAlias
        // AWS managed keys' aliases (`alias/aws/…`) are AWS's to keep.
        try Alias.validateCustomerAliasName(name)
        try await store.commitRetrying(recording: context) { () throws(KMSError) in
            guard let alias = try await store.alias(account: context.account, region: context.region, name: name) else {
                throw KMSError.aliasNotFound(ResourceName.aliasARN(region: context.region, account: context.account, aliasName: name))
            }
            let key = try await resolveKey(targetKeyID, context, allowAlias: false, action: action)
            let current = try await store.key(id: alias.targetKeyID, region: alias.region)
            // On the alias, the key it points to now, and the key it is to point to.
            try await authorizeAlias(context, action, alias: name, keys: [current, key].compactMap { $0 })
            try KeyLifecycle.check(action, on: key)
            if let current, current.usage != key.usage || (current.spec == .symmetricDefault) != (key.spec == .symmetricDefault) {
                throw KMSError.validation("\(alias.arn) points to a key of a different type or usage than \(key.arn).")
            }
            if alias.targetKeyID != key.id { try await requireAliasRoom(on: key, context) }
            var updated = alias
            updated.targetKeyID = key.id
            updated.lastUpdatedDate = clock.now()
            return ServiceStore.Change([.updateKey(key), .updateAlias(updated)], (), ifMissing: KMSError.aliasNotFound(alias.arn))
        }
    }
}
