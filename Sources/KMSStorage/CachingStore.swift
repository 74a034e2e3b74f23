import Foundation
import Synchronization

/// A store that keeps the rows every request reads (keys, aliases, access keys, identity
/// policies, principal and key tags, a key's grants to a caller) in memory, and never serves
/// one that may be stale.
///
/// Before each cached read it asks the underlying store for its `changeGeneration`. A commit
/// anywhere (this process, `swiftkms admin`, another node) that changes or removes a stored
/// row moves the generation; the cache then asks the store what the commits since its own
/// generation made stale (`Store.changes`) and drops those entries, or everything when the
/// store cannot say. So a disabled key, a deleted access key or a revoked grant is refused at
/// the very next request, everywhere, while a CreateGrant or a TagResource leaves every other
/// entry in place. Only rows that exist are cached: a lookup that found nothing always asks again.
///
/// One read is allowed to be a little stale: key counts (CreateKey's quota check, eventually
/// consistent at AWS too) are kept up to `keyCountAge`, counting this process's own new keys as
/// they commit, so that CreateKey does not read the count every time. Another node's new keys
/// are seen within `keyCountAge`; a deletion anywhere moves the generation, as for the rest.
///
/// Everything else, including every write, goes to the underlying store as it is.
public final class CachingStore: Store {
    let base: any Store
    private let state: Mutex<State>
    /// Entries per kind; beyond it that kind is emptied (a cache, not an index).
    private let limit: Int

    private struct State {
        var generation: Int64 = .min
        var keys: [KeyRef: KMSKey] = [:]
        var aliases: [String: Alias] = [:]
        var accessKeys: [String: AccessKey] = [:]
        /// Incarnations of principals that exist, by ARN.
        var principals: [String: String] = [:]
        var identityPolicies: [String: [IdentityPolicy]] = [:]
        var principalTags: [String: [Tag]] = [:]
        var keyTags: [KeyRef: [Tag]] = [:]
        var grants: [GrantsRef: [Grant]] = [:]
        var keyCounts: [String: (count: Int, readAt: ContinuousClock.Instant)] = [:]
        var customKeyStores: [String: CustomKeyStore] = [:]

        mutating func clear(generation: Int64) {
            self = State()
            self.generation = generation
        }

        /// Drops what the scopes name.
        mutating func drop(_ scopes: [CacheScope]) {
            for scope in scopes {
                switch scope {
                case .key(let id, let region):
                    keys[KeyRef(id: id, region: region)] = nil
                case .deletedKey(let id, let region):
                    let key = KeyRef(id: id, region: region)
                    keys[key] = nil
                    keyTags[key] = nil
                    grants = grants.filter { $0.key.key != key }
                    aliases = aliases.filter { !($0.value.targetKeyID == id && $0.value.region == region) }
                    keyCounts = [:]
                case .keyTags(let id, let region):
                    keyTags[KeyRef(id: id, region: region)] = nil
                case .grants(let id, let region):
                    let key = KeyRef(id: id, region: region)
                    grants = grants.filter { $0.key.key != key }
                case .alias(let account, let region, let name):
                    aliases["\(account) \(region) \(name)"] = nil
                case .principal(let arn):
                    principals = principals.filter { !$0.key.hasSuffix(" " + arn) }
                    identityPolicies[arn] = nil
                    principalTags[arn] = nil
                    accessKeys = accessKeys.filter { $0.value.principal.arn != arn }
                case .accessKey(let id):
                    accessKeys[id] = nil
                case .customKeyStore(let id):
                    customKeyStores[id] = nil
                }
            }
        }
    }

    private struct KeyRef: Hashable {
        var id: String
        var region: String
    }

    private struct GrantsRef: Hashable {
        var key: KeyRef
        var grantees: [String]
    }

    /// How old a key count may be.
    public static let keyCountAge = Duration.seconds(1)

    public init(_ base: any Store, limit: Int = 100_000) {
        self.base = base
        self.limit = limit
        state = Mutex(State())
    }

    /// The cached value, or the base store's (then cached when it exists).
    ///
    /// The generation is read before the base store: a value read after a change, filed
    /// under the generation before it, is dropped at the next check (never the reverse).
    private func cached<K: Hashable, V: Sendable>(
        _ kind: StoreMetrics.CacheKind, _ path: WritableKeyPath<State, [K: V]>, _ key: K, _ fetch: () async throws(StoreError) -> V?
    ) async throws(StoreError) -> V? {
        let (generation, hit) = try reading { $0[keyPath: path][key] }
        if let hit {
            StoreMetrics.cacheHit(kind)
            return hit
        }
        StoreMetrics.cacheMiss(kind)
        guard let value = try await counted(fetch) else { return nil }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state[keyPath: path].count >= limit { state[keyPath: path] = [:] }
            state[keyPath: path][key] = value
        }
        return value
    }

    // MARK: Cached reads

    public func key(id: String, region: String) async throws(StoreError) -> KMSKey? {
        try await cached(.key, \.keys, KeyRef(id: id, region: region)) { () throws(StoreError) in try await base.key(id: id, region: region) }
    }

    /// Read by every request on a key in a custom key store (is it connected?).
    public func customKeyStore(id: String) async throws(StoreError) -> CustomKeyStore? {
        try await cached(.customKeyStore, \.customKeyStores, id) { () throws(StoreError) in try await base.customKeyStore(id: id) }
    }

    public func alias(account: String, region: String, name: String) async throws(StoreError) -> Alias? {
        try await cached(.alias, \.aliases, "\(account) \(region) \(name)") { () throws(StoreError) in
            try await base.alias(account: account, region: region, name: name)
        }
    }

    public func accessKey(id: String) async throws(StoreError) -> AccessKey? {
        try await cached(.accessKey, \.accessKeys, id) { () throws(StoreError) in try await base.accessKey(id: id) }
    }

    public func principalIncarnation(of principal: Principal) async throws(StoreError) -> String? {
        try await cached(.principal, \.principals, "\(principal.account) \(principal.arn)") { () throws(StoreError) in
            try await base.principalIncarnation(of: principal)
        }
    }

    public func identityPolicies(of principal: Principal) async throws(StoreError) -> [IdentityPolicy] {
        try await cached(.identityPolicies, \.identityPolicies, principal.arn) { () throws(StoreError) in
            try await base.identityPolicies(of: principal)
        } ?? []
    }

    public func principalTags(of principal: Principal) async throws(StoreError) -> [Tag] {
        try await cached(.principalTags, \.principalTags, principal.arn) { () throws(StoreError) in try await base.principalTags(of: principal) }
            ?? []
    }

    public func tags(keyID: String, region: String) async throws(StoreError) -> [Tag] {
        try await cached(.keyTags, \.keyTags, KeyRef(id: keyID, region: region)) { () throws(StoreError) in
            try await base.tags(keyID: keyID, region: region)
        } ?? []
    }

    public func grants(keyID: String, region: String, grantees: [String]) async throws(StoreError) -> [Grant] {
        try await cached(.grants, \.grants, GrantsRef(key: KeyRef(id: keyID, region: region), grantees: grantees)) { () throws(StoreError) in
            try await base.grants(keyID: keyID, region: region, grantees: grantees)
        } ?? []
    }

    /// The number of keys in an account and Region, read again once `keyCountAge` old.
    public func keyCount(account: String, region: String) async throws(StoreError) -> Int {
        let scope = "\(account) \(region)"
        let now = ContinuousClock.now
        let (generation, hit) = try reading { state -> Int? in
            guard let counted = state.keyCounts[scope], now - counted.readAt < Self.keyCountAge else { return nil }
            return counted.count
        }
        if let hit {
            StoreMetrics.cacheHit(.keyCount)
            return hit
        }
        StoreMetrics.cacheMiss(.keyCount)
        let count = try await counted { () throws(StoreError) in try await base.keyCount(account: account, region: region) }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.keyCounts.count >= limit { state.keyCounts = [:] }
            state.keyCounts[scope] = (count, now)
        }
        return count
    }

    /// Commits through the base store; a key it inserted is added to the cached count.
    public func commit(_ mutations: [Mutation]) async throws(StoreError) {
        let start = ContinuousClock.now
        try await counted { () throws(StoreError) in try await base.commit(mutations) }
        StoreMetrics.commitDuration.recordInterval(since: start)
        let created = mutations.compactMap { mutation -> String? in
            if case .insertKey(let key) = mutation { "\(key.account) \(key.region)" } else { nil }
        }
        guard !created.isEmpty else { return }
        state.withLock { state in
            for scope in created { state.keyCounts[scope]?.count += 1 }
        }
    }

    /// `work`, counting a database failure in `swiftkms_database_errors_total`.
    private func counted<T>(_ work: () async throws(StoreError) -> T) async throws(StoreError) -> T {
        do {
            return try await work()
        } catch {
            if error == .unavailable { StoreMetrics.databaseErrors.increment() }
            throw error
        }
    }

    /// `read` of the cache at the base store's change generation, and that generation. When
    /// the generation moved, the cache first drops what the changes since its own made stale,
    /// or everything when the store cannot say; when it did not (every request's case), the
    /// read takes one lock. A value read from the store after this is filed under the
    /// generation returned, and dropped at the next catch-up that covers a change to it.
    private func reading<T: Sendable>(_ read: (inout State) -> T) throws(StoreError) -> (generation: Int64, value: T) {
        let generation = try countedNow { () throws(StoreError) in try base.changeGeneration() }
        let (cached, current) = state.withLock { state -> (Int64, T?) in
            (state.generation, state.generation == generation ? read(&state) : nil)
        }
        if let current { return (generation, current) }
        let scopes =
            cached == .min || cached > generation
            ? nil : try countedNow { () throws(StoreError) in try base.changes(after: cached, through: generation) }
        let value = state.withLock { state -> T in
            if let scopes, state.generation == cached {
                state.drop(scopes)
                state.generation = generation
                StoreMetrics.cacheCatchUp(dropped: scopes.count)
            } else if state.generation != generation {
                // The store could not say, or another request moved the cache meanwhile (its
                // catch-up may have covered less or more than this one's scopes).
                // A cache that never had a generation had nothing to drop.
                if state.generation != .min { StoreMetrics.cacheCatchUp(dropped: nil) }
                state.clear(generation: generation)
            }
            return read(&state)
        }
        return (generation, value)
    }

    /// `work`, synchronous, counting a database failure in `swiftkms_database_errors_total`.
    private func countedNow<T>(_ work: () throws(StoreError) -> T) throws(StoreError) -> T {
        do {
            return try work()
        } catch {
            if error == .unavailable { StoreMetrics.databaseErrors.increment() }
            throw error
        }
    }

    // MARK: Everything else, as the base store has it

    public func changeGeneration() throws(StoreError) -> Int64 { try base.changeGeneration() }
    public func changes(after generation: Int64, through current: Int64) throws(StoreError) -> [CacheScope]? {
        try base.changes(after: generation, through: current)
    }
    public func relatedKeys(id: String) async throws(StoreError) -> [KMSKey] { try await base.relatedKeys(id: id) }
    public func keys(account: String, region: String, afterID: String?, limit: Int) async throws(StoreError) -> [KMSKey] {
        try await base.keys(account: account, region: region, afterID: afterID, limit: limit)
    }
    public func keyCensus() async throws(StoreError) -> [KeyCensusEntry] { try await base.keyCensus() }
    public func keysDueForDeletion(at date: Date) async throws(StoreError) -> [KMSKey] { try await base.keysDueForDeletion(at: date) }
    public func keyMaterial(keyID: String, region: String, version: UInt32) async throws(StoreError) -> KeyMaterialRecord? {
        try await base.keyMaterial(keyID: keyID, region: region, version: version)
    }
    public func keyMaterials(keyID: String, region: String) async throws(StoreError) -> [KeyMaterialRecord] {
        try await base.keyMaterials(keyID: keyID, region: region)
    }
    public func keysDueForRotation(at date: Date) async throws(StoreError) -> [KMSKey] { try await base.keysDueForRotation(at: date) }
    public func expiredKeyMaterials(by date: Date) async throws(StoreError) -> [KeyMaterialRecord] { try await base.expiredKeyMaterials(by: date) }
    public func importParameters(id: String) async throws(StoreError) -> ImportParameters? { try await base.importParameters(id: id) }
    public func aliases(account: String, region: String, targetKeyID: String?, afterName: String?, limit: Int) async throws(StoreError) -> [Alias] {
        try await base.aliases(account: account, region: region, targetKeyID: targetKeyID, afterName: afterName, limit: limit)
    }
    public func principals(account: String) async throws(StoreError) -> [Principal] { try await base.principals(account: account) }
    public func accessKeys(of principal: Principal) async throws(StoreError) -> [AccessKey] { try await base.accessKeys(of: principal) }
    public func grant(id: String) async throws(StoreError) -> Grant? { try await base.grant(id: id) }
    public func grants(naming principal: String) async throws(StoreError) -> [Grant] { try await base.grants(naming: principal) }
    public func keys(withPolicyMentioning text: String) async throws(StoreError) -> [KMSKey] { try await base.keys(withPolicyMentioning: text) }
    public func grants(keyID: String, region: String) async throws(StoreError) -> [Grant] { try await base.grants(keyID: keyID, region: region) }
    public func grants(retiringPrincipal: String, afterID: String?, limit: Int) async throws(StoreError) -> [Grant] {
        try await base.grants(retiringPrincipal: retiringPrincipal, afterID: afterID, limit: limit)
    }
    public func auditChains() async throws(StoreError) -> [AuditChainState] { try await base.auditChains() }
    public func auditEvents(chain: String, afterSequence: Int64, limit: Int) async throws(StoreError) -> [StoredAuditEvent] {
        try await base.auditEvents(chain: chain, afterSequence: afterSequence, limit: limit)
    }
    public func hotAuditEvents(chain: String, limit: Int) async throws(StoreError) -> [AuditSegmentEntry] {
        try await base.hotAuditEvents(chain: chain, limit: limit)
    }
    public func auditEvents(matching query: AuditQuery) async throws(StoreError) -> AuditPage { try await base.auditEvents(matching: query) }
    public func auditCheckpoints() async throws(StoreError) -> [SignedAuditCheckpoint] { try await base.auditCheckpoints() }
    public func lastAuditCheckpoint() async throws(StoreError) -> SignedAuditCheckpoint? { try await base.lastAuditCheckpoint() }
    public func auditSigningKey() async throws(StoreError) -> (wrapped: [UInt8], publicKey: [UInt8])? { try await base.auditSigningKey() }
    public func customKeyStores(account: String, region: String) async throws(StoreError) -> [CustomKeyStore] {
        try await base.customKeyStores(account: account, region: region)
    }
    public func keyCount(customKeyStoreID: String) async throws(StoreError) -> Int { try await base.keyCount(customKeyStoreID: customKeyStoreID) }
    public func hsmCluster(id: String) async throws(StoreError) -> HSMCluster? { try await base.hsmCluster(id: id) }
    public func hsmClusters() async throws(StoreError) -> [HSMCluster] { try await base.hsmClusters() }
}
