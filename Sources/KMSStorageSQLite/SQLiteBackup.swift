import Foundation
import GRDB

/// Online copies of the embedded database (`swiftkms admin backup`), and what one holds.
public enum SQLiteBackup {
    /// What a copy of the database holds, for a backup's manifest and its checks.
    public struct Contents: Codable, Equatable, Sendable {
        /// The last schema step applied (`v11`).
        public var schemaVersion: String
        /// Rows per table of `StoreRows.tables`.
        public var counts: [String: Int]
        /// Each audit chain's head: its last sequence number and digest (hex).
        public var auditChainHeads: [String: ChainHead]
    }

    public struct ChainHead: Codable, Equatable, Sendable {
        public var sequence: Int64
        public var digest: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes a consistent copy of the database at `source` to `destination` with `VACUUM
    /// INTO`: one read transaction of the source, so a server writing meanwhile is neither
    /// blocked nor half-copied. `destination` is created with mode 0600 and must not exist.
    public static func copy(databaseAt source: String, to destination: String) throws {
        guard FileManager.default.fileExists(atPath: source) else { throw Failure(description: "\(source) does not exist.") }
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(destination): \(String(cString: strerror(errno)))") }
        close(fd)
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: source, configuration: configuration)
        try queue.writeWithoutTransaction { try $0.execute(sql: "VACUUM INTO ?", arguments: [destination]) }
        try queue.close()
    }

    /// What the database at `path` holds, read without changing it.
    public static func contents(ofDatabaseAt path: String, tables: [String]) throws -> Contents {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            let version = try String.fetchOne(
                db, sql: "SELECT identifier FROM grdb_migrations ORDER BY CAST(substr(identifier, 2) AS INTEGER) DESC LIMIT 1")
            var counts: [String: Int] = [:]
            for table in tables { counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
            var heads: [String: ChainHead] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, head_seq, head_digest FROM audit_chain") {
                let digest: Data = row["head_digest"]
                heads[row["name"]] = ChainHead(sequence: row["head_seq"], digest: digest.map { String(format: "%02x", $0) }.joined())
            }
            return Contents(schemaVersion: version ?? "none", counts: counts, auditChainHeads: heads)
        }
    }
}
