import Foundation
import KMSService

extension OperationHandler {
    struct GenerateRandomRequest: Decodable {
        var numberOfBytes: Int?
        var customKeyStoreId: String?
        var recipient: RecipientInfo?
    }

    struct GenerateRandomResponse: Encodable {
        var plaintext: Data?
        var ciphertextForRecipient: Data?
    }

    static let generateRandom = OperationHandler { (r: GenerateRandomRequest, service, context) throws(KMSError) in
        let context = try attested(r.recipient, service, context)
        let random = try await service.generateRandom(numberOfBytes: r.numberOfBytes, customKeyStoreID: r.customKeyStoreId, context)
        let (plaintext, forRecipient) = try forRecipient(random, context.recipient)
        return GenerateRandomResponse(plaintext: plaintext, ciphertextForRecipient: forRecipient)
    }
}
