import Foundation
import KMSHSM
import KMSStorage

extension KeyManagementService {
    /// `numberOfBytes` (1–1024) random bytes from the system CSPRNG, or from the HSM token of
    /// a connected CloudHSM key store.
    public func generateRandom(numberOfBytes: Int?, customKeyStoreID: String?, _ context: RequestContext) async throws(KMSError) -> Data {
        try await authorizeAccountAction(context, AccessRequest(.generateRandom))
        guard let numberOfBytes else { throw KMSError.validation("NumberOfBytes is required.") }
        guard let customKeyStoreID else { return Data(SecureRandom.bytes(numberOfBytes)) }
        let keyStore = try await customKeyStore(id: customKeyStoreID, context)
        guard keyStore.type == .cloudHSM else {
            throw KMSError(.unsupportedOperation, "GenerateRandom is not supported for custom key stores of type EXTERNAL_KEY_STORE.")
        }
        _ = try CustomKeyStoreLifecycle.check(.generateRandom, in: keyStore.connectionState, store: keyStore.id)
        return Data(
            try await withToken(of: keyStore, refused: { _ in KMSError.internalFailure() }) { _, session throws(PKCS11Error) in
                try session.generateRandom(count: numberOfBytes)
            })
    }
}
