import KMSService

extension OperationHandler {
    struct ListKeysRequest: Decodable {
        var limit: Int?
        var marker: String?
    }

    struct ListKeysResponse: Encodable {
        struct Entry: Encodable {
            var keyId: String
            var keyArn: String
        }
        var keys: [Entry]
        var nextMarker: String?
        var truncated: Bool
    }

    static let listKeys = OperationHandler { (r: ListKeysRequest, service, context) throws(KMSError) in
        let page = try await service.listKeys(limit: r.limit, marker: r.marker, context)
        return ListKeysResponse(
            keys: page.keys.map { .init(keyId: $0.id, keyArn: $0.arn) },
            nextMarker: page.nextMarker, truncated: page.nextMarker != nil)
    }
}
