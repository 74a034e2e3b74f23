import Foundation
import ServiceLifecycle
import Synchronization

/// What `GET /ready` answers: whether this process should be sent requests. Ready once every
/// periodic job has run once, while the database is reachable (`storeAvailable`), and until
/// graceful shutdown begins (so that a load balancer stops sending before the listener
/// closes). A job whose last run failed is named in the answer and counted in the metrics,
/// but does not make the process unready: its failure is the database's (then unready
/// anyway) or its own (an alert, not a reason to stop serving keys).
public final class Readiness: Sendable {
    private struct State {
        /// Each job's last outcome; nil until its first run ends.
        var jobs: [String: Bool?] = [:]
        var draining = false
    }
    private let state = Mutex(State())

    public init() {}

    func expect(job name: String) {
        state.withLock { _ = $0.jobs.updateValue(nil, forKey: name) }
    }

    func jobRan(_ name: String, succeeded: Bool) {
        state.withLock { $0.jobs[name] = succeeded }
    }

    /// The answer: ready or not, and each check's state.
    func report(databaseAvailable: Bool) -> (ready: Bool, checks: [String: String]) {
        state.withLock { state in
            var checks = ["database": databaseAvailable ? "ok" : "unavailable", "rootKey": "loaded"]
            var jobsStarted = true
            for (name, outcome) in state.jobs {
                switch outcome {
                case nil:
                    checks["job: \(name)"] = "starting"
                    jobsStarted = false
                case true?: checks["job: \(name)"] = "ok"
                case false?: checks["job: \(name)"] = "failing"
                }
            }
            if state.draining { checks["shutdown"] = "draining" }
            return (databaseAvailable && jobsStarted && !state.draining, checks)
        }
    }

    /// A service that marks the process draining when graceful shutdown begins: run it in
    /// the service group after the application, which shuts it down first.
    public struct DrainOnShutdown: Service {
        let readiness: Readiness
        public init(readiness: Readiness) { self.readiness = readiness }
        public func run() async throws {
            try? await gracefulShutdown()
            readiness.state.withLock { $0.draining = true }
        }
    }
}
