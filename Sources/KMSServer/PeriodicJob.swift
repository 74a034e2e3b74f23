import Foundation
import KMSStorage
import Logging
import ServiceLifecycle

/// Runs `work` at start and then every `interval` until graceful shutdown, and then
/// `atShutdown` once (the audit checkpoint job signs the trail's last events that way, so that
/// a stopped server leaves them under a signed checkpoint). A failure is logged; the next run
/// comes as scheduled. A run that shutdown interrupted is neither logged nor counted. Each run is counted in `swiftkms_job_runs_total{job,outcome}` and
/// timed in `swiftkms_job_duration_seconds{job}`, and told to `readiness`.
public struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void
    let atShutdown: (@Sendable () async throws -> Void)?
    let readiness: Readiness?

    public init(
        name: String, interval: Duration, logger: Logger, readiness: Readiness? = nil, atShutdown: (@Sendable () async throws -> Void)? = nil,
        work: @escaping @Sendable () async throws -> Void
    ) {
        self.name = name
        self.readiness = readiness
        readiness?.expect(job: name)
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
        let start = ContinuousClock.now
        var succeeded = true
        do {
            try await job()
        } catch {
            if Task.isCancelled { return }
            succeeded = false
            logger.error("\(name) job failed", metadata: ["error": "\(error)"])
        }
        ServerMetrics.jobRan(name.replacingOccurrences(of: " ", with: "_"), succeeded: succeeded, since: start)
        readiness?.jobRan(name, succeeded: succeeded)
    }
}
