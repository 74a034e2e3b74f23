import Foundation
import Hummingbird
import KMSProtocol
import KMSService
import Logging
import NIOCore
import ServiceLifecycle

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

/// The routes: `POST /` for the KMS API and `GET /health` for load balancers (503 while
/// `storeAvailable` says the database is unreachable), every response carrying its
/// `x-amzn-RequestId`. Tests drive it without a socket (HummingbirdTesting's `.router`).
public func buildRouter(
    api: KMSAPI, credentials: Credentials, clock: any KMSClock = SystemClock(), bodyTimeout: Duration,
    storeAvailable: @escaping @Sendable () -> Bool = { true }
) -> Router<KMSRequestContext> {
    let router = Router(context: KMSRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    let endpoint = KMSEndpoint(api: api, credentials: credentials, clock: clock, bodyTimeout: bodyTimeout)
    router.post("/") { request, context in await endpoint.handle(request, context: context) }
    router.get("/health") { _, _ in
        let available = storeAvailable()
        return Response(
            status: available ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: available ? #"{"status":"ok"}"# : #"{"status":"database unavailable"}"#)))
    }
    return router
}

/// Builds the HTTP application on `buildRouter`'s routes, with as services that stop with the
/// server: the key deletion, imported material expiry, key rotation, authentication failure
/// summary and audit checkpoint jobs, and `jobs`.
public func buildApplication(
    configuration: ServerConfiguration, service: KeyManagementService, credentials: Credentials, ledger: AuditLedger,
    jobs: [any Service] = [], clock: any KMSClock = SystemClock(), storeAvailable: @escaping @Sendable () -> Bool = { true }, logger: Logger
) -> some ApplicationProtocol {
    let api = KMSAPI(service: service)
    let router = buildRouter(
        api: api, credentials: credentials, clock: clock, bodyTimeout: configuration.bodyTimeout, storeAvailable: storeAvailable)
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "SwiftKMS",
            availableConnectionsDelegate: .maximum(configuration.maximumConnections, logger: logger)),
        services: [
            PeriodicJob(name: "key deletion", interval: configuration.deletionInterval, logger: logger) {
                try await service.deleteKeysDueForDeletion()
            },
            PeriodicJob(name: "imported key material expiry", interval: configuration.deletionInterval, logger: logger) {
                try await service.expireImportedKeyMaterial()
            },
            PeriodicJob(name: "key rotation", interval: configuration.rotationInterval, logger: logger) {
                try await service.rotateKeysDueForRotation()
            },
            PeriodicJob(name: "authentication failure summary", interval: .seconds(60), logger: logger) {
                try await api.flushAuthenticationFailures()
            },
            PeriodicJob(
                name: "audit checkpoint", interval: configuration.checkpointInterval, logger: logger,
                atShutdown: {
                    // The refusals counted but not yet summarized go under the last checkpoint too.
                    try await api.flushAuthenticationFailures(endingWindow: true)
                    try await ledger.checkpoint()
                }
            ) { try await ledger.checkpoint() },
        ]
            + jobs,
        logger: logger)
}
