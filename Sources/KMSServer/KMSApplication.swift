import Foundation
import Hummingbird
import KMSProtocol
import KMSService
import Logging
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

    public init(host: String = "127.0.0.1", port: Int = 9600, deletionInterval: Duration = .seconds(60), checkpointInterval: Duration = .seconds(60),
                rotationInterval: Duration = .seconds(60)) {
        self.host = host
        self.port = port
        self.deletionInterval = deletionInterval
        self.checkpointInterval = checkpointInterval
        self.rotationInterval = rotationInterval
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
    let endpoint = KMSEndpoint(api: KMSAPI(service: service), credentials: credentials, clock: clock)
    router.post("/") { request, context in await endpoint.handle(request, context: context) }
    router.get("/health") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "SwiftKMS"),
        services: [PeriodicJob(name: "key deletion", interval: configuration.deletionInterval, logger: logger) {
                       try await service.deleteKeysDueForDeletion()
                   },
                   PeriodicJob(name: "imported key material expiry", interval: configuration.deletionInterval, logger: logger) {
                       try await service.expireImportedKeyMaterial()
                   },
                   PeriodicJob(name: "key rotation", interval: configuration.rotationInterval, logger: logger) {
                       try await service.rotateKeysDueForRotation()
                   },
                   PeriodicJob(name: "audit checkpoint", interval: configuration.checkpointInterval, finally: true, logger: logger) { try await ledger.checkpoint() }]
            + jobs,
        logger: logger)
}

/// Runs `work` at start and then every `interval` until graceful shutdown, and, with
/// `finally`, once more then (so that a stopped server leaves its last audit events under a
/// signed checkpoint). A failure is logged; the next run comes as scheduled.
public struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let finally: Bool
    let logger: Logger
    let work: @Sendable () async throws -> Void

    public init(name: String, interval: Duration, finally: Bool = false, logger: Logger, work: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.finally = finally
        self.logger = logger
        self.work = work
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await once()
                try? await Task.sleep(for: interval)
            }
        }
        if finally { await once() }
    }

    private func once() async {
        do {
            try await work()
        } catch {
            logger.error("\(name) job failed", metadata: ["error": "\(error)"])
        }
    }
}
