import ArgumentParser
import Foundation
import Hummingbird
import KMSServer
import KMSService
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server on the embedded SQLite store in the data directory.",
        discussion: """
            On first start, creates the data directory, the database and the root key, and the
            account's root credentials: taken from SWIFTKMS_ROOT_ACCESS_KEY_ID and
            SWIFTKMS_ROOT_SECRET_ACCESS_KEY when set, otherwise generated, printed once and
            written to DATA_DIR/root-credentials (mode 0600). Stops gracefully on SIGINT/SIGTERM.
            """)

    @OptionGroup var data: DataDirectoryOptions

    @Option(help: "Address to listen on. [env: SWIFTKMS_HOST] (default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on. [env: SWIFTKMS_PORT] (default: 9600)")
    var port: Int?

    @Option(help: "Seconds between runs of the job that deletes keys whose deletion window ended. [env: SWIFTKMS_DELETION_INTERVAL] (default: 60)")
    var deletionInterval: Int?

    @Option(help: "Quota of grants on one key (LimitExceededException beyond). [env: SWIFTKMS_GRANTS_PER_KEY] (default: 50000, AWS's)")
    var grantsPerKey: Int?

    @Option(help: "Quota of a key policy's size in bytes. [env: SWIFTKMS_KEY_POLICY_SIZE] (default: 32768, AWS's)")
    var keyPolicySize: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. [env: SWIFTKMS_LOG_LEVEL] (default: info)")
    var logLevel: String?

    func validate() throws {
        for (name, value) in [("--grants-per-key", grantsPerKey), ("--key-policy-size", keyPolicySize)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1.") }
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel ?? env("SWIFTKMS_LOG_LEVEL") ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "swiftkms")
        let directory = try DataDirectory(options: data, logger: logger)
        let account = data.resolvedAccountID
        let credentials = Credentials(store: directory.store, rootKey: directory.rootKey)
        try await bootstrapRootCredentials(credentials, account: account, directory: directory, logger: logger)

        let quotas = KeyManagementService.Quotas(
            grantsPerKey: grantsPerKey ?? env("SWIFTKMS_GRANTS_PER_KEY").flatMap(Int.init) ?? 50_000,
            keyPolicySize: keyPolicySize ?? env("SWIFTKMS_KEY_POLICY_SIZE").flatMap(Int.init) ?? 32_768)
        let service = KeyManagementService(store: directory.store, rootKey: directory.rootKey, quotas: quotas, logger: logger)
        let configuration = ServerConfiguration(
            host: host ?? env("SWIFTKMS_HOST") ?? "127.0.0.1",
            port: port ?? env("SWIFTKMS_PORT").flatMap(Int.init) ?? 9600,
            deletionInterval: .seconds(deletionInterval ?? env("SWIFTKMS_DELETION_INTERVAL").flatMap(Int.init) ?? 60))
        let app = buildApplication(configuration: configuration, service: service, credentials: credentials, logger: logger)
        try await app.runService()
    }

    private func bootstrapRootCredentials(_ credentials: Credentials, account: String, directory: DataDirectory, logger: Logger) async throws {
        var given: (String, String)?
        if let id = env("SWIFTKMS_ROOT_ACCESS_KEY_ID") {
            guard let secret = env("SWIFTKMS_ROOT_SECRET_ACCESS_KEY") else {
                throw CommandFailure("SWIFTKMS_ROOT_ACCESS_KEY_ID is set but SWIFTKMS_ROOT_SECRET_ACCESS_KEY is not.")
            }
            given = (id, secret)
        }
        guard let issued = try await credentials.bootstrapRoot(account: account, given: given) else { return }
        let file = directory.path + "/root-credentials"
        try DataDirectory.writeOwnerOnly(file, contents: """
            [default]
            aws_access_key_id = \(issued.accessKeyID)
            aws_secret_access_key = \(issued.secretAccessKey)

            """)
        // Printed once, on the terminal of the person who started the server, as the issue of
        // credentials requires; never logged.
        FileHandle.standardOutput.write(Data("""
            Root credentials of account \(account) (also in \(file)):
              export AWS_ACCESS_KEY_ID=\(issued.accessKeyID)
              export AWS_SECRET_ACCESS_KEY=\(issued.secretAccessKey)

            """.utf8))
        logger.notice("generated root credentials", metadata: ["accessKeyId": "\(issued.accessKeyID)", "file": "\(file)"])
    }
}
