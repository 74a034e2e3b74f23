import Logging
import ServiceLifecycle

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

    public init(
        name: String, interval: Duration, logger: Logger, atShutdown: (@Sendable () async throws -> Void)? = nil,
        work: @escaping @Sendable () async throws -> Void
    ) {
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
