import Foundation
import KMSStorage

extension KeyManagementService {
    /// Starts connecting a custom key store and answers at once, as AWS does: the store is
    /// CONNECTING until the background attempt leaves it CONNECTED, or FAILED with a
    /// `ConnectionErrorCode` (`finishConnecting`). A store CONNECTED or CONNECTING already is
    /// left as it is; one DISCONNECTING or FAILED must be disconnected first.
    public func connectCustomKeyStore(id: String, _ context: RequestContext) async throws(KMSError) {
        try await authorizeAccountAction(context, AccessRequest(.connectCustomKeyStore))
        let connecting = try await store.commitRetrying(recording: context) { () throws(KMSError) -> ServiceStore.Change<CustomKeyStore?> in
            let current = try await customKeyStore(id: id, context)
            guard let next = try CustomKeyStoreLifecycle.check(.connect, in: current.connectionState, store: id) else {
                return ServiceStore.Change([], nil)
            }
            var updated = current
            updated.connectionState = next
            updated.connectionErrorCode = nil
            var stored = updated
            stored.revision += 1
            return ServiceStore.Change([.updateCustomKeyStore(updated)], stored)
        }
        guard let connecting else { return }
        let requestID = context.requestID
        Task {
            switch connecting.type {
            case .cloudHSM: await self.finishConnecting(connecting)
            case .external: await self.finishConnectingExternal(connecting, requestID: requestID)
            }
        }
    }
}
