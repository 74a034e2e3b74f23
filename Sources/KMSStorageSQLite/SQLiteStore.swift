import Foundation
import GRDB
import KMSCore
import KMSStorage
import Logging
import Synchronization

/// The embedded default store: one SQLite database in WAL mode with `synchronous=FULL`,
/// so a committed transaction survives a crash or power loss before `commit` returns.
/// The file is created with mode 0600.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    /// A connection of its own for `changeGeneration`, read synchronously: the pool's readers
    /// are shared with async reads, and a thread of Swift's small cooperative pool blocked on
    /// one of them could wait for a read that needs that very thread to finish.
    private let generationReader: DatabaseQueue
    private let logger: Logger

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    /// The file is created with mode 0600.
    public init(path: String, logger: Logger = Logger(label: "swiftkms.sqlite")) throws {
        var config = Configuration()
        // Another process may write too (`swiftkms admin` and `audit` while the server runs):
        // wait for its transaction rather than fail.
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let existed = FileManager.default.fileExists(atPath: path)
        if !existed {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError.unavailable
            }
        }
        pool = try DatabasePool(path: path, configuration: config)
        self.logger = logger
        // GRDB sets `synchronous = NORMAL` when it opens a pool in WAL mode, after
        // `prepareDatabase`; a commit is then not durable against power loss. All writes go
        // through the pool's one writer connection, so setting FULL there covers them all.
        // The write-ahead log is truncated to 64 MiB when a checkpoint empties it, instead of
        // keeping the size of its longest burst for good.
        let synchronous = try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        guard synchronous == 2 else { throw StoreError.unavailable }
        try Schema.migrator.migrate(pool)
        var readOnly = Configuration()
        readOnly.readonly = true
        readOnly.busyMode = .timeout(10)
        generationReader = try DatabaseQueue(path: path, configuration: readOnly)
    }

    // MARK: Writes

    /// Commits per transaction at most, so that one transaction stays short.
    private let groupCommit = GroupCommit(batchLimit: 512)

    /// Group commit: a commit goes with every commit that arrived while the transaction before
    /// was written, each in its own savepoint. One sync makes them all durable; each fails or
    /// succeeds on its own (a commit whose mutation throws is rolled back to its savepoint, the
    /// others stay). Returns once the transaction is durable.
    public func commit(_ mutations: [Mutation]) async throws(StoreError) {
        try await groupCommit.commit(mutations) { [self] in await write($0) }
    }

    /// Writes the commits in one transaction, a savepoint each. A failure that is not a
    /// commit's own (`StoreError`, a duplicate row) fails the transaction: each commit is then
    /// written alone, so that none fails for another's sake.
    private func write(_ commits: [[Mutation]]) async -> [Result<Void, StoreError>] {
        do {
            return try await run { [pool] in
                try await pool.write { db in
                    var heads = AuditChainHeads()
                    let results = try commits.map { try Self.apply(commit: $0, alone: commits.count == 1, &heads, db) }
                    try heads.write(db)
                    var stale = Set<CacheScope>()
                    for (commit, result) in zip(commits, results) {
                        if case .success = result { for mutation in commit { stale.formUnion(mutation.staleScopes) } }
                    }
                    if !stale.isEmpty {
                        try db.cachedStatement(sql: "UPDATE change_generation SET value = value + 1 WHERE id = 1").execute()
                        // A scope that cannot be written leaves its generation out of the log,
                        // which tells readers to drop everything.
                        if let scopes = CacheScope.encode(stale) {
                            try db.cachedStatement(
                                sql: "INSERT INTO change_log (generation, scopes) SELECT value, ? FROM change_generation WHERE id = 1"
                            )
                            .execute(arguments: [scopes])
                            try db.cachedStatement(
                                sql: "DELETE FROM change_log WHERE generation <= (SELECT value FROM change_generation WHERE id = 1) - ?"
                            ).execute(arguments: [Self.changeLogLength])
                        }
                    }
                    return results
                }
            }
        } catch {
            guard commits.count > 1 else { return [.failure(error)] }
            var results: [Result<Void, StoreError>] = []
            for mutations in commits { results += await write([mutations]) }
            return results
        }
    }

    /// Applies one commit's mutations. Alone in its transaction, any failure throws (and rolls
    /// the transaction back). Sharing it, the commit gets a savepoint: its own failure rolls back
    /// to it, with the audit chain heads it advanced, and becomes its result; any other failure
    /// throws. A commit of audit events only has no failure of its own, so it needs no savepoint.
    private static func apply(
        commit mutations: [Mutation], alone: Bool, _ heads: inout AuditChainHeads,
        _ db: Database
    ) throws -> Result<Void, StoreError> {
        guard !alone, !mutations.allSatisfy(\.isAuditEvent) else {
            for mutation in mutations { try apply(mutation, &heads, db) }
            return .success(())
        }
        let headsBefore = heads
        do {
            try db.inSavepoint {
                for mutation in mutations { try apply(mutation, &heads, db) }
                return .commit
            }
            return .success(())
        } catch let error as StoreError {
            heads = headsBefore
            return .failure(error)
        } catch let error as DatabaseError where isDuplicate(error) {
            heads = headsBefore
            return .failure(.alreadyExists)
        }
    }

    public func changeGeneration() throws(StoreError) -> Int64 {
        do {
            return try readGeneration()
        } catch {
            logger.error("database failure", metadata: ["error": "\(error)"])
            throw .unavailable
        }
    }

    /// Generations whose scopes `change_log` keeps.
    static let changeLogLength = 4096

    public func changes(after generation: Int64, through current: Int64) throws(StoreError) -> [CacheScope]? {
        guard generation < current, current - generation <= Self.changeLogLength else { return nil }
        do {
            let texts = try generationReader.inDatabase { db in
                try String.fetchAll(
                    db.cachedStatement(sql: "SELECT scopes FROM change_log WHERE generation > ? AND generation <= ? ORDER BY generation"),
                    arguments: [generation, current])
            }
            guard texts.count == current - generation else { return nil }
            var scopes: [CacheScope] = []
            for text in texts {
                guard let decoded = CacheScope.decode(text) else { return nil }
                scopes += decoded
            }
            return scopes
        } catch {
            logger.error("database failure", metadata: ["error": "\(error)"])
            throw .unavailable
        }
    }

    /// Synchronous on purpose: one indexed row, read on the calling thread.
    private func readGeneration() throws -> Int64 {
        try generationReader.inDatabase { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM change_generation WHERE id = 1")) ?? 0
        }
    }

    // MARK: Plumbing

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        try await run { [pool] in try await pool.read(body) }
    }

    /// Runs a database call, mapping its failures to `StoreError` and logging the detail
    /// (SQL errors hold no secrets: values are bound parameters, never in the SQL text).
    private func run<T>(_ body: () async throws -> T) async throws(StoreError) -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where Self.isDuplicate(error) {
            throw .alreadyExists
        } catch let error as DatabaseError {
            logger.error(
                "database failure", metadata: ["code": "\(error.resultCode)", "message": "\(error.message ?? "")", "sql": "\(error.sql ?? "")"])
            throw .unavailable
        } catch is CancellationError {
            throw .unavailable  // the caller gave up (a job at shutdown): no failure of the database's
        } catch {
            logger.error("database failure", metadata: ["error": "\(type(of: error))"])
            throw .unavailable
        }
    }

    private static func isDuplicate(_ error: DatabaseError) -> Bool {
        error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY || error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
    }
}

extension SQLiteStore {
    /// The value of a PRAGMA as the writer connection sees it (for tests and diagnostics).
    func pragma(_ name: String) async throws -> String? {
        try await pool.write { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }
}
