import Foundation
import KMSStorage
import Logging

/// Appends the events of requests that changed nothing (reads, cryptographic operations,
/// refusals) by group commit: an event waits for the transaction in progress to end, then
/// goes with every other event that arrived meanwhile in one transaction, so that many
/// requests share one sync. `record` returns once its event is durable.
///
/// Events of requests that changed something don't come here: they are committed with the
/// change (`KeyManagementService.commit(_:_:)`).
public actor AuditTrail {
    /// The chain this process appends to (`serve --audit-chain`).
    public nonisolated let chain: String
    private let store: any Store
    private let logger: Logger
    private var pending: [(event: AuditEvent, done: CheckedContinuation<Bool, Never>)] = []
    private var flushing = false
    /// Events per transaction at most, so that one transaction stays short.
    private static let batchLimit = 512

    public init(store: any Store, chain: String, logger: Logger) {
        self.store = store
        self.chain = chain
        self.logger = logger
    }

    /// Appends `event` and returns once it is durable; `KMSInternalException` when the store failed.
    public func record(_ event: AuditEvent) async throws(KMSError) {
        let durable = await withCheckedContinuation { continuation in
            pending.append((event, continuation))
            if !flushing {
                flushing = true
                Task { await flush() }
            }
        }
        guard durable else { throw KMSError.internalFailure() }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(Self.batchLimit))
            pending.removeFirst(batch.count)
            var durable = true
            do {
                try await store.commit(batch.map { .appendAuditEvent($0.event) })
            } catch {
                logger.error("audit events could not be stored", metadata: ["error": "\(error)", "count": "\(batch.count)"])
                durable = false
            }
            for item in batch { item.done.resume(returning: durable) }
        }
        flushing = false
    }
}
