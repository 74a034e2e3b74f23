import Foundation
import Testing

@testable import KMSService

/// Which refusals at authentication get an event of their own: at most `perSource` per source
/// and `total` in all per window; the rest are counted by source and summarized once.
@Suite struct AuthenticationFailureLogTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func boundsEventsPerSourceAndInAll() {
        var limits = AuthenticationFailureLog.Limits()
        limits.perSource = 2
        limits.total = 3
        limits.trackedSources = 2
        let log = AuthenticationFailureLog(limits: limits, now: Self.start)
        let sources = ["a", "a", "a", "b", "b", "c", "d", "e"]
        let recorded = sources.map { log.admit(source: $0, now: Self.start + 1).record }
        #expect(recorded == [true, true, false, true, false, false, false, false])
        // Nothing is summarized before the window ends; then once, with counts by source.
        #expect(log.flush(now: Self.start + 30) == nil)
        let summary = log.admit(source: "a", now: Self.start + 61).summary
        #expect(summary?.total == 5)
        // Past two sources, the rest are counted together as "other".
        #expect(summary?.bySource.map(\.source) == ["other", "a", "b"])
        #expect(summary?.bySource.map(\.count) == [3, 1, 1])
        // The new window starts afresh.
        #expect(log.admit(source: "a", now: Self.start + 62).record)
        #expect(log.flush(now: Self.start + 62, endingWindow: true) == nil, "nothing suppressed in it")
    }

    @Test func aWindowCanBeEndedAtShutdown() {
        var limits = AuthenticationFailureLog.Limits()
        limits.perSource = 1
        let log = AuthenticationFailureLog(limits: limits, now: Self.start)
        for _ in 0..<5 { _ = log.admit(source: "10.0.0.1", now: Self.start) }
        let summary = log.flush(now: Self.start + 1, endingWindow: true)
        #expect(summary?.total == 4 && summary?.bySource.first?.source == "10.0.0.1")
        #expect(log.flush(now: Self.start + 2, endingWindow: true) == nil)
    }
}
