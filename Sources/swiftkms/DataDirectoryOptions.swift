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
            "PKCS#11 module of an HSM that seals the root key (as Vault's PKCS#11 seal): the root key is then kept only sealed by a key that never leaves the token, in --root-key-file (default DATA_DIR/root.key.sealed); the token user's PIN is read from SWIFTKMS_ROOT_KEY_PKCS11_PIN. [env: SWIFTKMS_ROOT_KEY_PKCS11_MODULE]"
    )
    var rootKeyPkcs11Module: String?

    @Option(help: "Label of the token of --root-key-pkcs11-module. [env: SWIFTKMS_ROOT_KEY_PKCS11_TOKEN_LABEL]")
    var rootKeyPkcs11TokenLabel: String?

    @Option(
        help:
            "Label of the sealing key in that token, made there (AES-256, never extractable) when absent. [env: SWIFTKMS_ROOT_KEY_PKCS11_KEY_LABEL] (default: swiftkms-root-key-seal)"
    )
    var rootKeyPkcs11KeyLabel: String?

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
    var resolvedRootKeyFile: String {
        rootKeyFile ?? env("SWIFTKMS_ROOT_KEY_FILE") ?? resolvedDataDir + (sealsRootKey ? "/root.key.sealed" : "/root.key")
    }

    var sealsRootKey: Bool { (rootKeyPkcs11Module ?? env("SWIFTKMS_ROOT_KEY_PKCS11_MODULE")) != nil }

    /// The HSM that seals the root key, when one is configured.
    var rootKeySeal: RootKeySeal? {
        get throws {
            guard let module = rootKeyPkcs11Module ?? env("SWIFTKMS_ROOT_KEY_PKCS11_MODULE") else { return nil }
            guard let token = rootKeyPkcs11TokenLabel ?? env("SWIFTKMS_ROOT_KEY_PKCS11_TOKEN_LABEL") else {
                throw ValidationError("--root-key-pkcs11-module needs --root-key-pkcs11-token-label.")
            }
            guard let pin = env("SWIFTKMS_ROOT_KEY_PKCS11_PIN") else {
                throw ValidationError("--root-key-pkcs11-module needs the token user's PIN in SWIFTKMS_ROOT_KEY_PKCS11_PIN.")
            }
            let label = rootKeyPkcs11KeyLabel ?? env("SWIFTKMS_ROOT_KEY_PKCS11_KEY_LABEL") ?? "swiftkms-root-key-seal"
            return RootKeySeal(module: module, tokenLabel: token, keyLabel: label, pin: pin)
        }
    }

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
        _ = try rootKeySeal
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
