import Foundation

/// The source of "now" for everything time-dependent (deletion windows, SigV4 skew),
/// injectable so that tests move time instead of waiting.
public protocol KMSClock: Sendable {
    func now() -> Date
}

public struct SystemClock: KMSClock {
    public init() {}
    public func now() -> Date { Date() }
}
