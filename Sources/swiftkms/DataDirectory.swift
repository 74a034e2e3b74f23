import Foundation
import KMSService
import KMSStorage
import KMSStoragePostgres
import KMSStorageSQLite
import Logging

/// The files of a data directory: created on first use with owner-only permissions,
/// reused as they are afterwards.
///
///     DATA_DIR/             0700
///         swiftkms.sqlite3  0600  (and its -wal, -shm) unless --database-url names PostgreSQL
///         root.key          0600  unless --root-key-file points elsewhere
///         root-credentials  0600  generated root credentials, written once
struct DataDirectory {
    let path: String
    /// SQLite in the directory, or the PostgreSQL database of `--database-url`.
    let store: any Store
    let rootKey: RootKey

    /// - Parameter callDeadline: on PostgreSQL, how long one read or commit may take.
    init(options: DataDirectoryOptions, callDeadline: Duration = .seconds(5), logger: Logger) async throws {
        path = options.resolvedDataDir
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            logger.info("created data directory", metadata: ["path": "\(path)"])
        }
        rootKey = try Self.loadOrCreateRootKey(at: options.resolvedRootKeyFile, sealedBy: try options.rootKeySeal, logger: logger)
        store = try await Self.openStore(options: options, sqliteFile: path + "/swiftkms.sqlite3", callDeadline: callDeadline, logger: logger)
    }

    /// Opens the database without touching the root key, for commands that only read (audit
    /// verify and lookup): an existing data directory's, or the PostgreSQL database's.
    static func existingStore(options: DataDirectoryOptions, logger: Logger) async throws -> any Store {
        let file = options.resolvedDataDir + "/swiftkms.sqlite3"
        guard try options.resolvedDatabaseURL != nil || FileManager.default.fileExists(atPath: file) else {
            throw CommandFailure("\(file) does not exist.")
        }
        return try await openStore(options: options, sqliteFile: file, callDeadline: .seconds(600), logger: logger)
    }

    private static func openStore(options: DataDirectoryOptions, sqliteFile: String, callDeadline: Duration, logger: Logger) async throws -> any Store
    {
        guard let url = try options.resolvedDatabaseURL else { return try SQLiteStore(path: sqliteFile, logger: logger) }
        do {
            return try await PostgresStore(
                url: url, allowAsynchronousCommit: options.allowsAsynchronousCommit, callDeadline: callDeadline, logger: logger)
        } catch {
            throw CommandFailure("cannot use the database \(url): \(error); see the log above.")
        }
    }

    /// Reads the root key, or creates it (32 random bytes, base64, mode 0600) when absent and
    /// `create`. Refuses a key file that group or others may read. With `seal`, the file holds
    /// the root key sealed by the HSM, and a new root key is written only sealed.
    static func loadOrCreateRootKey(at file: String, sealedBy seal: RootKeySeal? = nil, logger: Logger, create: Bool = true) throws -> RootKey {
        let fm = FileManager.default
        if let seal, !fm.fileExists(atPath: file) {
            guard create else { throw CommandFailure("\(file) does not exist.") }
            var raw = RootKey.generateRawBytes()
            defer { Zeroize.wipe(&raw) }
            try writeOwnerOnly(file, bytes: try seal.seal(raw))
            logger.notice(
                "created root key, sealed by the HSM; back up the file and the token's sealing key, every key is lost without them",
                metadata: ["path": "\(file)", "token": "\(seal.tokenLabel)", "sealingKey": "\(seal.keyLabel)"])
        }
        if !fm.fileExists(atPath: file) {
            guard create else { throw CommandFailure("\(file) does not exist.") }
            var raw = RootKey.generateRawBytes()
            var encoded = Array(Data(raw).base64EncodedData()) + [0x0A]
            defer {
                Zeroize.wipe(&raw)
                Zeroize.wipe(&encoded)
            }
            try writeOwnerOnly(file, bytes: encoded)
            logger.notice("created root key; back it up, every key is lost without it", metadata: ["path": "\(file)"])
        }
        if let mode = OwnerOnlyFile.exposedMode(of: file) {
            throw CommandFailure("\(file) may be read by other users (mode \(String(mode, radix: 8))); run chmod 600 on it.")
        }
        // Read as bytes and wiped once used: a String's copy of the key could not be.
        var contents = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        if let seal {
            defer { Zeroize.wipe(&contents) }
            return try seal.unseal(contents, file: file)
        }
        do {
            return try RootKey(keyFile: &contents)
        } catch {
            throw CommandFailure("\(file) does not hold a base64-encoded \(RootKey.byteCount)-byte root key.")
        }
    }

    /// Creates `file` with mode 0600 and writes `contents`; fails if it exists.
    static func writeOwnerOnly(_ file: String, contents: String) throws {
        try writeOwnerOnly(file, bytes: Array(contents.utf8))
    }

    /// Creates `file` with mode 0600 and writes `bytes`; fails if it exists.
    static func writeOwnerOnly(_ file: String, bytes: [UInt8]) throws {
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CommandFailure("cannot create \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw CommandFailure("cannot write \(file): \(String(cString: strerror(errno)))")
        }
    }
}

/// A failure reported to the person at the terminal.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
