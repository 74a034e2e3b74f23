import Metrics

/// What the storage layer reports through swift-metrics (`swiftkms serve` exports it to
/// Prometheus; elsewhere nothing is recorded). Labels name kinds of things, never a key or a
/// principal.
enum StoreMetrics {
    /// Cached reads answered from memory and from the store, by kind of row (`CachingStore`).
    static func cacheHit(_ kind: CacheKind) { hits[kind]!.increment() }
    static func cacheMiss(_ kind: CacheKind) { misses[kind]!.increment() }

    /// A cache brought to a new change generation: `dropped` entries' scopes, or nil when it
    /// had to drop everything (`swiftkms_cache_invalidations_total{scope="named"|"all"}`).
    static func cacheCatchUp(dropped: Int?) { (dropped == nil ? invalidatedAll : invalidatedNamed).increment() }
    private static let invalidatedNamed = Counter(label: "swiftkms_cache_invalidations_total", dimensions: [("scope", "named")])
    private static let invalidatedAll = Counter(label: "swiftkms_cache_invalidations_total", dimensions: [("scope", "all")])

    /// How long a commit took to become durable, queueing for its group included: every
    /// request's commit carries its audit event, so this is the audit commit latency.
    static let commitDuration = Timer(label: "swiftkms_store_commit_duration_seconds")
    /// Commits written by one transaction of group commit.
    static let groupCommitSize = Recorder(label: "swiftkms_group_commit_size")
    /// Reads and commits that failed because the database did (`StoreError.unavailable`).
    static let databaseErrors = Counter(label: "swiftkms_database_errors_total")

    enum CacheKind: String, CaseIterable {
        case key, alias, accessKey = "access_key", principal, identityPolicies = "identity_policies", principalTags = "principal_tags"
        case keyTags = "key_tags", grants, keyCount = "key_count", customKeyStore = "custom_key_store"
    }

    private static let hits = Dictionary(
        uniqueKeysWithValues: CacheKind.allCases.map { ($0, Counter(label: "swiftkms_cache_hits_total", dimensions: [("cache", $0.rawValue)])) })
    private static let misses = Dictionary(
        uniqueKeysWithValues: CacheKind.allCases.map { ($0, Counter(label: "swiftkms_cache_misses_total", dimensions: [("cache", $0.rawValue)])) })
}

extension Timer {
    /// Records the time from `start` to now.
    public func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = (ContinuousClock.now - start).components
        recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
    }
}
