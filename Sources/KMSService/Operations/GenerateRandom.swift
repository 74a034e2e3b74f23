import Foundation
import KMSStorage

extension KeyManagementService {
    /// `numberOfBytes` (1–1024) random bytes from the system CSPRNG.
    public func generateRandom(numberOfBytes: Int?, customKeyStoreID: String?, _ context: RequestContext) async throws(KMSError) -> Data {
        try await authorizeAccountAction(context, AccessRequest(.generateRandom))
        guard let numberOfBytes else { throw KMSError.validation("Please specify the number of bytes.") }
        if customKeyStoreID != nil {
            throw KMSError(.unsupportedOperation, "Custom key stores are not supported by this server yet.")
        }
        return Data(SecureRandom.bytes(numberOfBytes))
    }
}
