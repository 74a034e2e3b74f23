import Foundation
import Hummingbird
import HummingbirdCore
import KMSProtocol
import KMSService
import KMSStorage
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Where and how the server listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// How often the background job looks for keys whose deletion window has ended.
    public var deletionInterval: Duration
    /// How often the audit trail's position is signed (when it moved).
    public var checkpointInterval: Duration
    /// How often the background job looks for keys whose automatic rotation is due.
    public var rotationInterval: Duration
    /// How long a connection may go without a complete request part (an idle keep-alive
    /// connection, or a client trickling its headers) before it is closed.
    public var idleTimeout: Duration
    /// How long a request's body may take to arrive once its headers have; past it the
    /// connection is closed.
    public var bodyTimeout: Duration
    /// Connections open at once; past it, new connections wait in the listen backlog.
    public var maximumConnections: Int
    /// The certificate and key of the TLS listener; nil serves plain HTTP.
    public var tls: TLSCredentials?
    /// Where `GET /metrics` (Prometheus) is served, on a listener of its own; nil serves none.
    public var metricsAddress: (host: String, port: Int)?
    /// How long graceful shutdown waits for requests in flight before cutting them.
    public var shutdownTimeout = Duration.seconds(30)
    /// How often `swiftkms_keys{state,spec}` is counted again.
    public var keyCensusInterval = Duration.seconds(30)
    /// Whether `/console/` serves the web console (`Console`).
    public var console = true

    public init(
        host: String = "127.0.0.1", port: Int = 9600, deletionInterval: Duration = .seconds(60), checkpointInterval: Duration = .seconds(60),
        rotationInterval: Duration = .seconds(60), idleTimeout: Duration = .seconds(60), bodyTimeout: Duration = .seconds(20),
        maximumConnections: Int = 1_024
    ) {
        self.host = host
        self.port = port
        self.deletionInterval = deletionInterval
        self.checkpointInterval = checkpointInterval
        self.rotationInterval = rotationInterval
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.maximumConnections = maximumConnections
    }
}

/// The routes: `POST /` for the KMS API, `GET /console/` (the web console's files, unless
/// `console` is false), `GET /health` (liveness: 503 while `storeAvailable`
/// says the database is unreachable) and `GET /ready` (readiness, `Readiness`: 503 until the
/// jobs have started, while the database is unreachable and once shutdown begins), every
/// response carrying its `x-amzn-RequestId`. Both probes answer from memory. Tests drive it
/// without a socket (HummingbirdTesting's `.router`).
public func buildRouter(
    api: KMSAPI, credentials: Credentials, clock: any KMSClock = SystemClock(), bodyTimeout: Duration, secureTransport: Bool = false,
    readiness: Readiness = Readiness(), storeAvailable: @escaping @Sendable () -> Bool = { true }, console: Bool = true
) -> Router<KMSRequestContext> {
    let router = Router(context: KMSRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    let endpoint = KMSEndpoint(api: api, credentials: credentials, clock: clock, bodyTimeout: bodyTimeout, secureTransport: secureTransport)
    router.post("/") { request, context in await endpoint.handle(request, context: context) }
    if console { Console.addRoutes(to: router) }
    router.get("/health") { _, _ in
        let available = storeAvailable()
        return Response(
            status: available ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: available ? #"{"status":"ok"}"# : #"{"status":"database unavailable"}"#)))
    }
    router.get("/ready") { _, _ in
        let report = readiness.report(databaseAvailable: storeAvailable())
        let body = try JSONSerialization.data(
            withJSONObject: ["status": report.ready ? "ready" : "not ready", "checks": report.checks], options: [.sortedKeys])
        return Response(
            status: report.ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
    return router
}

/// Builds the HTTP application on `buildRouter`'s routes, over TLS when `configuration.tls` is
/// set, with as services that stop with the server: the key deletion, imported material
/// expiry, key rotation, authentication failure summary and audit checkpoint jobs, the key
/// census with a metrics listener, and `jobs`.
public func buildApplication(
    configuration: ServerConfiguration, service: KeyManagementService, credentials: Credentials, ledger: AuditLedger,
    jobs: [any Service] = [], readiness: Readiness = Readiness(), clock: any KMSClock = SystemClock(),
    storeAvailable: @escaping @Sendable () -> Bool = { true }, logger: Logger
) -> some ApplicationProtocol {
    let api = KMSAPI(service: service)
    let router = buildRouter(
        api: api, credentials: credentials, clock: clock, bodyTimeout: configuration.bodyTimeout, secureTransport: configuration.tls != nil,
        readiness: readiness, storeAvailable: storeAvailable, console: configuration.console)
    let http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount(configuration.idleTimeout))
    let server: HTTPServerBuilder
    if let tls = configuration.tls {
        server = .reloadableTLS(tls, configuration: http1)
    } else {
        server = .http1(configuration: http1)
    }
    let censusGroups = Mutex(Set<KeyCensusEntry.Group>())
    return Application(
        router: router,
        server: server,
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "SwiftKMS",
            availableConnectionsDelegate: .maximum(configuration.maximumConnections, logger: logger)),
        services: [
            PeriodicJob(name: "key deletion", interval: configuration.deletionInterval, logger: logger, readiness: readiness) {
                try await service.deleteKeysDueForDeletion()
            },
            PeriodicJob(name: "imported key material expiry", interval: configuration.deletionInterval, logger: logger, readiness: readiness) {
                try await service.expireImportedKeyMaterial()
            },
            PeriodicJob(name: "key rotation", interval: configuration.rotationInterval, logger: logger, readiness: readiness) {
                try await service.rotateKeysDueForRotation()
            },
            PeriodicJob(name: "authentication failure summary", interval: .seconds(60), logger: logger, readiness: readiness) {
                try await api.flushAuthenticationFailures()
            },
            PeriodicJob(
                name: "audit checkpoint", interval: configuration.checkpointInterval, logger: logger, readiness: readiness,
                atShutdown: {
                    // The refusals counted but not yet summarized go under the last checkpoint too.
                    try await api.flushAuthenticationFailures(endingWindow: true)
                    try await ledger.checkpoint()
                }
            ) { try await ledger.checkpoint() },
        ]
            // The census feeds `swiftkms_keys` only: without a metrics listener it would count for no one.
            + (configuration.metricsAddress == nil
                ? []
                : [
                    PeriodicJob(name: "key census", interval: configuration.keyCensusInterval, logger: logger, readiness: readiness) {
                        let census = try await service.keyCensus()
                        censusGroups.withLock { $0 = ServerMetrics.recordKeys(census, previously: $0) }
                    }
                ])
            + jobs + (configuration.tls.map { tls in [ReloadOnHangup("TLS certificate and key", logger: logger) { try tls.reload() }] } ?? []),
        logger: logger)
}
