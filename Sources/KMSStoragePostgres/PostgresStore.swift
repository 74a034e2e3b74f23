import Foundation
import KMSCore
import KMSStorage
import Logging
import PostgresNIO
import Synchronization

/// The store for many nodes: one PostgreSQL database that every `swiftkms serve` shares.
///
/// A commit is one transaction, durable when `COMMIT` returns: the store refuses a server whose
/// `synchronous_commit` is `off` unless `allowAsynchronousCommit` says otherwise. Each commit
/// that changes stored rows bumps `change_generation` and notifies `swiftkms_changes`; every
/// store listens, so `changeGeneration` (read before each cached read, without a round trip)
/// moves when any node changed something.
public final class PostgresStore: Store {
    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>
    private let listening = Mutex<Task<Void, Never>?>(nil)
    /// Moves with every change this process commits and every notification of another's.
    private let generation = Atomic<Int64>(0)
    static let changesChannel = "swiftkms_changes"
    /// This store's notifications carry it: the listener skips them, since `commit` moved the
    /// generation already (counting the echo too would move it later, after a read that must
    /// not see it move).
    private let notifier = UUID().uuidString

    /// Connects, creates or migrates the schema, and starts listening for other nodes' changes.
    public init(
        configuration: PostgresClient.Configuration, allowAsynchronousCommit: Bool = false,
        logger: Logger = Logger(label: "swiftkms.postgres")
    ) async throws {
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        running = Task { [client] in await client.run() }
        do {
            try await PostgresSchema.migrate(client, logger: logger)
            let mode = try await client.query("SHOW synchronous_commit", logger: logger).collect().first?.decode(String.self) ?? "on"
            if mode == "off", !allowAsynchronousCommit {
                throw StoreError.unavailable
            }
        } catch {
            running.cancel()
            throw error
        }
        // Returns once listening: a change committed after `init` moves the generation.
        let (connected, signal) = AsyncStream<Void>.makeStream()
        let listener = Task { [weak self] in
            guard let self else { return }
            await self.listen(connected: signal)
        }
        listening.withLock { $0 = listener }
        let listeningInTime = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in connected { return true }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard listeningInTime else {
            close()
            throw StoreError.unavailable
        }
    }

    /// Closes the connections.
    public func close() {
        listening.withLock { $0?.cancel() }
        running.cancel()
    }

    // MARK: Change generation

    public func changeGeneration() throws(StoreError) -> Int64 {
        generation.load(ordering: .acquiring)
    }

    private func bumpGeneration() {
        generation.add(1, ordering: .releasing)
    }

    /// Listens for other nodes' changes until cancelled. A lost connection may have lost a
    /// notification: the generation moves on every (re)connection, so caches read again.
    private func listen(connected: AsyncStream<Void>.Continuation) async {
        defer { connected.finish() }
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.changesChannel) { notifications in
                        bumpGeneration()
                        connected.yield()
                        for try await notification in notifications where notification.payload != notifier { bumpGeneration() }
                    }
                }
            } catch {
                bumpGeneration()
                if Task.isCancelled { return }
                logger.warning("change notifications interrupted; listening again", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    // MARK: Writes

    public func commit(_ mutations: [Mutation]) async throws(StoreError) {
        let changes = mutations.contains { $0.changesStoredRows }
        try await run {
            try await client.withConnection { connection in
                _ = try await connection.query("BEGIN", logger: logger)
                do {
                    var heads = AuditChainHeads()
                    for mutation in mutations {
                        try await Self.apply(mutation, &heads, connection, logger)
                    }
                    try await heads.write(connection, logger)
                    if changes {
                        _ = try await connection.query("UPDATE change_generation SET value = value + 1 WHERE id = 1", logger: logger)
                        _ = try await connection.query("SELECT pg_notify(\(Self.changesChannel), \(notifier))", logger: logger)
                    }
                    _ = try await connection.query("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
        if changes { bumpGeneration() }
    }

    // MARK: Plumbing

    /// Runs database calls, mapping failures to `StoreError` and logging the detail (values are
    /// bound parameters, never in the SQL text).
    func run<T>(_ body: () async throws -> T) async throws(StoreError) -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw .alreadyExists
        } catch let error as PSQLError {
            logger.error(
                "database failure",
                metadata: [
                    "code": "\(error.code)", "sqlState": "\(error.serverInfo?[.sqlState] ?? "")",
                    "message": "\(error.serverInfo?[.message] ?? "")",
                ])
            throw .unavailable
        } catch {
            logger.error("database failure", metadata: ["error": "\(type(of: error))"])
            throw .unavailable
        }
    }

    /// Rows of a query, collected.
    func rows(_ query: PostgresQuery) async throws(StoreError) -> [PostgresRow] {
        try await run { try await client.query(query, logger: logger).collect() }
    }
}

extension PostgresConnection {
    /// How many rows a statement with `RETURNING 1` touched.
    func count(_ query: PostgresQuery, _ logger: Logger) async throws -> Int {
        try await self.query(query, logger: logger).collect().count
    }
}

extension Date {
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}
