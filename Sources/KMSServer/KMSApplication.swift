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

    public init(host: String = "127.0.0.1", port: Int = 9600, deletionInterval: Duration = .seconds(60)) {
        self.host = host
        self.port = port
        self.deletionInterval = deletionInterval
    }
}

/// Builds the HTTP application: `POST /` for the KMS API, `GET /health` for load
/// balancers, and the key deletion job as a service that stops with the server.
public func buildApplication(
    configuration: ServerConfiguration, service: KeyManagementService, credentials: Credentials,
    clock: any KMSClock = SystemClock(), logger: Logger
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
        services: [KeyDeletionJob(service: service, interval: configuration.deletionInterval, logger: logger)],
        logger: logger)
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
