import Foundation
import Logging

/// Collects what a logger writes at `error` or above, for tests that a path logs nothing (or
/// something). Every field behind one lock: loggers on several tasks share the handler.
public final class LogRecords: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []
    private var level: Logger.Level = .trace
    private var fields: Logger.Metadata = [:]

    public init() {}

    public var logLevel: Logger.Level {
        get { lock.withLock { level } }
        set { lock.withLock { level = newValue } }
    }

    public var metadata: Logger.Metadata {
        get { lock.withLock { fields } }
        set { lock.withLock { fields = newValue } }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { lock.withLock { fields[key] } }
        set { lock.withLock { fields[key] = newValue } }
    }

    /// The messages logged at `error` or above, in order.
    public var errors: [String] { lock.withLock { collected } }

    public func log(event: LogEvent) {
        guard event.level >= .error else { return }
        lock.withLock { collected.append("\(event.message)") }
    }
}
