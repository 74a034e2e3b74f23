import ArgumentParser
import Crypto
import Foundation
import KMSService
import KMSStorage
import KMSStorageSQLite
import Logging

/// A backup file: a header line, the manifest (one line of JSON), then the SQLite database.
///
///     SWIFTKMS-BACKUP 1\n
///     {"createdAt":…,"databaseSHA256":…,…}\n
///     <the database's bytes>
///
/// The database holds key material and credentials wrapped under the root key, never the
/// root key: a backup restores only beside the same root key, which the manifest names by
/// its fingerprint.
struct BackupFile {
    static let header = Array("SWIFTKMS-BACKUP 1\n".utf8)

    struct Manifest: Codable {
        var createdAt: String
        var swiftkmsVersion: String
        var rootKeyFingerprint: String
        var databaseBytes: Int
        var databaseSHA256: String
        var schemaVersion: String
        var counts: [String: Int]
        var auditChainHeads: [String: SQLiteBackup.ChainHead]
    }

    var manifest: Manifest
    var database: Data

    /// Reads and checks a backup file: its header, its manifest, and the database's length
    /// and SHA-256 against the manifest's.
    init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read \(path).") }
        guard data.starts(with: Self.header) else { throw CommandFailure("\(path) is not a SwiftKMS backup (no SWIFTKMS-BACKUP 1 header).") }
        let rest = data.dropFirst(Self.header.count)
        guard let newline = rest.firstIndex(of: 0x0A), rest.distance(from: rest.startIndex, to: newline) <= 1 << 20,
            let manifest = try? JSONDecoder().decode(Manifest.self, from: rest[..<newline])
        else { throw CommandFailure("\(path): the manifest is missing or malformed.") }
        database = Data(rest[rest.index(after: newline)...])
        guard database.count == manifest.databaseBytes, Hex.encode(Array(SHA256.hash(data: database))) == manifest.databaseSHA256 else {
            throw CommandFailure("\(path): the database does not match the manifest's SHA-256 (the file is damaged or was altered).")
        }
        self.manifest = manifest
    }

    init(manifest: Manifest, database: Data) {
        self.manifest = manifest
        self.database = database
    }

    var bytes: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Data(Self.header) + ((try? encoder.encode(manifest)) ?? Data()) + Data([0x0A]) + database
    }

    /// Writes `database` to `path` (a new file, 0600), checks that it holds what the manifest
    /// says, and returns what it holds.
    func writeDatabase(to path: String) throws -> SQLiteBackup.Contents {
        try DataDirectory.writeOwnerOnly(path, bytes: Array(database))
        let contents = try SQLiteBackup.contents(ofDatabaseAt: path, tables: StoreRows.tables)
        guard contents.counts == manifest.counts, contents.auditChainHeads == manifest.auditChainHeads,
            contents.schemaVersion == manifest.schemaVersion
        else { throw CommandFailure("the backup's database does not hold what its manifest says.") }
        return contents
    }

    static func describe(_ manifest: Manifest) -> String {
        let chains = manifest.auditChainHeads.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value.sequence)" }.joined(separator: ", ")
        return
            "taken \(manifest.createdAt), schema \(manifest.schemaVersion), \(manifest.counts["kms_key"] ?? 0) keys, \(manifest.counts["key_material"] ?? 0) material versions, \(manifest.counts["alias"] ?? 0) aliases, \(manifest.counts["key_grant"] ?? 0) grants, \(manifest.counts["principal"] ?? 0) principals, \(manifest.counts["audit_event"] ?? 0) audit events (chains \(chains.isEmpty ? "none" : chains)), \(manifest.databaseBytes) bytes, SHA-256 \(manifest.databaseSHA256)"
    }
}

extension Admin {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a consistent snapshot of the data directory's database to a backup file, while the server runs.",
            discussion: """
                The file holds the database and a manifest (time, schema version, row counts, audit
                chain heads, SHA-256, and the root key's fingerprint). It never holds the root key:
                back the root key file up separately, somewhere else. Restored without it, the backup
                is useless; stolen with it, every key is exposed. Over PostgreSQL, back the database
                up with PostgreSQL's tools (pg_basebackup, or pg_dump) instead.
                """)

        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "The backup file to write (must not exist).") var out: String

        func run() async throws {
            guard try data.resolvedDatabaseURL == nil else {
                throw CommandFailure("--database-url: back PostgreSQL up with pg_basebackup or pg_dump; this command copies the SQLite store.")
            }
            guard !FileManager.default.fileExists(atPath: out) else { throw CommandFailure("\(out) exists.") }
            let logger = Admin.quietLogger
            let directory = data.resolvedDataDir
            let rootKey = try DataDirectory.loadOrCreateRootKey(
                at: data.resolvedRootKeyFile, sealedBy: try data.rootKeySeal, logger: logger, create: false)
            let createdAt = Date()
            let snapshot = out + ".sqlite-snapshot"
            defer { try? FileManager.default.removeItem(atPath: snapshot) }
            try SQLiteBackup.copy(databaseAt: directory + "/swiftkms.sqlite3", to: snapshot)
            let contents = try SQLiteBackup.contents(ofDatabaseAt: snapshot, tables: StoreRows.tables)
            guard let database = FileManager.default.contents(atPath: snapshot) else { throw CommandFailure("cannot read \(snapshot).") }
            let manifest = BackupFile.Manifest(
                createdAt: createdAt.formatted(.iso8601), swiftkmsVersion: SwiftKMSCommand.version, rootKeyFingerprint: rootKey.fingerprint,
                databaseBytes: database.count, databaseSHA256: Hex.encode(Array(SHA256.hash(data: database))),
                schemaVersion: contents.schemaVersion, counts: contents.counts, auditChainHeads: contents.auditChainHeads)
            try DataDirectory.writeOwnerOnly(out, bytes: Array(BackupFile(manifest: manifest, database: database).bytes))
            print("wrote \(out): \(BackupFile.describe(manifest))")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup file into a data directory that holds no database, beside the root key it was taken with.",
            discussion: """
                Checks the file (header, SHA-256, manifest) and that the root key (--root-key-file, or
                the data directory's root.key, put there first) is the one the backup was taken with,
                then writes the database. Refuses a damaged file, another root key, and a data
                directory that already has a database. Then start `swiftkms serve` on the directory.
                """)

        @Option(help: "The backup file.") var from: String
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            guard try data.resolvedDatabaseURL == nil else { throw CommandFailure("restore writes a SQLite data directory; drop --database-url.") }
            let backup = try BackupFile(contentsOf: from)
            let logger = Admin.quietLogger
            let keyFile = data.resolvedRootKeyFile
            guard FileManager.default.fileExists(atPath: keyFile) else {
                throw CommandFailure(
                    "\(keyFile) does not exist: put the root key the backup was taken with there (mode 0600), or give --root-key-file.")
            }
            let rootKey = try DataDirectory.loadOrCreateRootKey(at: keyFile, sealedBy: try data.rootKeySeal, logger: logger, create: false)
            guard rootKey.fingerprint == backup.manifest.rootKeyFingerprint else {
                throw CommandFailure(
                    "\(keyFile) is not the root key this backup was taken with (fingerprint \(rootKey.fingerprint), the backup's \(backup.manifest.rootKeyFingerprint)): nothing in it could be decrypted. Nothing was written."
                )
            }
            let directory = data.resolvedDataDir
            let file = directory + "/swiftkms.sqlite3"
            for existing in [file, file + "-wal"] where FileManager.default.fileExists(atPath: existing) {
                throw CommandFailure("\(existing) exists: restore only into a data directory without a database.")
            }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            do {
                _ = try backup.writeDatabase(to: file)
                // Opening migrates an older schema, and the audit signing key must open with this root key.
                let store = try SQLiteStore(path: file, logger: logger)
                if let signing = try await store.auditSigningKey() { _ = try rootKey.openAuditSigningKey(signing.wrapped) }
            } catch {
                try? FileManager.default.removeItem(atPath: file)
                throw error
            }
            print("restored \(from) into \(file): \(BackupFile.describe(backup.manifest))")
        }
    }

    struct VerifyBackup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-backup",
            abstract: "Check a backup file without restoring it: its SHA-256, that its database holds what the manifest says, and its audit trail.",
            discussion: "With --root-key-file, also that it was taken with that root key. Exits 1 when a check fails.")

        @Argument(help: "The backup file.") var file: String
        @Option(help: "A root key file to check the backup against.") var rootKeyFile: String?

        func run() async throws {
            let backup = try BackupFile(contentsOf: file)
            let logger = Admin.quietLogger
            if let rootKeyFile {
                let rootKey = try DataDirectory.loadOrCreateRootKey(at: rootKeyFile, logger: logger, create: false)
                guard rootKey.fingerprint == backup.manifest.rootKeyFingerprint else {
                    throw CommandFailure("\(rootKeyFile) is not the root key this backup was taken with.")
                }
            }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swiftkms-verify-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            _ = try backup.writeDatabase(to: scratch + "/swiftkms.sqlite3")
            let store = try SQLiteStore(path: scratch + "/swiftkms.sqlite3", logger: logger)
            let audit = try await AuditLedger(store: store, rootKey: nil).verify(key: nil)
            if let problem = audit.problem { throw CommandFailure("\(file): the audit trail does not verify: \(problem)") }
            print(
                "OK: \(file): \(BackupFile.describe(backup.manifest)); audit trail verified (\(audit.chains) chains, \(audit.events) events, \(audit.checkpoints) checkpoints)"
            )
        }
    }
}
