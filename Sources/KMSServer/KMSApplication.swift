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
/// balancers, and as services that stop with the server: the key deletion, key rotation and
/// audit checkpoint jobs, and `jobs`.
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
        services: [KeyDeletionJob(service: service, interval: configuration.deletionInterval, logger: logger),
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

/// Runs `work` every `interval` until graceful shutdown, and, with `finally`, once more then
/// (so that a stopped server leaves its last audit events under a signed checkpoint).
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
                try? await Task.sleep(for: interval)
                await once()
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

/// Deletes keys whose deletion window has ended, every `interval`, until graceful shutdown.
struct KeyDeletionJob: Service {
    let service: KeyManagementService
    let interval: Duration
    let logger: Logger

    /// Returns (without error) when cancelled: cancellation is how a graceful shutdown ends it.
    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await service.deleteKeysDueForDeletion()
                } catch {
                    logger.error("key deletion job failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
