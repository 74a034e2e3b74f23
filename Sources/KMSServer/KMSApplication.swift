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

    public init(host: String = "127.0.0.1", port: Int = 9600, deletionInterval: Duration = .seconds(60), checkpointInterval: Duration = .seconds(60),
                rotationInterval: Duration = .seconds(60), idleTimeout: Duration = .seconds(60), bodyTimeout: Duration = .seconds(20),
                maximumConnections: Int = 1_024) {
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

/// Builds the HTTP application: `POST /` for the KMS API, `GET /health` for load
/// balancers, and as services that stop with the server: the key deletion, imported material
/// expiry, key rotation and audit checkpoint jobs, and `jobs`.
public func buildApplication(
    configuration: ServerConfiguration, service: KeyManagementService, credentials: Credentials, ledger: AuditLedger,
    jobs: [any Service] = [], clock: any KMSClock = SystemClock(), logger: Logger
) -> some ApplicationProtocol {
    let router = Router(context: KMSRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    let api = KMSAPI(service: service)
    let endpoint = KMSEndpoint(api: api, credentials: credentials, clock: clock, bodyTimeout: configuration.bodyTimeout)
    router.post("/") { request, context in await endpoint.handle(request, context: context) }
    router.get("/health") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "SwiftKMS",
                             availableConnectionsDelegate: .maximum(configuration.maximumConnections, logger: logger)),
        services: [PeriodicJob(name: "key deletion", interval: configuration.deletionInterval, logger: logger) {
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
                   PeriodicJob(name: "audit checkpoint", interval: configuration.checkpointInterval, logger: logger, atShutdown: {
                       // The refusals counted but not yet summarized go under the last checkpoint too.
                       try await api.flushAuthenticationFailures(endingWindow: true)
                       try await ledger.checkpoint()
                   }) { try await ledger.checkpoint() }]
            + jobs,
        logger: logger)
}

/// Runs `work` at start and then every `interval` until graceful shutdown, and then
/// `atShutdown` once (the audit checkpoint job signs the trail's last events that way, so that
/// a stopped server leaves them under a signed checkpoint). A failure is logged; the next run
/// comes as scheduled.
public struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void
    let atShutdown: (@Sendable () async throws -> Void)?

    public init(name: String, interval: Duration, logger: Logger, atShutdown: (@Sendable () async throws -> Void)? = nil,
                work: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.atShutdown = atShutdown
        self.work = work
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await once(work)
                try? await Task.sleep(for: interval)
            }
        }
        if let atShutdown { await once(atShutdown) }
    }

    private func once(_ job: @Sendable () async throws -> Void) async {
        do {
            try await job()
        } catch {
            logger.error("\(name) job failed", metadata: ["error": "\(error)"])
        }
    }
}
