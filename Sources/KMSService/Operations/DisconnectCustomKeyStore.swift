import Foundation
import KMSStorage

extension KeyManagementService {
    /// Disconnects a custom key store: its keys become `Unavailable` everywhere at once (every
    /// node reads the state before using a key), and this process closes its sessions to the
    /// token. Other nodes' idle sessions stay open until the store's password or cluster
    /// changes. The store goes straight to DISCONNECTED: nothing in flight needs to drain first.
    public func disconnectCustomKeyStore(id: String, _ context: RequestContext) async throws(KMSError) {
        try await authorizeAccountAction(context, AccessRequest(.disconnectCustomKeyStore))
        try await store.commitRetrying(recording: context) { () throws(KMSError) -> ServiceStore.Change<Void> in
            let current = try await customKeyStore(id: id, context)
            _ = try CustomKeyStoreLifecycle.check(.disconnect, in: current.connectionState, store: id)
            var updated = current
            updated.connectionState = .disconnected
            updated.connectionErrorCode = nil
            return ServiceStore.Change([.updateCustomKeyStore(updated)], ())
        }
        hsm.close(storeID: id)
    }
}
