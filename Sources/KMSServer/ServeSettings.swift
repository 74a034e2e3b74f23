import Foundation
import KMSService
import KMSStorage
import Logging

/// Everything `swiftkms serve` runs with, resolved once: each setting from its flag, else its
/// environment variable, else its default, then validated as a whole. A value out of range
/// stops the start with an error naming where it came from (`--port` or `SWIFTKMS_PORT`): a
/// malformed value must never become the default silently, and an interval of 0 would make a
/// periodic job spin.
public struct ServeSettings: Sendable {
    public var server = ServerConfiguration()
    public var quotas = KeyManagementService.Quotas()
    /// The audit chain this process appends to: `main` on SQLite; over a shared database,
    /// `node-HOSTNAME-PORT` unless given, so that each node has its own.
    public var auditChain = "main"
    /// Days audit events stay in the database before export and pruning; nil keeps them all.
    public var auditRetentionDays: Int?
    /// Where events are exported before pruning; required with `auditRetentionDays`.
    public var auditExportDirectory: String?
    /// How often retention looks for events to export and prune.
    public var auditRetentionInterval = Duration.seconds(3600)
    /// Events per audit segment (the oldest events of the chain, sealed and compressed).
    public var auditSegmentSize = AuditSegment.defaultSize
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text
    /// PEM files of the TLS listener's certificate chain and private key; both or neither.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// PEM certificates trusted for external key stores' XKS proxies, instead of the system's.
    public var xksProxyCABundlePath: String?
    /// The certificate (PEM or DER) that Nitro Enclaves attestation documents must chain to
    /// (AWS's Nitro root in production, a test root in tests); nil refuses `Recipient`.
    public var attestationRootCertificatePath: String?
    /// A development server (`--dev`): test/test, a temporary data directory.
    public var development = false
    /// The seed file applied at start (`--seed`).
    public var seedPath: String?

    public enum LogFormat: String, Sendable {
        case text, json
    }

    /// What the command line gave; nil where a flag was not given.
    public struct Flags: Sendable {
        public var host: String?
        public var port: Int?
        public var deletionInterval: Int?
        public var rotationInterval: Int?
        public var auditCheckpointInterval: Int?
        public var idleTimeout: Int?
        public var bodyTimeout: Int?
        public var maxConnections: Int?
        public var grantsPerKey: Int?
        public var keysPerRegion: Int?
        public var aliasesPerKey: Int?
        public var customKeyStoresPerRegion: Int?
        public var development = false
        public var seed: String?
        public var keyPolicySize: Int?
        public var requestRateQuotas = false
        public var requestRates: [String] = []
        public var auditChain: String?
        /// The store is a database several nodes share (PostgreSQL).
        public var sharedDatabase = false
        public var auditRetentionDays: Int?
        public var auditRetentionInterval: Int?
        public var auditSegmentSize: Int?
        public var auditExportDir: String?
        public var logLevel: String?
        public var logFormat: String?
        public var tlsCertificate: String?
        public var tlsKey: String?
        public var xksProxyCABundle: String?
        public var attestationRootCertificate: String?
        public var metricsAddress: String?
        public var shutdownTimeout: Int?
        public var keyCensusInterval: Int?
        public var noConsole = false

        public init() {}
    }

    /// A setting that can't be used, with the flag or variable it came from.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init() {}

    /// - Parameter environment: the process environment (`SWIFTKMS_*` are read).
    public init(flags: Flags, environment: [String: String]) throws(Invalid) {
        var resolver = Resolver(environment: environment)
        server.host = resolver.text(flags.host, "--host", "SWIFTKMS_HOST") ?? server.host
        server.port = try resolver.number(flags.port, "--port", "SWIFTKMS_PORT", default: server.port, atMost: 65_535)
        server.deletionInterval = .seconds(
            try resolver.number(flags.deletionInterval, "--deletion-interval", "SWIFTKMS_DELETION_INTERVAL", default: 60))
        server.rotationInterval = .seconds(
            try resolver.number(flags.rotationInterval, "--rotation-interval", "SWIFTKMS_ROTATION_INTERVAL", default: 60))
        server.checkpointInterval = .seconds(
            try resolver.number(
                flags.auditCheckpointInterval, "--audit-checkpoint-interval",
                "SWIFTKMS_AUDIT_CHECKPOINT_INTERVAL", default: 60))
        server.idleTimeout = .seconds(try resolver.number(flags.idleTimeout, "--idle-timeout", "SWIFTKMS_IDLE_TIMEOUT", default: 60))
        server.bodyTimeout = .seconds(try resolver.number(flags.bodyTimeout, "--body-timeout", "SWIFTKMS_BODY_TIMEOUT", default: 20))
        server.maximumConnections = try resolver.number(flags.maxConnections, "--max-connections", "SWIFTKMS_MAX_CONNECTIONS", default: 1_024)
        quotas.grantsPerKey = try resolver.number(flags.grantsPerKey, "--grants-per-key", "SWIFTKMS_GRANTS_PER_KEY", default: quotas.grantsPerKey)
        quotas.keysPerRegion = try resolver.number(
            flags.keysPerRegion, "--keys-per-region", "SWIFTKMS_KEYS_PER_REGION", default: quotas.keysPerRegion)
        quotas.aliasesPerKey = try resolver.number(
            flags.aliasesPerKey, "--aliases-per-key", "SWIFTKMS_ALIASES_PER_KEY", default: quotas.aliasesPerKey)
        quotas.customKeyStoresPerRegion = try resolver.number(
            flags.customKeyStoresPerRegion, "--custom-key-stores-per-region", "SWIFTKMS_CUSTOM_KEY_STORES_PER_REGION",
            default: quotas.customKeyStoresPerRegion)
        quotas.keyPolicySize = try resolver.number(
            flags.keyPolicySize, "--key-policy-size", "SWIFTKMS_KEY_POLICY_SIZE", default: quotas.keyPolicySize)
        quotas.requestRates = try Self.requestRates(flags: flags, environment: environment)
        auditChain =
            resolver.text(flags.auditChain, "--audit-chain", "SWIFTKMS_AUDIT_CHAIN")
            ?? (flags.sharedDatabase ? Self.nodeChain(host: ProcessInfo.processInfo.hostName, port: server.port) : auditChain)
        guard (1...64).contains(auditChain.count), auditChain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw Invalid(description: "\(resolver.source) must be 1–64 letters, digits or hyphens.")
        }
        auditRetentionDays = try resolver.optionalNumber(flags.auditRetentionDays, "--audit-retention-days", "SWIFTKMS_AUDIT_RETENTION_DAYS")
        auditExportDirectory = resolver.text(flags.auditExportDir, "--audit-export-dir", "SWIFTKMS_AUDIT_EXPORT_DIR")
        auditRetentionInterval = .seconds(
            try resolver.number(
                flags.auditRetentionInterval, "--audit-retention-interval", "SWIFTKMS_AUDIT_RETENTION_INTERVAL", default: 3600))
        auditSegmentSize = try resolver.number(
            flags.auditSegmentSize, "--audit-segment-size", "SWIFTKMS_AUDIT_SEGMENT_SIZE", default: auditSegmentSize, atMost: 65_536)
        if auditRetentionDays != nil, auditExportDirectory == nil {
            throw Invalid(description: "--audit-retention-days needs --audit-export-dir: events are exported before they are pruned.")
        }
        if let text = resolver.text(flags.logLevel, "--log-level", "SWIFTKMS_LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: text) else {
                throw Invalid(
                    description: "\(resolver.source) must be one of trace, debug, info, notice, warning, error, critical; not '\(text.prefix(32))'.")
            }
            logLevel = level
        }
        if let text = resolver.text(flags.logFormat, "--log-format", "SWIFTKMS_LOG_FORMAT") {
            guard let format = LogFormat(rawValue: text) else {
                throw Invalid(description: "\(resolver.source) must be text or json; not '\(text.prefix(32))'.")
            }
            logFormat = format
        }
        tlsCertificatePath = resolver.text(flags.tlsCertificate, "--tls-certificate", "SWIFTKMS_TLS_CERTIFICATE")
        tlsKeyPath = resolver.text(flags.tlsKey, "--tls-key", "SWIFTKMS_TLS_KEY")
        xksProxyCABundlePath = resolver.text(flags.xksProxyCABundle, "--xks-proxy-ca-bundle", "SWIFTKMS_XKS_PROXY_CA_BUNDLE")
        attestationRootCertificatePath = resolver.text(
            flags.attestationRootCertificate, "--attestation-root-certificate", "SWIFTKMS_ATTESTATION_ROOT_CERTIFICATE")
        development = flags.development || environment["SWIFTKMS_DEV"] == "1"
        seedPath = resolver.text(flags.seed, "--seed", "SWIFTKMS_SEED")
        if (tlsCertificatePath == nil) != (tlsKeyPath == nil) {
            throw Invalid(description: "--tls-certificate and --tls-key go together: give both, or neither for plain HTTP.")
        }
        if let text = resolver.text(flags.metricsAddress, "--metrics-address", "SWIFTKMS_METRICS_ADDRESS") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65_535).contains(port), port != server.port else {
                throw Invalid(description: "\(resolver.source) must be HOST:PORT, on another port than the API's; not '\(text.prefix(64))'.")
            }
            server.metricsAddress = (String(parts[0]), port)
        }
        server.shutdownTimeout = .seconds(
            try resolver.number(flags.shutdownTimeout, "--shutdown-timeout", "SWIFTKMS_SHUTDOWN_TIMEOUT", default: 30, atMost: 3_600))
        server.keyCensusInterval = .seconds(
            try resolver.number(flags.keyCensusInterval, "--key-census-interval", "SWIFTKMS_KEY_CENSUS_INTERVAL", default: 30))
        server.console = !(flags.noConsole || environment["SWIFTKMS_NO_CONSOLE"] == "1")
    }

    /// Whether `host` names this machine only (127.0.0.0/8, ::1, localhost): plain HTTP there
    /// never crosses a network.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `node-HOST-PORT`, with what a chain name may not hold dropped from the host name.
    static func nodeChain(host: String, port: Int) -> String {
        let suffix = "-\(port)"
        let name = host.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }.prefix(64 - 5 - suffix.count)
        return "node-" + name + suffix
    }

    /// AWS's request-rate quotas with the overrides given, or nil when they are off.
    private static func requestRates(flags: Flags, environment: [String: String]) throws(Invalid) -> RequestRates? {
        let overrides = flags.requestRates + (environment["SWIFTKMS_REQUEST_RATES"]?.split(separator: ",").map(String.init) ?? [])
        guard flags.requestRateQuotas || environment["SWIFTKMS_REQUEST_RATE_QUOTAS"] == "1" || !overrides.isEmpty else { return nil }
        var rates = RequestRates()
        for item in overrides {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let rate = Double(parts[1]), rate > 0, rates.set(parts[0], rate) else {
                throw Invalid(
                    description:
                        "--request-rate and SWIFTKMS_REQUEST_RATES take NAME=RPS with NAME symmetric, rsa, ecc, ml-dsa or a management operation, and RPS > 0; not '\(item.prefix(64))'."
                )
            }
        }
        return rates
    }

    /// Reads one setting at a time from its flag or variable, remembering which it used.
    private struct Resolver {
        let environment: [String: String]
        /// The flag or variable the last value came from.
        var source = ""

        mutating func text(_ flag: String?, _ flagName: String, _ variable: String) -> String? {
            if let flag {
                source = flagName
                return flag
            }
            source = variable
            return environment[variable]
        }

        /// A whole number from 1 to `limit`.
        mutating func number(
            _ flag: Int?, _ flagName: String, _ variable: String, default fallback: Int, atMost limit: Int = .max
        ) throws(Invalid) -> Int {
            try optionalNumber(flag, flagName, variable, atMost: limit) ?? fallback
        }

        mutating func optionalNumber(_ flag: Int?, _ flagName: String, _ variable: String, atMost limit: Int = .max) throws(Invalid) -> Int? {
            let value: Int?
            if let flag {
                source = flagName
                value = flag
            } else if let text = environment[variable] {
                source = variable
                guard let parsed = Int(text) else {
                    throw Invalid(description: "\(variable) must be a whole number from 1 to \(limit), not '\(text.prefix(32))'.")
                }
                value = parsed
            } else {
                return nil
            }
            guard let value, (1...limit).contains(value) else {
                throw Invalid(description: "\(source) must be a whole number from 1 to \(limit).")
            }
            return value
        }
    }
}
