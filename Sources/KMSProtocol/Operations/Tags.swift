import KMSService

extension OperationHandler {
    struct TagResourceRequest: Decodable {
        var keyId: String
        var tags: [WireTag]
    }

    static let tagResource = OperationHandler { (r: TagResourceRequest, service, context) throws(KMSError) in
        try await service.tagResource(keyID: r.keyId, tags: r.tags.map(\.tag), context)
        return NoOutput()
    }

    struct UntagResourceRequest: Decodable {
        var keyId: String
        var tagKeys: [String]
    }

    static let untagResource = OperationHandler { (r: UntagResourceRequest, service, context) throws(KMSError) in
        try await service.untagResource(keyID: r.keyId, tagKeys: r.tagKeys, context)
        return NoOutput()
    }

    struct ListResourceTagsRequest: Decodable {
        var keyId: String
        var limit: Int?
        var marker: String?
    }

    struct ListResourceTagsResponse: Encodable {
        var tags: [WireTag]
        var nextMarker: String?
        var truncated: Bool
    }

    static let listResourceTags = OperationHandler { (r: ListResourceTagsRequest, service, context) throws(KMSError) in
        let page = try await service.listResourceTags(keyID: r.keyId, limit: r.limit, marker: r.marker, context)
        return ListResourceTagsResponse(tags: page.tags.map(WireTag.init), nextMarker: page.nextMarker, truncated: page.nextMarker != nil)
    }
}
