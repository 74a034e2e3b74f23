import ArgumentParser
import Foundation
import KMSStorage
import KMSStoragePostgres
import KMSStorageSQLite
import Logging
import Synchronization

extension Admin {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite deployment (a data directory) into an empty PostgreSQL database.",
            discussion: """
                Copies every key, material version, alias, tag, grant, key policy, principal, access key,
                identity policy, audit event, checkpoint and the audit signing key, as they are, in one
                transaction; refuses a database that already holds any. Stop the server first: what it
                writes during the copy would not be copied. The nodes over the database then need the
                data directory's root key file (copy it to them, mode 0600).
                """)

        @Option(help: "The data directory whose swiftkms.sqlite3 is copied.") var fromDataDir: String
        @Option(help: "The PostgreSQL database to fill: postgres://USER:PASSWORD@HOST[:PORT]/DATABASE[?sslmode=…]") var toDatabaseUrl: String

        func run() async throws {
            let logger = Admin.quietLogger
            let file = fromDataDir + "/swiftkms.sqlite3"
            guard FileManager.default.fileExists(atPath: file) else { throw CommandFailure("\(file) does not exist.") }
            let url: PostgresDatabaseURL
            do {
                url = try PostgresDatabaseURL(toDatabaseUrl)
            } catch {
                throw ValidationError("--to-database-url: \(error.description).")
            }
            let source = try SQLiteStore(path: file, logger: logger)
            let target: PostgresStore
            do {
                target = try await PostgresStore(url: url, callDeadline: .seconds(600), logger: logger)
            } catch {
                throw CommandFailure("cannot use the database \(url): \(error); see the log above.")
            }
            defer { target.close() }
            guard try await !target.holdsData() else {
                throw CommandFailure("\(url) already holds SwiftKMS data; migrate only into an empty database.")
            }
            let copied = Counts()
            try await target.importRows { insert in
                for table in StoreRows.tables {
                    var after: Int64 = 0
                    while true {
                        let (chunk, last) = try await source.rows(of: table, afterRowID: after, limit: 1_000)
                        guard let last, !chunk.rows.isEmpty else { break }
                        try await insert(chunk)
                        copied.add(chunk.rows.count, to: table)
                        after = last
                    }
                }
            }
            for table in StoreRows.tables { print("\(table): \(copied[table]) rows") }
            print("copied \(file) into \(url). Check it with: swiftkms audit verify --database-url …")
        }
    }
}

/// Rows copied per table.
private final class Counts: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func add(_ count: Int, to table: String) { counts.withLock { $0[table, default: 0] += count } }
    subscript(table: String) -> Int { counts.withLock { $0[table, default: 0] } }
}
