import ArgumentParser
import Foundation
import KMSStoragePostgres

/// Options every command shares: where the data lives and which account it acts for.
/// Each falls back to a `SWIFTKMS_*` environment variable, then to its default.
struct DataDirectoryOptions: ParsableArguments {
    @Option(help: "Data directory: database, root key, root credentials. [env: SWIFTKMS_DATA_DIR] (default: ./swiftkms-data)")
    var dataDir: String?

    @Option(
        help:
            "Account ID (12 digits) of the account the server bootstraps and admin commands act on. [env: SWIFTKMS_ACCOUNT_ID] (default: 111122223333)"
    )
    var accountId: String?

    @Option(help: "Root key file (32 bytes, base64; created with mode 0600 if absent). [env: SWIFTKMS_ROOT_KEY_FILE] (default: DATA_DIR/root.key)")
    var rootKeyFile: String?

    @Option(
        help:
            "PostgreSQL database that several servers share, instead of SQLite in the data directory: postgres://USER:PASSWORD@HOST[:PORT][,HOST[:PORT]…]/DATABASE[?sslmode=verify-full&sslrootcert=FILE]. Prefer the variable: a flag's password shows in ps. [env: SWIFTKMS_DATABASE_URL]"
    )
    var databaseUrl: String?

    @Flag(
        help:
            "Run on a PostgreSQL whose synchronous_commit is off, where a crash can lose changes already acknowledged. [env: SWIFTKMS_DATABASE_ALLOW_ASYNCHRONOUS_COMMIT=1] (default: refuse)"
    )
    var databaseAllowAsynchronousCommit = false

    var resolvedDataDir: String { dataDir ?? env("SWIFTKMS_DATA_DIR") ?? "./swiftkms-data" }
    var resolvedAccountID: String { accountId ?? env("SWIFTKMS_ACCOUNT_ID") ?? "111122223333" }
    var resolvedRootKeyFile: String { rootKeyFile ?? env("SWIFTKMS_ROOT_KEY_FILE") ?? resolvedDataDir + "/root.key" }

    /// The PostgreSQL database to use; nil for SQLite in the data directory.
    var resolvedDatabaseURL: PostgresDatabaseURL? {
        get throws {
            guard let text = databaseUrl ?? env("SWIFTKMS_DATABASE_URL") else { return nil }
            do {
                return try PostgresDatabaseURL(text)
            } catch {
                throw ValidationError("\(databaseUrl != nil ? "--database-url" : "SWIFTKMS_DATABASE_URL"): \(error.description).")
            }
        }
    }

    var allowsAsynchronousCommit: Bool { databaseAllowAsynchronousCommit || env("SWIFTKMS_DATABASE_ALLOW_ASYNCHRONOUS_COMMIT") == "1" }

    func validate() throws {
        _ = try resolvedDatabaseURL
        let account = resolvedAccountID
        guard account.count == 12, account.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ValidationError("The account ID must be 12 digits.")
        }
    }
}

func env(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}
