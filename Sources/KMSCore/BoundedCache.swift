import Synchronization

/// Values kept for reuse, safe to share across tasks, at most `limit` of them: a cache that
/// fills up is emptied and refills with what is in use (simpler than LRU; the caches that use
/// it are sized above their working sets). What a key maps to must never change, or the key
/// must say what changed (a revision, the sealed form a secret was opened from).
public final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    private let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    public subscript(key: Key) -> Value? {
        entries.withLock { $0[key] }
    }

    public func set(_ value: Value, for key: Key) {
        entries.withLock { entries in
            if entries.count >= limit, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
    }
}
