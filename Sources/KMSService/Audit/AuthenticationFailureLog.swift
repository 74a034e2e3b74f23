import Foundation
import Synchronization

/// Decides which requests refused at authentication get an audit event of their own, so that
/// anonymous clients cost the audit trail a bounded amount whatever they send.
///
/// In each window (a minute), a source address gets at most `perSource` events and all sources
/// together at most `total`; every refusal beyond that is only counted, by source address (at
/// most `trackedSources` of them, the rest counted together), and the counts are recorded as
/// one `AuthenticationFailureSummary` event when the window has passed. An attacker therefore
/// adds at most `total + 1` events a minute, each of bounded size: the events of refused
/// requests never hold the body, and their free-text fields are cut short.
public final class AuthenticationFailureLog: Sendable {
    public struct Limits: Sendable {
        public var window: TimeInterval = 60
        public var perSource = 10
        public var total = 100
        public var trackedSources = 1_000

        public init() {}
    }

    /// The refusals that were counted but not recorded one by one in a window.
    public struct Summary: Sendable {
        public var windowStart: Date
        public var windowEnd: Date
        /// Suppressed refusals by source address, most first (`other` past `trackedSources`).
        public var bySource: [(source: String, count: Int)]
        public var total: Int
    }

    private struct Window {
        var start: Date
        var recorded = 0
        var recordedBySource: [String: Int] = [:]
        var suppressed: [String: Int] = [:]
        var suppressedTotal = 0
    }

    let limits: Limits
    private let window: Mutex<Window>

    public init(limits: Limits = Limits(), now: Date = Date()) {
        self.limits = limits
        window = Mutex(Window(start: now))
    }

    /// Whether the refusal of a request from `source` gets an event of its own, and the
    /// summary of the window that ended before it, if one is due.
    public func admit(source: String?, now: Date) -> (record: Bool, summary: Summary?) {
        let source = source ?? "unknown"
        return window.withLock { window in
            let summary = Self.roll(&window, now: now, limits: limits)
            let fromSource = window.recordedBySource[source, default: 0]
            if window.recorded < limits.total, fromSource < limits.perSource, window.recordedBySource.count < limits.trackedSources || fromSource > 0
            {
                window.recorded += 1
                window.recordedBySource[source] = fromSource + 1
                return (true, summary)
            }
            let key = window.suppressed[source] != nil || window.suppressed.count < limits.trackedSources ? source : "other"
            window.suppressed[key, default: 0] += 1
            window.suppressedTotal += 1
            return (false, summary)
        }
    }

    /// The summary of the window that ended before `now`, if it suppressed anything and is
    /// not summarized yet (for a periodic flush when refusals stop); with `endingWindow`, the
    /// current window is ended now (at shutdown).
    public func flush(now: Date, endingWindow: Bool = false) -> Summary? {
        window.withLock { Self.roll(&$0, now: now, limits: limits, force: endingWindow) }
    }

    private static func roll(_ window: inout Window, now: Date, limits: Limits, force: Bool = false) -> Summary? {
        guard force || now.timeIntervalSince(window.start) >= limits.window else { return nil }
        let ended = window
        window = Window(start: now)
        guard ended.suppressedTotal > 0 else { return nil }
        let bySource = ended.suppressed.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value > $1.value }.prefix(100).map { ($0.key, $0.value) }
        return Summary(windowStart: ended.start, windowEnd: now, bySource: bySource, total: ended.suppressedTotal)
    }
}

extension AuditEvent {
    /// The event that counts the refusals at authentication of one window that had no event
    /// of their own (`AuthenticationFailureLog`), by source address.
    static func authenticationFailureSummary(_ summary: AuthenticationFailureLog.Summary, chain: String) -> AuditEvent {
        var record = CloudTrailRecord(
            eventType: .serviceEvent, userIdentity: .object(["type": .string("Unknown")]), eventTime: summary.windowEnd,
            eventName: "AuthenticationFailureSummary", readOnly: true)
        record.serviceEventDetails = [
            "windowStart": .string(AuditTime.iso8601(summary.windowStart)),
            "windowEnd": .string(AuditTime.iso8601(summary.windowEnd)),
            "suppressedRefusals": .number(Double(summary.total)),
            "bySourceIPAddress": .array(
                summary.bySource.map { .object(["sourceIPAddress": .string($0.source), "count": .number(Double($0.count))]) }),
        ]
        return AuditEvent(chain: chain, record)
    }
}

extension AuditTrail {
    /// The summary event of `summary`, in this trail's chain.
    public func authenticationFailureSummary(_ summary: AuthenticationFailureLog.Summary) -> AuditEvent {
        .authenticationFailureSummary(summary, chain: chain)
    }
}
