import Foundation
import KMSCore
import KMSStorage
import Logging
import PostgresNIO
import Synchronization

/// The store for many nodes: one PostgreSQL database that every `swiftkms serve` shares.
///
/// A commit is one transaction, durable when `COMMIT` returns: the store refuses a server whose
/// `synchronous_commit` is `off` unless `allowAsynchronousCommit` says otherwise. Commits wait
/// for the one being written and then go together (group commit, as on SQLite).
///
/// **Coherence.** Each commit that changes stored rows bumps `change_generation` and notifies
/// `swiftkms_changes` with the new value and what the commit made stale (`CacheScope`). Every
/// store listens, so `changeGeneration` (read before each cached read, without a round trip)
/// moves within milliseconds of another node's change, and `changes` names what to drop. A
/// watchdog reads `change_generation` every 250 ms too: a value that no notification (nor
/// this store's own commit) accounted for by the next read was a change whose notification
/// was lost, and moves the generation with nothing said (caches drop everything). While the
/// watchdog has not succeeded for `coherenceBound`, `changeGeneration` moves at every call, so
/// nothing is served from the cache. A change committed anywhere is thus enforced everywhere
/// within `coherenceBound`, whatever happens to notifications.
///
/// **Outages.** When the watchdog has not reached the database for `outageThreshold`, every
/// call fails at once with `StoreError.unavailable` (`isAvailable` is false) until it has again;
/// with several hosts in the URL, it then looks for the one that was promoted.
public final class PostgresStore: Store {
    let primary: PostgresPrimary
    let logger: Logger
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Moves with every change this process commits and every notification of another's.
    private let generation = Atomic<Int64>(0)
    /// What each of the last local generations made stale (nil: not known), and the values of
    /// `change_generation` accounted for by notifications and own commits. Moves of
    /// `generation` happen under its lock, so that a generation is never without its entry.
    private let changeLog = Mutex(ChangeLog())
    /// When the last watchdog read that succeeded began, in nanoseconds since `epoch`.
    private let confirmed = Atomic<Int64>(0)
    private let epoch = ContinuousClock.now
    /// Commits written in one transaction at most: 64.
    private let groupCommit = GroupCommit(batchLimit: 64)
    static let changesChannel = "swiftkms_changes"
    /// A change committed by any node is enforced by every node within this.
    public static let coherenceBound = Duration.milliseconds(750)
    /// Past this without reaching the database, calls fail at once.
    public static let outageThreshold = Duration.seconds(3)
    static let watchdogInterval = Duration.milliseconds(250)
    /// A call that has not finished by then fails (`StoreError.unavailable`).
    let callDeadline: Duration
    /// False from the watchdog's first failed read to its next success.
    private let reachable = Atomic<Bool>(true)
    /// This store's notifications carry it: the listener skips them, since `commit` moved the
    /// generation already (counting the echo too would move it later, after a read that must
    /// not see it move).
    private let notifier = UUID().uuidString
    /// The audit chain heads this store's last transactions left, by chain.
    private let lastHeads = Mutex<[String: AuditChainHeads.Head]>([:])

    /// Connects to the host of `url` that accepts writes, creates or migrates the schema, and
    /// starts listening for other nodes' changes. Throws `StoreError.unavailable` when no host
    /// answers within 10 s or `synchronous_commit` is off (and not allowed).
    /// - Parameter callDeadline: how long one read or commit may take before it fails: short for
    ///   a server (a request should fail fast while the database is away), long for a command
    ///   that reads much (audit lookup and verify).
    public init(
        url: PostgresDatabaseURL, maximumConnections: Int = 20, allowAsynchronousCommit: Bool = false, callDeadline: Duration = .seconds(5),
        logger: Logger = Logger(label: "swiftkms.postgres")
    ) async throws {
        self.callDeadline = callDeadline
        primary = try PostgresPrimary(url: url, maximumConnections: maximumConnections, logger: logger)
        self.logger = logger
        do {
            let deadline = ContinuousClock.now + .seconds(10)
            while await !primary.findPrimary() {
                guard ContinuousClock.now < deadline else {
                    logger.error("no database host accepts writes", metadata: ["url": "\(url)"])
                    throw StoreError.unavailable
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            let client = try primary.client
            try await PostgresSchema.migrate(client, logger: logger)
            let mode = try await client.query("SHOW synchronous_commit", logger: logger).collect().first?.decode(String.self) ?? "on"
            if mode == "off", !allowAsynchronousCommit {
                logger.error("synchronous_commit is off: an acknowledged change could be lost; refusing to run")
                throw StoreError.unavailable
            }
            confirm(since: ContinuousClock.now)
        } catch {
            primary.close()
            throw error
        }
        // Returns once listening: a change committed after `init` moves the generation.
        let (connected, signal) = AsyncStream<Void>.makeStream()
        let listener = Task { [weak self] in
            guard let self else { return }
            await self.listen(connected: signal)
        }
        let watchdog = Task { [weak self] in
            guard let self else { return }
            await self.watch()
        }
        tasks.withLock { $0 = [listener, watchdog] }
        let listeningInTime = await withDeadline(.seconds(10)) {
            for await _ in connected { return true }
            return false
        }
        guard listeningInTime == true else {
            close()
            throw StoreError.unavailable
        }
    }

    /// Closes the connections and stops listening.
    public func close() {
        tasks.withLock { $0.forEach { $0.cancel() } }
        primary.close()
    }

    /// Whether the database answered the watchdog's last read, and within `outageThreshold`:
    /// what /health reports.
    public var isAvailable: Bool { reachable.load(ordering: .relaxed) && sinceConfirmed < Self.outageThreshold }

    // MARK: Change generation

    public func changeGeneration() throws(StoreError) -> Int64 {
        guard sinceConfirmed < Self.coherenceBound else {
            // Not confirmed recently: a change may have been missed, so no cached row is used.
            return bumpGeneration(nil)
        }
        return generation.load(ordering: .acquiring)
    }

    public func changes(after generation: Int64, through current: Int64) throws(StoreError) -> [CacheScope]? {
        guard generation < current, current - generation <= ChangeLog.length else { return nil }
        return changeLog.withLock { log in
            var scopes: [CacheScope] = []
            for g in generation + 1...current {
                guard case .some(.some(let named)) = log.scopes[g] else { return nil }
                scopes += named
            }
            return scopes
        }
    }

    /// Moves the generation, recording what the change made stale (nil: not known).
    @discardableResult
    private func bumpGeneration(_ scopes: [CacheScope]?, accounting databaseGeneration: Int64? = nil) -> Int64 {
        changeLog.withLock { log in
            let next = generation.add(1, ordering: .acquiringAndReleasing).newValue
            log.record(next, scopes)
            if let databaseGeneration { log.accounted.insert(databaseGeneration) }
            return next
        }
    }

    private func account(_ databaseGeneration: Int64) {
        changeLog.withLock { _ = $0.accounted.insert(databaseGeneration) }
    }

    struct ChangeLog {
        static let length: Int64 = 4096
        var scopes: [Int64: [CacheScope]?] = [:]
        /// Values of `change_generation` that a notification or an own commit accounted for,
        /// not yet checked by the watchdog.
        var accounted = Set<Int64>()

        mutating func record(_ generation: Int64, _ named: [CacheScope]?) {
            scopes[generation] = .some(named)
            scopes[generation - Self.length] = nil
        }
    }

    /// A notification's payload is `VALUE ` (the new `change_generation`), then this:
    /// `NOTIFIER` and, on the next line, the scopes.
    static func notification(notifier: String, scopes: [CacheScope]) -> String {
        let text = "\(notifier)\n" + (CacheScope.encode(scopes) ?? "?")
        // PostgreSQL takes payloads below 8,000 bytes (the value takes at most 20 digits and a
        // space); without its scopes a change still moves every cache (everything dropped).
        return text.utf8.count < 7_900 ? text : "\(notifier)\n?"
    }

    private func nanoseconds(_ instant: ContinuousClock.Instant) -> Int64 {
        let elapsed = instant - epoch
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    /// How long ago the last watchdog read that succeeded began.
    private var sinceConfirmed: Duration {
        .nanoseconds(nanoseconds(.now) - confirmed.load(ordering: .acquiring))
    }

    private func confirm(since start: ContinuousClock.Instant) {
        let start = nanoseconds(start)
        _ = confirmed.max(start, ordering: .releasing)
    }

    /// Every `watchdogInterval`, reads `change_generation` on the primary: a value not seen
    /// before moves the generation (a notification may have been lost), and the read's start
    /// becomes the time up to which every change is known. When the primary does not answer,
    /// looks for another among the URL's hosts.
    private func watch() async {
        var seen: Int64?
        var failures = 0
        var unaccounted: [Int64] = []
        var previousStart = ContinuousClock.now
        while !Task.isCancelled {
            let start = ContinuousClock.now
            let answer = await withDeadline(.seconds(1)) { [primary, logger] in
                let row = try await primary.control.query("SELECT value, pg_is_in_recovery() FROM change_generation WHERE id = 1", logger: logger)
                    .collect().first
                return try row?.decode((Int64, Bool).self)
            }
            if let (value, inRecovery) = answer.flatMap({ $0 }), !inRecovery {
                // Values seen last time that no notification accounted for since: lost ones.
                // Values new this time get until the next read (a notification may be on its way).
                let lost = changeLog.withLock { log in
                    let lost = unaccounted.contains { !log.accounted.contains($0) }
                    let previous = seen ?? value
                    unaccounted = previous < value ? (previous + 1...value).filter { !log.accounted.contains($0) } : []
                    log.accounted = log.accounted.filter { $0 > value }
                    return lost || previous > value
                }
                if lost { bumpGeneration(nil) }
                seen = value
                // Every change committed before the previous read is known now; before this
                // one, only when none is still unaccounted for.
                confirm(since: unaccounted.isEmpty ? start : previousStart)
                previousStart = start
                reachable.store(true, ordering: .relaxed)
                if failures > 0 { logger.notice("database reachable again") }
                failures = 0
            } else {
                // Closing cancels this task and then the connections: the read that failed
                // because of that is no outage.
                if Task.isCancelled { return }
                failures += 1
                reachable.store(false, ordering: .relaxed)
                if failures == 1 { logger.error("database unreachable or not the primary; requests fail until it answers") }
                if primary.hasStandbys, failures >= 2, await primary.findPrimary() {
                    seen = nil
                    unaccounted = []
                    bumpGeneration(nil)
                    continue
                }
            }
            try? await Task.sleep(for: Self.watchdogInterval)
        }
    }

    /// Another store's change moves the generation with the scopes it names; this store's own
    /// moved it at commit, and only accounts for the value.
    private func received(_ payload: String) {
        let lines = payload.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let header = lines[0].split(separator: " ")
        guard header.count == 2, let value = Int64(header[0]) else {
            bumpGeneration(nil)
            return
        }
        if header[1] == notifier { return account(value) }
        bumpGeneration(lines.count == 2 ? CacheScope.decode(String(lines[1])) : nil, accounting: value)
    }

    /// Listens for other nodes' changes until cancelled. A lost connection may have lost a
    /// notification: the generation moves on every (re)connection, so caches read again.
    private func listen(connected: AsyncStream<Void>.Continuation) async {
        defer { connected.finish() }
        while !Task.isCancelled {
            do {
                try await primary.control.withConnection { connection in
                    try await connection.listen(on: Self.changesChannel) { notifications in
                        bumpGeneration(nil)
                        connected.yield()
                        for try await notification in notifications { received(notification.payload) }
                    }
                }
            } catch {
                bumpGeneration(nil)
                if Task.isCancelled { return }
                logger.warning("change notifications interrupted; listening again", metadata: ["error": "\(type(of: error))"])
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    // MARK: Writes

    /// Group commit: a commit goes with every commit that arrived while the transaction before
    /// was written, each in its own savepoint. One `COMMIT` makes them all durable; each fails
    /// or succeeds on its own. Returns once durable.
    public func commit(_ mutations: [Mutation]) async throws(StoreError) {
        try requireAvailable()
        try await groupCommit.commit(mutations) { [self] in await write($0) }
    }

    /// Writes the commits in one transaction, a savepoint each. When the database refuses a
    /// statement that is not a commit's own failure, each commit is written alone, so that none
    /// fails for another's sake. A lost connection fails them all: whether `COMMIT` took
    /// effect is then unknown, and writing them again could record them twice.
    private func write(_ commits: [[Mutation]]) async -> [Result<Void, StoreError>] {
        do {
            let client = try primary.client
            let (results, change) = try await within(callDeadline, abandon: abandonCalls) { [self] in try await self.write(commits, on: client) }
            if let change { bumpGeneration(change.scopes, accounting: change.databaseGeneration) }
            return results
        } catch {
            let failure = storeError(error)
            guard commits.count > 1, failure != .unavailable || Self.isRefusedStatement(error) else {
                return Array(repeating: .failure(failure), count: commits.count)
            }
            var results: [Result<Void, StoreError>] = []
            for mutations in commits { results += await write([mutations]) }
            return results
        }
    }

    /// What a transaction made stale, and the `change_generation` it moved to.
    struct Change {
        var scopes: [CacheScope]
        var databaseGeneration: Int64
    }

    /// One transaction of `write`; returns each commit's result and what it changed.
    /// A batch made only of insertions is first tried as one statement; when the database
    /// refuses it (a duplicate row, a missing key), it is written again a savepoint per commit,
    /// which says whose commit failed.
    private func write(_ commits: [[Mutation]], on client: PostgresClient) async throws -> ([Result<Void, StoreError>], Change?) {
        if commits.allSatisfy({ $0.allSatisfy(\.isInsertion) }) {
            do {
                if let change = try await writeInsertions(commits, on: client) {
                    return (Array(repeating: .success(()), count: commits.count), change)
                }
            } catch  where Self.isRefusedStatement(error) {}
        }
        return try await keepingHeads {
            try await client.withConnection { connection in
                try await connection.transaction(logger) {
                    var heads = AuditChainHeads()
                    var results: [Result<Void, StoreError>] = []
                    for (index, mutations) in commits.enumerated() {
                        results.append(
                            try await Self.apply(commit: mutations, savepoint: commits.count == 1 ? nil : index, &heads, connection, logger))
                    }
                    try await heads.write(connection, logger)
                    var stale = Set<CacheScope>()
                    for (commit, result) in zip(commits, results) {
                        if case .success = result { for mutation in commit { stale.formUnion(mutation.staleScopes) } }
                    }
                    var change: Change?
                    if !stale.isEmpty {
                        let value =
                            try await connection.query("UPDATE change_generation SET value = value + 1 WHERE id = 1 RETURNING value", logger: logger)
                            .collect().first?.decode(Int64.self) ?? 0
                        let payload = "\(value) " + Self.notification(notifier: notifier, scopes: Array(stale))
                        try await connection.execute("SELECT pg_notify(\(Self.changesChannel), \(payload))", logger)
                        change = Change(scopes: Array(stale), databaseGeneration: value)
                    }
                    return ((results, change), heads)
                }
            }
        }
    }

    /// Writes a batch of insertions as one `InsertionStatement`. When this store wrote last the
    /// head of every audit chain the batch appends to (as it does its own node's chain), that
    /// statement is the whole transaction: one round trip; it fails, writing nothing, if another
    /// writer moved a head meanwhile. Otherwise the heads are read and locked first, in a
    /// transaction of four. Returns what it changed (`Change.none` when no stored row), or nil
    /// (having written nothing) when the statement would bind more parameters than PostgreSQL takes.
    private func writeInsertions(_ commits: [[Mutation]], on client: PostgresClient) async throws -> Change?? {
        let mutations = commits.joined()
        let chains = Set(mutations.compactMap { if case .appendAuditEvent(let event) = $0 { event.chain } else { nil } })
        let known = lastHeads.withLock { heads in
            chains.allSatisfy { heads[$0] != nil } ? heads.filter { chains.contains($0.key) } : nil
        }
        let stale = Array(Set(mutations.flatMap(\.staleScopes)))
        return try await keepingHeads {
            try await client.withConnection { connection in
                func write() async throws -> (Change??, AuditChainHeads?) {
                    var heads = AuditChainHeads(known: known ?? [:])
                    var rows: [InsertedRow] = []
                    for mutation in mutations {
                        guard let inserted = try await Self.insertedRows(mutation, &heads, connection, logger) else {
                            preconditionFailure("writeInsertions takes insertions only")
                        }
                        rows += inserted
                    }
                    var statement = InsertionStatement(rows: rows)
                    for (chain, head, from) in heads.moved { statement.moveHead(of: chain, to: head, from: from) }
                    guard statement.parameters < InsertionStatement.parameterLimit else { return (nil, nil) }
                    guard !stale.isEmpty else {
                        try await connection.execute(try statement.query(notify: nil), logger)
                        return (.some(nil), heads)
                    }
                    let payload = Self.notification(notifier: notifier, scopes: stale)  // the statement prefixes its own bump's value
                    let row = try await connection.query(try statement.query(notify: (Self.changesChannel, payload)), logger: logger).collect().first
                    let value = try row.map { try Array($0)[1].decode(Int64.self) } ?? 0
                    return (Change(scopes: stale, databaseGeneration: value), heads)
                }
                return known == nil ? try await connection.transaction(logger, write) : try await write()
            }
        }
    }

    /// Runs a write that returns the audit chain heads it left (nil when it wrote none), keeping
    /// them for the next write; after a failure, whether heads moved is unknown, so the next
    /// write reads them.
    private func keepingHeads<T>(_ write: () async throws -> (T, AuditChainHeads?)) async throws -> T {
        do {
            let (result, heads) = try await write()
            if let heads { lastHeads.withLock { $0.merge(heads.current) { $1 } } }
            return result
        } catch {
            lastHeads.withLock { $0.removeAll() }
            throw error
        }
    }

    /// Applies one commit's mutations. Alone in its transaction (`savepoint` nil), any failure
    /// throws. Sharing it, the commit gets a savepoint: its own failure (a `StoreError`, a
    /// duplicate row) rolls back to it, with the audit chain heads it advanced, and becomes
    /// its result; any other failure throws.
    private static func apply(
        commit mutations: [Mutation], savepoint: Int?, _ heads: inout AuditChainHeads, _ db: PostgresConnection, _ logger: Logger
    ) async throws -> Result<Void, StoreError> {
        guard let savepoint, !mutations.allSatisfy(\.isAuditEvent) else {
            for mutation in mutations { try await apply(mutation, &heads, db, logger) }
            return .success(())
        }
        let name = "commit_\(savepoint)"
        let headsBefore = heads
        try await db.execute(PostgresQuery(unsafeSQL: "SAVEPOINT \(name)"), logger)
        do {
            for mutation in mutations { try await apply(mutation, &heads, db, logger) }
            try await db.execute(PostgresQuery(unsafeSQL: "RELEASE SAVEPOINT \(name)"), logger)
            return .success(())
        } catch let error where error is StoreError || isDuplicate(error) {
            try await db.execute(PostgresQuery(unsafeSQL: "ROLLBACK TO SAVEPOINT \(name)"), logger)
            heads = headsBefore
            return .failure(error as? StoreError ?? .alreadyExists)
        }
    }

    // MARK: Plumbing

    /// Calls in flight are abandoned once the watchdog found the database unreachable: they
    /// wait for a pooled connection that would not come.
    private var abandonCalls: @Sendable () -> Bool {
        { [self] in !self.reachable.load(ordering: .relaxed) }
    }

    /// Fails at once while the database is unreachable.
    private func requireAvailable() throws(StoreError) {
        guard isAvailable else { throw .unavailable }
    }

    private static func isDuplicate(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }

    /// The database answered a statement with an error (as opposed to a lost connection).
    private static func isRefusedStatement(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo != nil || error is TransactionRolledBack
    }

    /// The `StoreError` for a failure, logging the detail (values are bound parameters, never
    /// in the SQL text or the message).
    private func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if Self.isDuplicate(error) { return .alreadyExists }
        if let error = error as? PSQLError {
            logger.error(
                "database failure",
                metadata: [
                    "code": "\(error.code)", "sqlState": "\(error.serverInfo?[.sqlState] ?? "")",
                    "message": "\(error.serverInfo?[.message] ?? "")",
                ])
        } else if error is CancellationError {
            // The caller gave up (a job at shutdown): no failure of the database's.
        } else if error is DeadlineExceeded {
            logger.error("database call timed out", metadata: ["after": "\(callDeadline)"])
        } else {
            logger.error("database failure", metadata: ["error": "\(type(of: error))"])
        }
        return .unavailable
    }

    /// Runs database calls, failing at once during an outage, or after `callDeadline`, and
    /// mapping failures to `StoreError`.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws(StoreError) -> T {
        try requireAvailable()
        do {
            let client = try primary.client
            return try await within(callDeadline, abandon: abandonCalls) { try await body(client) }
        } catch {
            throw storeError(error)
        }
    }

    /// Rows of a query, collected.
    func rows(_ query: PostgresQuery) async throws(StoreError) -> [PostgresRow] {
        try await run { [logger] client in try await client.query(query, logger: logger).collect() }
    }
}

extension PostgresConnection {
    /// Runs a statement and reads its whole answer, so that an error the database sends after
    /// the first row (as a `WITH … SELECT` may) throws here rather than going unseen.
    func execute(_ query: PostgresQuery, _ logger: Logger) async throws {
        _ = try await self.query(query, logger: logger).collect()
    }

    /// Runs `body` in a transaction, committed (`commit`) when it returns and rolled back when
    /// it throws.
    func transaction<T>(_ logger: Logger, _ body: () async throws -> T) async throws -> T {
        try await execute("BEGIN", logger)
        do {
            let result = try await body()
            try await commit(logger)
            return result
        } catch {
            try? await execute("ROLLBACK", logger)
            throw error
        }
    }

    /// Commits the transaction. Throws `TransactionRolledBack` when the database rolled it back
    /// instead, as it does without an error when a statement of the transaction failed.
    func commit(_ logger: Logger) async throws {
        let result = try await self.query("COMMIT", logger: logger).get()
        guard result.metadata.command == "COMMIT" else { throw TransactionRolledBack() }
    }

    /// How many rows a statement with `RETURNING 1` touched.
    func count(_ query: PostgresQuery, _ logger: Logger) async throws -> Int {
        try await self.query(query, logger: logger).collect().count
    }
}

/// `COMMIT` answered that the transaction was rolled back: nothing of it was written.
struct TransactionRolledBack: Error {}
