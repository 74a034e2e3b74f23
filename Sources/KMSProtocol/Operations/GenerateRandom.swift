import Foundation
import KMSService

extension OperationHandler {
    struct GenerateRandomRequest: Decodable {
        var numberOfBytes: Int?
        var customKeyStoreId: String?
        var recipient: IgnoredMember?
    }

    struct GenerateRandomResponse: Encodable {
        var plaintext: Data
    }

    static let generateRandom = OperationHandler { (r: GenerateRandomRequest, service, context) throws(KMSError) in
        try rejectRecipient(r.recipient)
        return GenerateRandomResponse(
            plaintext: try await service.generateRandom(numberOfBytes: r.numberOfBytes, customKeyStoreID: r.customKeyStoreId, context))
    }
}
