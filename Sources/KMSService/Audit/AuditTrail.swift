import Foundation
import KMSStorage
import Logging

/// Appends the events of requests that changed nothing (reads, cryptographic operations,
/// refusals). `record` returns once its event is durable; the store's group commit makes the
/// events of concurrent requests share one transaction and one sync.
///
/// Events of requests that changed something don't come here: they are committed with the
/// change (`ServiceStore.commit(_:recording:)`).
public struct AuditTrail: Sendable {
    /// The chain this process appends to (`serve --audit-chain`).
    public let chain: String
    private let store: any Store
    private let logger: Logger

    public init(store: any Store, chain: String, logger: Logger) {
        self.store = store
        self.chain = chain
        self.logger = logger
    }

    /// Appends `event` and returns once it is durable; `KMSInternalException` when the store failed.
    public func record(_ event: AuditEvent) async throws(KMSError) {
        do {
            try await store.commit([.appendAuditEvent(event)])
        } catch {
            logger.error("audit event could not be stored", metadata: ["error": "\(error)"])
            throw KMSError.internalFailure()
        }
    }
}
