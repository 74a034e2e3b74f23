import Foundation
import KMSStorage
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The connection pool to the database host that accepts writes, among the URL's hosts.
///
/// With one host, the pool reconnects by itself when the database comes back. With several
/// (a primary and its standbys), `findPrimary` asks each in turn and moves the pool to the
/// first that is not in recovery: after a standby is promoted, the store follows it.
/// Transactions in flight on the old primary fail; nothing is retried behind the caller's back.
final class PostgresPrimary: Sendable {
    private struct Current {
        var client: PostgresClient
        /// Two connections of their own for the watchdog and the listener, so that a busy
        /// pool never delays them into reporting an outage.
        var control: PostgresClient
        var running: Task<Void, Never>
        var endpoint: Int
    }

    private let url: PostgresDatabaseURL
    private let maximumConnections: Int
    private let logger: Logger
    private let current: Mutex<Current?>

    /// The pool in use; a new one after a failover.
    var client: PostgresClient {
        get throws(StoreError) {
            guard let client = current.withLock({ $0?.client }) else { throw .unavailable }
            return client
        }
    }

    /// The watchdog's and listener's connections, to the same host as `client`.
    var control: PostgresClient {
        get throws(StoreError) {
            guard let client = current.withLock({ $0?.control }) else { throw .unavailable }
            return client
        }
    }

    init(url: PostgresDatabaseURL, maximumConnections: Int, logger: Logger) throws {
        self.url = url
        self.maximumConnections = maximumConnections
        self.logger = logger
        current = Mutex(nil)
    }

    /// Connects to the first host that accepts writes; false when none answered in time.
    func findPrimary() async -> Bool {
        let start = current.withLock { ($0?.endpoint ?? -1) + 1 }
        for offset in 0..<url.endpoints.count {
            let index = (start + offset) % url.endpoints.count
            guard let candidate = try? makeClient(url.endpoints[index], connections: maximumConnections),
                let control = try? makeClient(url.endpoints[index], connections: 2)
            else { continue }
            let running = Task {
                await withDiscardingTaskGroup { group in
                    group.addTask { await candidate.run() }
                    group.addTask { await control.run() }
                }
            }
            let writable = await withDeadline(.seconds(2)) {
                try await control.query("SELECT pg_is_in_recovery()", logger: self.logger).collect().first?.decode(Bool.self) == false
            }
            guard writable == true else {
                running.cancel()
                continue
            }
            let previous = current.withLock { current in
                defer { current = Current(client: candidate, control: control, running: running, endpoint: index) }
                return current
            }
            previous?.running.cancel()
            if previous != nil || url.endpoints.count > 1 {
                let endpoint = url.endpoints[index]
                logger.notice("using the database primary", metadata: ["host": "\(endpoint.host):\(endpoint.port)"])
            }
            return true
        }
        return false
    }

    /// Whether the pool in use is on the first host of several (the others being standbys).
    var hasStandbys: Bool { url.endpoints.count > 1 }

    func close() {
        current.withLock { $0?.running.cancel() }
    }

    private func makeClient(_ endpoint: PostgresDatabaseURL.Endpoint, connections: Int) throws -> PostgresClient {
        var configuration = PostgresClient.Configuration(
            host: endpoint.host, port: endpoint.port, username: url.username, password: url.password, database: url.database,
            tls: try tls())
        configuration.options.maximumConnections = connections
        configuration.options.connectTimeout = .seconds(2)
        // Idle pooled connections are checked every 10 s, so a dead one is found before a
        // request needs it.
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        // The pool's own messages (a connection attempt failed, asked before running) repeat
        // what the watchdog reports once; shown when debugging.
        var background = logger
        if background.logLevel > .debug { background.logLevel = .error }
        return PostgresClient(configuration: configuration, backgroundLogger: background)
    }

    private func tls() throws -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch url.tlsMode {
        case .disable:
            return .disable
        case .prefer, .require:
            tls.certificateVerification = .none
            return url.tlsMode == .prefer ? .prefer(tls) : .require(tls)
        case .verifyCA, .verifyFull:
            tls.certificateVerification = url.tlsMode == .verifyFull ? .fullVerification : .noHostnameVerification
            if let file = url.rootCertificateFile { tls.trustRoots = .file(file) }
            return .require(tls)
        }
    }
}

/// The body's result, or nil when it did not finish within `limit` (it is then left to finish
/// on its own: a query on a dead connection may ignore cancellation until the socket fails).
/// `abandon`, asked every 100 ms, ends the wait early.
func withDeadline<T: Sendable>(
    _ limit: Duration, abandon: @escaping @Sendable () -> Bool = { false }, _ body: @escaping @Sendable () async throws -> T
) async -> T? {
    let race = DeadlineRace<T>()
    return await withCheckedContinuation { continuation in
        race.state.withLock { $0.waiting = continuation }
        let work = Task {
            let value = try? await body()
            let (waiting, timer) = race.state.withLock { state in (state.waiting.take(), state.timer) }
            timer?.cancel()
            waiting?.resume(returning: value)
        }
        let timer = Task {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline, !abandon() {
                // Cancelled when the body finished.
                do { try await Task.sleep(for: min(.milliseconds(100), deadline - .now)) } catch { return }
            }
            guard let waiting = race.state.withLock({ $0.waiting.take() }) else { return }
            work.cancel()
            waiting.resume(returning: nil)
        }
        race.state.withLock { $0.timer = timer }
    }
}

/// The body's result; `DeadlineExceeded` when it did not finish within `limit` or `abandon` said so. Cancelling it
/// then withdraws a request still waiting for a pooled connection (the pool waits forever for
/// a database that is down).
func within<T: Sendable>(
    _ limit: Duration, abandon: @escaping @Sendable () -> Bool = { false }, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = await withDeadline(limit, abandon: abandon) { () async -> Result<T, any Error> in
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }
    guard let outcome else { throw DeadlineExceeded() }
    return try outcome.get()
}

struct DeadlineExceeded: Error {}

/// Who of `withDeadline`'s body and timer finishes first.
private final class DeadlineRace<T: Sendable>: Sendable {
    let state = Mutex<(waiting: CheckedContinuation<T?, Never>?, timer: Task<Void, Never>?)>((nil, nil))
}
