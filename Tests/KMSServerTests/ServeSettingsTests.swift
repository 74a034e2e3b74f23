import KMSServer
import Testing

/// `serve`'s settings: flag before environment before default, every value checked, an error
/// naming the flag or variable the bad value came from.
@Suite struct ServeSettingsTests {
    /// Over a shared database each node gets a chain of its own unless one is given.
    @Test func eachNodeOverASharedDatabaseHasItsOwnAuditChain() throws {
        var flags = ServeSettings.Flags()
        flags.sharedDatabase = true
        flags.port = 9701
        let node = try ServeSettings(flags: flags, environment: [:])
        #expect(node.auditChain.hasPrefix("node-") && node.auditChain.hasSuffix("-9701") && node.auditChain.count <= 64)
        #expect(try ServeSettings(flags: flags, environment: ["SWIFTKMS_AUDIT_CHAIN": "east-1"]).auditChain == "east-1")
    }

    @Test func developmentModeAndSeedFromFlagsOrEnvironment() throws {
        let defaults = try ServeSettings(flags: .init(), environment: [:])
        #expect(!defaults.development && defaults.seedPath == nil)
        let fromEnvironment = try ServeSettings(flags: .init(), environment: ["SWIFTKMS_DEV": "1", "SWIFTKMS_SEED": "keys.yaml"])
        #expect(fromEnvironment.development && fromEnvironment.seedPath == "keys.yaml")
        var flags = ServeSettings.Flags()
        flags.development = true
        flags.seed = "other.yaml"
        let fromFlags = try ServeSettings(flags: flags, environment: ["SWIFTKMS_DEV": "0", "SWIFTKMS_SEED": "keys.yaml"])
        #expect(fromFlags.development && fromFlags.seedPath == "other.yaml")
        #expect(!(try ServeSettings(flags: .init(), environment: ["SWIFTKMS_DEV": "0"])).development)
    }

    @Test func operationsSettings() throws {
        let defaults = try ServeSettings(flags: .init(), environment: [:])
        #expect(defaults.tlsCertificatePath == nil && defaults.server.metricsAddress == nil && defaults.logFormat == .text)
        #expect(defaults.server.shutdownTimeout == .seconds(30) && defaults.server.keyCensusInterval == .seconds(30))
        var flags = ServeSettings.Flags()
        flags.tlsCertificate = "cert.pem"
        flags.metricsAddress = "0.0.0.0:9464"
        let given = try ServeSettings(
            flags: flags, environment: ["SWIFTKMS_TLS_KEY": "key.pem", "SWIFTKMS_LOG_FORMAT": "json", "SWIFTKMS_SHUTDOWN_TIMEOUT": "5"])
        #expect(given.tlsCertificatePath == "cert.pem" && given.tlsKeyPath == "key.pem" && given.logFormat == .json)
        #expect(given.server.metricsAddress?.host == "0.0.0.0" && given.server.metricsAddress?.port == 9464)
        #expect(given.server.shutdownTimeout == .seconds(5))
        #expect(ServeSettings.isLoopback("127.0.0.1") && ServeSettings.isLoopback("::1") && !ServeSettings.isLoopback("0.0.0.0"))
    }

    @Test func defaultsThenEnvironmentThenFlags() throws {
        let defaults = try ServeSettings(flags: .init(), environment: [:])
        #expect(defaults.server.port == 9600 && defaults.server.host == "127.0.0.1" && defaults.server.deletionInterval == .seconds(60))
        #expect(defaults.quotas.grantsPerKey == 50_000 && defaults.quotas.requestRates == nil && defaults.auditChain == "main")
        #expect(defaults.auditRetentionDays == nil && defaults.auditRetentionInterval == .seconds(3600) && defaults.logLevel == .info)
        #expect(try ServeSettings(flags: .init(), environment: ["SWIFTKMS_AUDIT_RETENTION_INTERVAL": "5"]).auditRetentionInterval == .seconds(5))

        let environment = [
            "SWIFTKMS_PORT": "9700", "SWIFTKMS_DELETION_INTERVAL": "5", "SWIFTKMS_AUDIT_CHAIN": "node-2", "SWIFTKMS_LOG_LEVEL": "debug",
        ]
        let fromEnvironment = try ServeSettings(flags: .init(), environment: environment)
        #expect(fromEnvironment.server.port == 9700 && fromEnvironment.server.deletionInterval == .seconds(5))
        #expect(fromEnvironment.auditChain == "node-2" && fromEnvironment.logLevel == .debug)

        var flags = ServeSettings.Flags()
        flags.port = 9800
        flags.requestRates = ["CreateKey=20"]
        let fromFlags = try ServeSettings(flags: flags, environment: environment)
        #expect(fromFlags.server.port == 9800 && fromFlags.server.deletionInterval == .seconds(5))
        #expect(fromFlags.quotas.requestRates?.operations["CreateKey"] == 20, "a rate implies the quotas")
    }

    @Test(arguments: [
        (["SWIFTKMS_DELETION_INTERVAL": "0"], "SWIFTKMS_DELETION_INTERVAL"),
        (["SWIFTKMS_PORT": "http"], "SWIFTKMS_PORT"),
        (["SWIFTKMS_PORT": "70000"], "SWIFTKMS_PORT"),
        (["SWIFTKMS_GRANTS_PER_KEY": "-5"], "SWIFTKMS_GRANTS_PER_KEY"),
        (["SWIFTKMS_AUDIT_RETENTION_DAYS": "1e3"], "SWIFTKMS_AUDIT_RETENTION_DAYS"),
        (["SWIFTKMS_AUDIT_RETENTION_DAYS": "30"], "--audit-export-dir"),
        (["SWIFTKMS_AUDIT_RETENTION_INTERVAL": "0"], "SWIFTKMS_AUDIT_RETENTION_INTERVAL"),
        (["SWIFTKMS_AUDIT_CHAIN": "no spaces"], "SWIFTKMS_AUDIT_CHAIN"),
        (["SWIFTKMS_LOG_LEVEL": "loud"], "SWIFTKMS_LOG_LEVEL"),
        (["SWIFTKMS_REQUEST_RATES": "CreateKey=fast"], "SWIFTKMS_REQUEST_RATES"),
        (["SWIFTKMS_LOG_FORMAT": "xml"], "SWIFTKMS_LOG_FORMAT"),
        (["SWIFTKMS_TLS_CERTIFICATE": "cert.pem"], "--tls-key"),
        (["SWIFTKMS_TLS_KEY": "key.pem"], "--tls-certificate"),
        (["SWIFTKMS_METRICS_ADDRESS": "9090"], "SWIFTKMS_METRICS_ADDRESS"),
        (["SWIFTKMS_METRICS_ADDRESS": "127.0.0.1:9600"], "SWIFTKMS_METRICS_ADDRESS"),
        (["SWIFTKMS_SHUTDOWN_TIMEOUT": "0"], "SWIFTKMS_SHUTDOWN_TIMEOUT"),
        (["SWIFTKMS_KEY_CENSUS_INTERVAL": "0"], "SWIFTKMS_KEY_CENSUS_INTERVAL"),
    ])
    func aBadEnvironmentValueIsNamed(_ environment: [String: String], _ named: String) {
        let error = #expect(throws: ServeSettings.Invalid.self) { _ = try ServeSettings(flags: .init(), environment: environment) }
        #expect(error?.description.contains(named) == true, "\(error?.description ?? "no error")")
    }

    @Test func aBadFlagIsNamedEvenWithAGoodVariable() {
        var flags = ServeSettings.Flags()
        flags.deletionInterval = 0
        let error = #expect(throws: ServeSettings.Invalid.self) {
            _ = try ServeSettings(flags: flags, environment: ["SWIFTKMS_DELETION_INTERVAL": "60"])
        }
        #expect(error?.description.contains("--deletion-interval") == true)
        flags = ServeSettings.Flags()
        flags.port = 70_000
        let port = #expect(throws: ServeSettings.Invalid.self) { _ = try ServeSettings(flags: flags, environment: [:]) }
        #expect(port?.description.contains("--port") == true)
    }
}
