import Foundation
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

    /// Runs `body` with a store over a fresh database, then drops it.
    static func withFreshStore(_ body: (PostgresStore) async throws -> Void) async throws {
        let name = "swiftkms_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresClient(configuration: configuration(database: "postgres"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            defer { group.cancelAll() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
            do {
                let store = try await PostgresStore(configuration: configuration(database: name))
                do {
                    try await body(store)
                } catch {
                    store.close()
                    throw error
                }
                store.close()
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
