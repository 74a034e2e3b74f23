import Foundation
import KMSStorage

extension KeyManagementService {
    /// Deletes a DISCONNECTED custom key store that holds no keys (schedule their deletion and
    /// wait for it first: `CustomKeyStoreHasCMKsException`). The token and its objects stay.
    public func deleteCustomKeyStore(id: String, _ context: RequestContext) async throws(KMSError) {
        try await authorizeAccountAction(context, AccessRequest(.deleteCustomKeyStore))
        try await store.commitRetrying(recording: context) { () throws(KMSError) -> ServiceStore.Change<Void> in
            let current = try await customKeyStore(id: id, context)
            _ = try CustomKeyStoreLifecycle.check(.delete, in: current.connectionState, store: id)
            let keys = try await store.keyCount(customKeyStoreID: id)
            guard keys == 0 else {
                throw KMSError(
                    .customKeyStoreHasCMKs,
                    "Custom key store \(id) still holds \(keys) KMS keys; schedule their deletion and wait until they are deleted.")
            }
            return ServiceStore.Change([.deleteCustomKeyStore(id: id, revision: current.revision)], ())
        }
        hsm.close(storeID: id)
    }
}
