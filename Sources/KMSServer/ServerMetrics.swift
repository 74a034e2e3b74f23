import Foundation
import KMSService
import KMSStorage
import Metrics

/// What the HTTP layer and the jobs report through swift-metrics, exported by `swiftkms serve`
/// on its metrics listener (`MetricsEndpoint`). Label values come from closed sets (operation
/// names of the model, error codes, job names, key states and specs): never a key ID, an ARN
/// or anything a client chooses.
enum ServerMetrics {
    static let requestsInFlight = Meter(label: "swiftkms_requests_in_flight")

    /// One answered API request: its count by operation and code, its latency, and the
    /// authentication-failure and throttling counters it belongs to.
    static func answered(operation: String, errorCode: String?, authenticated: Bool, since start: ContinuousClock.Instant) {
        Counter(label: "swiftkms_requests_total", dimensions: [("operation", operation), ("code", errorCode ?? "OK")]).increment()
        Timer(label: "swiftkms_request_duration_seconds", dimensions: [("operation", operation)]).recordInterval(since: start)
        if !authenticated, let errorCode {
            Counter(label: "swiftkms_authentication_failures_total", dimensions: [("code", errorCode)]).increment()
        }
        if errorCode == "ThrottlingException" {
            Counter(label: "swiftkms_throttled_requests_total", dimensions: [("operation", operation)]).increment()
        }
    }

    /// One run of a periodic job.
    static func jobRan(_ job: String, succeeded: Bool, since start: ContinuousClock.Instant) {
        Counter(label: "swiftkms_job_runs_total", dimensions: [("job", job), ("outcome", succeeded ? "success" : "failure")]).increment()
        Timer(label: "swiftkms_job_duration_seconds", dimensions: [("job", job)]).recordInterval(since: start)
    }

    /// Sets `swiftkms_keys{state,spec}` to a census; a pair counted before and absent now goes
    /// to 0 rather than keeping its last value.
    static func recordKeys(_ census: [KeyCensusEntry], previously: Set<KeyCensusEntry.Group>) -> Set<KeyCensusEntry.Group> {
        var seen = Set<KeyCensusEntry.Group>()
        for entry in census {
            seen.insert(entry.group)
            gauge(entry.group).record(entry.count)
        }
        for group in previously.subtracting(seen) { gauge(group).record(0) }
        return seen
    }

    private static func gauge(_ group: KeyCensusEntry.Group) -> Gauge {
        Gauge(label: "swiftkms_keys", dimensions: [("state", group.state), ("spec", group.spec)])
    }

    /// `swiftkms_build_info{version}` (1) and `swiftkms_process_start_time_seconds`.
    static func recordStart(version: String) {
        Gauge(label: "swiftkms_build_info", dimensions: [("version", version)]).record(1)
        Gauge(label: "swiftkms_process_start_time_seconds").record(Date().timeIntervalSince1970)
    }
}
