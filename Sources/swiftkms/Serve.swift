import ArgumentParser
import Foundation
import Hummingbird
import KMSAuditExport
import KMSServer
import KMSService
import KMSStorage
import KMSStoragePostgres
import KMSXKSClient
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server on the embedded SQLite store in the data directory, or on a PostgreSQL database several servers share.",
        discussion: """
            On first start, creates the data directory, the database and the root key, and the
            account's root credentials: taken from SWIFTKMS_ROOT_ACCESS_KEY_ID and
            SWIFTKMS_ROOT_SECRET_ACCESS_KEY when set, otherwise generated, printed once and
            written to DATA_DIR/root-credentials (mode 0600).

            On SIGINT/SIGTERM: /ready answers 503, the listener closes, requests in flight
            finish (within --shutdown-timeout), the audit trail is checkpointed, exit 0.
            On SIGHUP: the TLS certificate and key are read again.

            With --database-url, every server given the same URL and the same root key serves as
            one KMS: a change through one is enforced by all within 750 ms.

            With --dev: a development server for test suites. Without --data-dir it keeps its data
            in a temporary directory deleted at exit; its root credentials are access key `test`
            and secret `test` (unless SWIFTKMS_ROOT_ACCESS_KEY_ID is set), which only a development
            server accepts. Signatures, policies, grants and the audit trail work as in production.

            With --seed FILE: the keys, aliases, users and roles FILE declares (YAML or JSON) are
            made or updated at every start, in one transaction; an error in the file names the
            entry and field, and the server does not start.
            """)

    @OptionGroup var data: DataDirectoryOptions

    @Flag(
        help:
            "Development server: temporary data directory unless --data-dir, root credentials test/test, printed with the endpoint. Never for production. [env: SWIFTKMS_DEV=1]"
    )
    var dev = false

    @Option(help: "Seed file (YAML or JSON) of keys, aliases, users and roles to make or update at every start. [env: SWIFTKMS_SEED]")
    var seed: String?

    @Option(help: "Address to listen on. [env: SWIFTKMS_HOST] (default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on. [env: SWIFTKMS_PORT] (default: 9600)")
    var port: Int?

    @Option(help: "Seconds between runs of the job that deletes keys whose deletion window ended. [env: SWIFTKMS_DELETION_INTERVAL] (default: 60)")
    var deletionInterval: Int?

    @Option(
        help: "Seconds between runs of the job that rotates keys whose automatic rotation is due. [env: SWIFTKMS_ROTATION_INTERVAL] (default: 60)")
    var rotationInterval: Int?

    @Option(help: "Quota of grants on one key (LimitExceededException beyond). [env: SWIFTKMS_GRANTS_PER_KEY] (default: 50000, AWS's)")
    var grantsPerKey: Int?

    @Option(
        help:
            "Quota of KMS keys of the account in one region (LimitExceededException beyond). [env: SWIFTKMS_KEYS_PER_REGION] (default: 100000, AWS's)"
    )
    var keysPerRegion: Int?

    @Option(help: "Quota of aliases pointing to one key. [env: SWIFTKMS_ALIASES_PER_KEY] (default: 50, AWS's)")
    var aliasesPerKey: Int?

    @Option(
        help:
            "Quota of custom key stores of the account in one region (LimitExceededException beyond). [env: SWIFTKMS_CUSTOM_KEY_STORES_PER_REGION] (default: 10, AWS's)"
    )
    var customKeyStoresPerRegion: Int?

    @Flag(help: "Apply AWS's request-rate quotas (ThrottlingException beyond). [env: SWIFTKMS_REQUEST_RATE_QUOTAS=1] (default: off)")
    var requestRateQuotas = false

    @Option(
        help:
            "Change one request-rate quota, in requests per second: symmetric, rsa, ecc, ml-dsa, or an operation name (e.g. CreateKey=20). Repeatable; implies --request-rate-quotas. [env: SWIFTKMS_REQUEST_RATES=NAME=RPS,NAME=RPS]"
    )
    var requestRate: [String] = []

    @Option(help: "Quota of a key policy's size in bytes. [env: SWIFTKMS_KEY_POLICY_SIZE] (default: 32768, AWS's)")
    var keyPolicySize: Int?

    @Option(
        help:
            "Name of the audit chain this process appends to; each server over one database needs its own. [env: SWIFTKMS_AUDIT_CHAIN] (default: main on SQLite, node-HOSTNAME-PORT with --database-url)"
    )
    var auditChain: String?

    @Option(
        help: "Seconds between signed audit checkpoints (taken only when events were added). [env: SWIFTKMS_AUDIT_CHECKPOINT_INTERVAL] (default: 60)")
    var auditCheckpointInterval: Int?

    @Option(
        help:
            "Keep audit events this many days in the database; older ones are exported to --audit-export-dir, then pruned (every --audit-retention-interval). [env: SWIFTKMS_AUDIT_RETENTION_DAYS] (default: keep all)"
    )
    var auditRetentionDays: Int?

    @Option(help: "Where --audit-retention-days exports events before pruning them. [env: SWIFTKMS_AUDIT_EXPORT_DIR]")
    var auditExportDir: String?

    @Option(
        help:
            "Seconds between two runs of --audit-retention-days; over a shared database one node at a time runs it. [env: SWIFTKMS_AUDIT_RETENTION_INTERVAL] (default: 3600)"
    )
    var auditRetentionInterval: Int?

    @Option(
        help:
            "Events per audit segment: every second, the oldest events of this server's chain are sealed into compressed segments of this many, leaving at least as many in the hot table. [env: SWIFTKMS_AUDIT_SEGMENT_SIZE] (default: 256)"
    )
    var auditSegmentSize: Int?

    @Option(
        help:
            "Seconds a connection may go without a complete request part (idle keep-alive, or headers trickling in) before it is closed. [env: SWIFTKMS_IDLE_TIMEOUT] (default: 60)"
    )
    var idleTimeout: Int?

    @Option(
        help:
            "Seconds a request's body may take to arrive after its headers; past it the connection is closed. [env: SWIFTKMS_BODY_TIMEOUT] (default: 20)"
    )
    var bodyTimeout: Int?

    @Option(help: "Connections open at once; more wait in the listen backlog until one closes. [env: SWIFTKMS_MAX_CONNECTIONS] (default: 1024)")
    var maxConnections: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. [env: SWIFTKMS_LOG_LEVEL] (default: info)")
    var logLevel: String?

    @Option(help: "Log format: text, or json (one object per line). [env: SWIFTKMS_LOG_FORMAT] (default: text)")
    var logFormat: String?

    @Option(
        help:
            "PEM file of the TLS certificate chain (leaf first); with --tls-key, the API is served over TLS 1.2/1.3 only. Reloaded on SIGHUP. [env: SWIFTKMS_TLS_CERTIFICATE]"
    )
    var tlsCertificate: String?

    @Option(help: "PEM file of the TLS private key; refused if its group or others can read it. [env: SWIFTKMS_TLS_KEY]")
    var tlsKey: String?

    @Option(
        name: .customLong("xks-proxy-ca-bundle"),
        help:
            "PEM file of the CA certificates trusted for external key stores' XKS proxies, instead of the system's. [env: SWIFTKMS_XKS_PROXY_CA_BUNDLE]"
    )
    var xksProxyCABundle: String?

    @Option(
        name: .customLong("attestation-root-certificate"),
        help:
            "Certificate (PEM or DER) that Nitro Enclaves attestation documents in a Recipient must chain to: AWS's Nitro Enclaves root, or a root of your own for tests. Without it, Recipient is refused. [env: SWIFTKMS_ATTESTATION_ROOT_CERTIFICATE]"
    )
    var attestationRootCertificate: String?

    @Option(
        help:
            "HOST:PORT of a listener of its own serving GET /metrics (Prometheus text format). [env: SWIFTKMS_METRICS_ADDRESS] (default: none)"
    )
    var metricsAddress: String?

    @Option(
        help:
            "Seconds graceful shutdown (SIGTERM) waits for requests in flight before cutting them. [env: SWIFTKMS_SHUTDOWN_TIMEOUT] (default: 30)"
    )
    var shutdownTimeout: Int?

    @Option(
        help: "Seconds between two counts of keys by state and spec (the metric swiftkms_keys). [env: SWIFTKMS_KEY_CENSUS_INTERVAL] (default: 30)")
    var keyCensusInterval: Int?

    @Flag(help: "Do not serve the web console at /console/. [env: SWIFTKMS_NO_CONSOLE=1] (default: served)")
    var noConsole = false

    /// The flags as given, for `ServeSettings` to resolve with the environment.
    private var flags: ServeSettings.Flags {
        var flags = ServeSettings.Flags()
        flags.host = host
        flags.port = port
        flags.deletionInterval = deletionInterval
        flags.rotationInterval = rotationInterval
        flags.auditCheckpointInterval = auditCheckpointInterval
        flags.idleTimeout = idleTimeout
        flags.bodyTimeout = bodyTimeout
        flags.maxConnections = maxConnections
        flags.grantsPerKey = grantsPerKey
        flags.keysPerRegion = keysPerRegion
        flags.customKeyStoresPerRegion = customKeyStoresPerRegion
        flags.development = dev
        flags.seed = seed
        flags.aliasesPerKey = aliasesPerKey
        flags.keyPolicySize = keyPolicySize
        flags.requestRateQuotas = requestRateQuotas
        flags.requestRates = requestRate
        flags.auditChain = auditChain
        flags.sharedDatabase = (try? data.resolvedDatabaseURL) != nil
        flags.auditRetentionDays = auditRetentionDays
        flags.auditExportDir = auditExportDir
        flags.auditRetentionInterval = auditRetentionInterval
        flags.auditSegmentSize = auditSegmentSize
        flags.logLevel = logLevel
        flags.logFormat = logFormat
        flags.tlsCertificate = tlsCertificate
        flags.tlsKey = tlsKey
        flags.xksProxyCABundle = xksProxyCABundle
        flags.attestationRootCertificate = attestationRootCertificate
        flags.metricsAddress = metricsAddress
        flags.shutdownTimeout = shutdownTimeout
        flags.keyCensusInterval = keyCensusInterval
        flags.noConsole = noConsole
        return flags
    }

    func run() async throws {
        let settings: ServeSettings
        do {
            settings = try ServeSettings(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.description)
        }
        let development = settings.development
        // Read before anything is made: a seed file with an error starts nothing.
        let seedPath = settings.seedPath
        let declared = try seedPath.map(SeedFile.load)
        var data = self.data
        var temporaryDirectory: String?
        if development, data.dataDir == nil, env("SWIFTKMS_DATA_DIR") == nil, data.databaseUrl == nil, env("SWIFTKMS_DATABASE_URL") == nil {
            temporaryDirectory = try Self.makeTemporaryDirectory()
            data.dataDir = temporaryDirectory
        }
        defer { if let temporaryDirectory { try? FileManager.default.removeItem(atPath: temporaryDirectory) } }
        LoggingSystem.bootstrap { label in
            switch settings.logFormat {
            case .json: return JSONLogHandler(label: label, level: settings.logLevel)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = settings.logLevel
                return handler
            }
        }
        let logger = Logger(label: "swiftkms")
        var server = settings.server
        if let certificate = settings.tlsCertificatePath, let key = settings.tlsKeyPath {
            do {
                server.tls = try TLSCredentials(certificatePath: certificate, keyPath: key)
            } catch {
                throw CommandFailure(error.description)
            }
        }
        let metricsRegistry = server.metricsAddress.map { _ in MetricsExport.bootstrap(version: SwiftKMSCommand.version) }
        let directory = try await DataDirectory(options: data, logger: logger)
        let account = data.resolvedAccountID
        // What every request reads, kept in memory and checked against the database's change
        // generation before each use (CachingStore): never stale, also across processes.
        let store = CachingStore(directory.store)
        let credentials = Credentials(
            store: store, rootKey: directory.rootKey, auditChain: settings.auditChain, acceptsDevelopmentCredentials: development)
        try await bootstrapRootCredentials(
            credentials, account: account, directory: directory, given: development ? Self.developmentCredentials : nil, logger: logger)
        let service = KeyManagementService(
            store: store, rootKey: directory.rootKey, quotas: settings.quotas,
            auditChain: settings.auditChain, xks: XKSClient(caBundlePath: settings.xksProxyCABundlePath),
            attestationRoot: try settings.attestationRootCertificatePath.map(Self.attestationRoot), logger: logger)
        let ledger = AuditLedger(store: directory.store, rootKey: directory.rootKey)
        _ = try await ledger.signingKey()
        if let declared, let seedPath {
            do throws(SeedError) {
                let outcome = try await service.applySeed(declared, account: account, developmentCredentials: development)
                logger.notice(
                    "seed applied",
                    metadata: [
                        "file": "\(seedPath)", "created": "\(outcome.created.count)", "updated": "\(outcome.updated.count)",
                        "unchanged": "\(outcome.unchanged)",
                    ])
            } catch {
                throw CommandFailure("seed file \(seedPath): \(error.description)")
            }
        }
        var jobs: [any Service] = [
            PeriodicJob(name: "audit segments", interval: .seconds(1), logger: logger) {
                try await ledger.sealSegments(chain: settings.auditChain, size: settings.auditSegmentSize)
            }
        ]
        if let days = settings.auditRetentionDays, let exportDir = settings.auditExportDirectory {
            let retention = AuditRetention(
                ledger: ledger, signingKey: try await ledger.signingKey(), exportDirectory: URL(fileURLWithPath: exportDir))
            jobs.append(
                PeriodicJob(name: "audit retention", interval: settings.auditRetentionInterval, logger: logger) {
                    // One node at a time over a shared database: the holder renews its lease at
                    // each run; another node takes over once it has missed two.
                    let lease = settings.auditRetentionInterval * 2
                    guard try await ledger.takeLease(of: "audit retention", holder: settings.auditChain, for: lease) else { return }
                    let pruned = try await retention.run(olderThan: .seconds(Double(days) * 86_400))
                    if pruned > 0 { logger.info("audit events exported and pruned", metadata: ["count": "\(pruned)", "directory": "\(exportDir)"]) }
                })
        }
        let postgres = directory.store as? PostgresStore
        defer { postgres?.close() }
        let readiness = Readiness()
        let app = buildApplication(
            configuration: server, service: service, credentials: credentials, ledger: ledger, jobs: jobs, readiness: readiness,
            storeAvailable: { postgres?.isAvailable ?? true }, logger: logger)
        if postgres != nil { logger.notice("serving over PostgreSQL", metadata: ["auditChain": "\(settings.auditChain)"]) }
        announce(server, logger: logger)
        if development {
            announceDevelopment(server, account: account, dataDirectory: data.resolvedDataDir, temporary: temporaryDirectory != nil, logger: logger)
        }
        // Shut down in reverse order: /ready turns 503 first, then the API drains, then /metrics.
        var services: [any Service] = [app, Readiness.DrainOnShutdown(readiness: readiness)]
        if let registry = metricsRegistry, let address = server.metricsAddress {
            services.insert(MetricsExport.application(host: address.host, port: address.port, registry: registry, logger: logger), at: 0)
        }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = server.shutdownTimeout
        group.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            logger.error("shut down past --shutdown-timeout; requests still in flight were cut", metadata: ["error": "\(error)"])
        }
        // The checkpoint job signed the trail when it stopped; after a cut shutdown it may not have.
        try await ledger.checkpoint()
        logger.notice("stopped")
    }

    /// The start-up line: the scheme served, and a warning when plain HTTP listens beyond loopback.
    private func announce(_ server: ServerConfiguration, logger: Logger) {
        let scheme = server.tls == nil ? "http" : "https"
        logger.notice(
            "serving the KMS API",
            metadata: [
                "url": "\(scheme)://\(server.host):\(server.port)",
                "transport": "\(server.tls == nil ? "plain HTTP (for loopback, or behind a TLS-terminating proxy)" : "TLS 1.2/1.3")",
                "metrics": "\(server.metricsAddress.map { "http://\($0.host):\($0.port)/metrics" } ?? "off")",
                "console": "\(server.console ? "\(scheme)://\(server.host):\(server.port)/console/" : "off")",
            ])
        if server.tls == nil, !ServeSettings.isLoopback(server.host) {
            logger.warning(
                "plain HTTP on a non-loopback address: requests, plaintexts and data keys cross the network in the clear. Give --tls-certificate and --tls-key, or put a TLS-terminating proxy in front."
            )
        }
    }

    /// The attestation root certificate's bytes; a file that cannot be read or holds no
    /// certificate stops the server at startup.
    static func attestationRoot(path: String) throws -> [UInt8] {
        guard let bytes = FileManager.default.contents(atPath: path).map(Array.init), RecipientAttestation.isCertificate(bytes) else {
            throw CommandFailure("--attestation-root-certificate \(path) is not a readable PEM or DER certificate.")
        }
        return bytes
    }

    /// The credentials test suites use with the local emulators; only `--dev` accepts them.
    static let developmentCredentials = (accessKeyID: "test", secret: "test")

    /// A fresh directory of the process's own (0700) under the system's temporary directory.
    static func makeTemporaryDirectory() throws -> String {
        var template = Array(URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("swiftkms-dev.XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else { throw CommandFailure("cannot make a temporary data directory.") }
        return String(cString: made)
    }

    /// What a development server prints on its terminal: that it is one, where, and the
    /// credentials to use (test/test are no secret).
    private func announceDevelopment(_ server: ServerConfiguration, account: String, dataDirectory: String, temporary: Bool, logger: Logger) {
        let scheme = server.tls == nil ? "http" : "https"
        let given = env("SWIFTKMS_ROOT_ACCESS_KEY_ID") != nil
        let credentials = given ? "" : " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
        logger.warning(
            "DEVELOPMENT SERVER: accepts the credentials test/test; not for production",
            metadata: ["dataDirectory": "\(dataDirectory)", "temporary": "\(temporary)"])
        FileHandle.standardOutput.write(
            Data(
                """
                SwiftKMS DEVELOPMENT SERVER (not for production)
                  endpoint:     \(scheme)://\(server.host):\(server.port)
                  account:      \(account)   (any region)
                  credentials:  \(given ? "from SWIFTKMS_ROOT_ACCESS_KEY_ID" : "test / test")
                  data:         \(dataDirectory)\(temporary ? "   (deleted at exit)" : "")
                  export AWS_ENDPOINT_URL=\(scheme)://\(server.host):\(server.port)\(credentials) AWS_DEFAULT_REGION=us-east-1

                """.utf8))
    }

    private func bootstrapRootCredentials(
        _ credentials: Credentials, account: String, directory: DataDirectory, given development: (accessKeyID: String, secret: String)?,
        logger: Logger
    ) async throws {
        var given: (String, String)? = development
        if let id = env("SWIFTKMS_ROOT_ACCESS_KEY_ID") {
            guard let secret = env("SWIFTKMS_ROOT_SECRET_ACCESS_KEY") else {
                throw CommandFailure("SWIFTKMS_ROOT_ACCESS_KEY_ID is set but SWIFTKMS_ROOT_SECRET_ACCESS_KEY is not.")
            }
            given = (id, secret)
        }
        guard let issued = try await credentials.bootstrapRoot(account: account, given: given) else { return }
        if given != nil {
            // The given key ID already existed with another secret: that secret no longer works.
            logger.notice(
                "root access key's secret replaced by SWIFTKMS_ROOT_SECRET_ACCESS_KEY; the previous secret no longer works",
                metadata: ["accessKeyId": "\(issued.accessKeyID)"])
            return
        }
        let file = directory.path + "/root-credentials"
        try DataDirectory.writeOwnerOnly(
            file,
            contents: """
                [default]
                aws_access_key_id = \(issued.accessKeyID)
                aws_secret_access_key = \(issued.secretAccessKey)

                """)
        // Printed once, on the terminal of the person who started the server, as the issue of
        // credentials requires; never logged.
        FileHandle.standardOutput.write(
            Data(
                """
                Root credentials of account \(account) (also in \(file)):
                  export AWS_ACCESS_KEY_ID=\(issued.accessKeyID)
                  export AWS_SECRET_ACCESS_KEY=\(issued.secretAccessKey)

                """.utf8))
        logger.notice("generated root credentials", metadata: ["accessKeyId": "\(issued.accessKeyID)", "file": "\(file)"])
    }
}
