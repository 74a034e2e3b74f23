import KMSService

extension OperationHandler {
    struct DescribeKeyRequest: Decodable {
        var keyId: String
        var grantTokens: [String]?
    }

    static let describeKey = OperationHandler { (r: DescribeKeyRequest, service, context) throws(KMSError) in
        KeyMetadataResponse(keyMetadata: try await .of(try await service.describeKey(keyID: r.keyId, context), service))
    }
}
