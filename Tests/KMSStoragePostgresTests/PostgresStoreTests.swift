import Foundation
import KMSCore
import KMSStorage
import KMSStoreTesting
import Logging
import PostgresNIO
import Testing

@testable import KMSStoragePostgres

/// The `Store` conformance suite against a real PostgreSQL: the cluster `scripts/test` starts
/// (`SWIFTKMS_TEST_POSTGRES`, `USER@HOST:PORT` of a server where USER may create databases
/// without a password). Each check gets a database of its own, dropped afterwards.
@Suite(.enabled(if: testServer != nil, "SWIFTKMS_TEST_POSTGRES names no server"), .serialized)
struct PostgresStoreTests {
    static let server = testServer
}

/// `SWIFTKMS_TEST_POSTGRES`, parsed.
let testServer: (user: String, host: String, port: Int)? = {
    guard let text = ProcessInfo.processInfo.environment["SWIFTKMS_TEST_POSTGRES"] else { return nil }
    let userAndAddress = text.split(separator: "@")
    guard userAndAddress.count == 2 else { return nil }
    let parts = userAndAddress[1].split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]) else { return nil }
    return (String(userAndAddress[0]), String(parts[0]), port)
}()

extension PostgresStoreTests {
    static func configuration(database: String) -> PostgresClient.Configuration {
        let server = server!
        var configuration = PostgresClient.Configuration(
            host: server.host, port: server.port, username: server.user, password: nil,
            database: database, tls: .disable)
        configuration.options.maximumConnections = 8
        return configuration
    }

    static func url(database: String) throws -> PostgresDatabaseURL {
        let server = server!
        return try PostgresDatabaseURL("postgres://\(server.user)@\(server.host):\(server.port)/\(database)?sslmode=disable")
    }

    /// Runs `body` with a store over a fresh database, then drops it.
    static func withFreshStore(_ body: (PostgresStore) async throws -> Void) async throws {
        try await withFreshDatabase { name, _ in
            let store = try await PostgresStore(url: url(database: name), maximumConnections: 8)
            defer { store.close() }
            try await body(store)
        }
    }

    /// Runs `body` with the name of a fresh database and a client of the server's `postgres`
    /// database, then drops it.
    static func withFreshDatabase(_ body: (String, PostgresClient) async throws -> Void) async throws {
        let name = "swiftkms_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresClient(configuration: configuration(database: "postgres"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            defer { group.cancelAll() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
            do {
                try await body(name, admin)
            } catch {
                _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"))
                throw error
            }
            try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"))
        }
    }

    @Test(arguments: StoreConformance.checks)
    func conformance(_ check: StoreConformance.Check) async throws {
        try await Self.withFreshStore { store in try await check.run(store) }
    }

    @Test(arguments: StoreConformance.checks)
    func conformanceBehindTheCache(_ check: StoreConformance.Check) async throws {
        try await Self.withFreshStore { store in try await check.run(CachingStore(store)) }
    }
}

/// What several nodes over one database rely on.
extension PostgresStoreTests {
    /// Waits until `condition` holds, up to `limit` (a failure past it, not a measure).
    static func eventually(within limit: Duration = .seconds(10), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func aChangeThroughOneStoreMovesTheOthersGeneration() async throws {
        try await Self.withFreshDatabase { name, _ in
            let first = try await PostgresStore(url: Self.url(database: name), maximumConnections: 4)
            defer { first.close() }
            let second = try await PostgresStore(url: Self.url(database: name), maximumConnections: 4)
            defer { second.close() }
            let before = try second.changeGeneration()
            let alice = Principal.user(account: "111122223333", "alice")
            try await first.commit([.insertPrincipal(alice, creationDate: Date())])
            try await first.commit([.deletePrincipal(alice)])
            #expect(try await Self.eventually { try second.changeGeneration() != before })
            // The notification said what changed: the other store's caches drop that alone.
            #expect(try second.changes(after: before, through: second.changeGeneration()) == [.principal(arn: alice.arn)])
            // Its own commit too, and no watchdog read (which sees the value move) says otherwise.
            let own = try second.changeGeneration()
            try await second.commit([.insertPrincipal(alice, creationDate: Date())])
            try await second.commit([.putPrincipalTags(alice, tags: [Tag(key: "team", value: "a")])])
            try await Task.sleep(for: PostgresStore.watchdogInterval * 3)
            #expect(try second.changes(after: own, through: second.changeGeneration()) == [.principal(arn: alice.arn)])
        }
    }

    /// A change whose notification never came (written here without one) is still seen: the
    /// watchdog reads the generation row.
    @Test func aChangeWithoutNotificationIsSeenByTheWatchdog() async throws {
        try await Self.withFreshDatabase { name, _ in
            let store = try await PostgresStore(url: Self.url(database: name), maximumConnections: 4)
            defer { store.close() }
            let other = PostgresClient(configuration: Self.configuration(database: name))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await other.run() }
                defer { group.cancelAll() }
                // Two watchdog rounds, so that it has seen the row before it changes.
                try await Task.sleep(for: PostgresStore.watchdogInterval * 3)
                let before = try store.changeGeneration()
                #expect(try store.changeGeneration() == before)
                try await other.query("UPDATE change_generation SET value = value + 1 WHERE id = 1")
                #expect(try await Self.eventually { try store.changeGeneration() != before })
                // Nothing says what that change was: caches must drop everything.
                #expect(try store.changes(after: before, through: store.changeGeneration()) == nil)
            }
        }
    }

    /// Closing a store while its watchdog's read waits (here on a table lock) ends the read, and
    /// that is no outage: nothing is logged (a command's last words would be cut by one).
    @Test func closingDuringAWatchdogReadLogsNoOutage() async throws {
        try await Self.withFreshDatabase { name, _ in
            let records = LogRecords()
            let store = try await PostgresStore(
                url: Self.url(database: name), maximumConnections: 4,
                logger: Logger(label: "test") { _ in records })
            let other = PostgresClient(configuration: Self.configuration(database: name))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await other.run() }
                defer { group.cancelAll() }
                try await other.withConnection { connection in
                    try await connection.query("BEGIN", logger: Logger(label: "test"))
                    try await connection.query("LOCK TABLE change_generation IN ACCESS EXCLUSIVE MODE", logger: Logger(label: "test"))
                    try await Task.sleep(for: PostgresStore.watchdogInterval * 2)
                    store.close()
                    try await Task.sleep(for: .seconds(1.5))
                    try await connection.query("ROLLBACK", logger: Logger(label: "test"))
                }
            }
            #expect(records.errors.isEmpty)
        }
    }

    /// Two stores append to one chain in turn, in groups: each one's memory of the head is
    /// stale every time, so its one-statement write must fail and go through the locked
    /// transaction instead. Every event is written once, in one linked chain.
    @Test func twoStoresAppendingToOneChainKeepItLinked() async throws {
        try await Self.withFreshDatabase { name, _ in
            let stores = [
                try await PostgresStore(url: Self.url(database: name), maximumConnections: 4),
                try await PostgresStore(url: Self.url(database: name), maximumConnections: 4),
            ]
            defer { stores.forEach { $0.close() } }
            func event(_ index: Int) -> AuditEvent {
                AuditEvent(
                    chain: "shared", record: ["eventName": .string("Encrypt"), "eventID": .string("event-\(index)")], eventTime: Date(),
                    eventName: "Encrypt", account: "111122223333", region: "us-east-1", userName: "alice", accessKeyID: "AKIA1",
                    readOnly: true, errorCode: nil, keyIDs: ["k\(index)"])
            }
            for round in 0..<6 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<5 {
                        group.addTask { try await stores[round % 2].commit([.appendAuditEvent(event(round * 5 + index))]) }
                    }
                    try await group.waitForAll()
                }
            }
            let events = try await stores[0].auditEvents(chain: "shared", afterSequence: 0, limit: 100)
            #expect(events.map(\.sequence) == Array(1...30))
            var verifier = AuditChainVerifier(chain: "shared", baseSequence: 0, baseDigest: AuditChain.genesisDigest)
            for stored in events { #expect(verifier.consume(stored.bytes, storedSequence: stored.sequence) == nil) }
            #expect(try await stores[1].auditChains().first?.headDigest == verifier.lastDigest)
        }
    }

    /// Two commits in one group, one refused: the other is written all the same.
    @Test func aRefusedCommitDoesNotFailTheOthersOfItsGroup() async throws {
        try await Self.withFreshStore { store in
            let taken = Principal.user(account: "111122223333", "taken")
            try await store.commit([.insertPrincipal(taken, creationDate: Date())])
            let results = await withTaskGroup(of: (Int, Bool).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let mine = index % 2 == 1 ? Principal.user(account: "111122223333", "free-\(index)") : taken
                        do {
                            try await store.commit([.insertPrincipal(mine, creationDate: Date())])
                            return (index, true)
                        } catch {
                            return (index, false)
                        }
                    }
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            for (index, succeeded) in results { #expect(succeeded == (index % 2 == 1)) }
            #expect(try await store.principals(account: "111122223333").count == 11)
        }
    }
}
