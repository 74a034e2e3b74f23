import Foundation
import KMSService

extension OperationHandler {
    struct AliasRequest: Decodable {
        var aliasName: String
        var targetKeyId: String?
    }

    static let createAlias = OperationHandler { (r: AliasRequest, service, context) throws(KMSError) in
        try await service.createAlias(name: r.aliasName, targetKeyID: r.targetKeyId ?? "", context)
        return NoOutput()
    }

    static let updateAlias = OperationHandler { (r: AliasRequest, service, context) throws(KMSError) in
        try await service.updateAlias(name: r.aliasName, targetKeyID: r.targetKeyId ?? "", context)
        return NoOutput()
    }

    static let deleteAlias = OperationHandler { (r: AliasRequest, service, context) throws(KMSError) in
        try await service.deleteAlias(name: r.aliasName, context)
        return NoOutput()
    }

    struct ListAliasesRequest: Decodable {
        var keyId: String?
        var limit: Int?
        var marker: String?
    }

    struct ListAliasesResponse: Encodable {
        struct Entry: Encodable {
            var aliasName: String
            var aliasArn: String
            var targetKeyId: String
            var creationDate: Date
            var lastUpdatedDate: Date
        }
        var aliases: [Entry]
        var nextMarker: String?
        var truncated: Bool
    }

    static let listAliases = OperationHandler { (r: ListAliasesRequest, service, context) throws(KMSError) in
        let page = try await service.listAliases(keyID: r.keyId, limit: r.limit, marker: r.marker, context)
        return ListAliasesResponse(
            aliases: page.aliases.map {
                .init(
                    aliasName: $0.name, aliasArn: $0.arn, targetKeyId: $0.targetKeyID,
                    creationDate: $0.creationDate, lastUpdatedDate: $0.lastUpdatedDate)
            },
            nextMarker: page.nextMarker, truncated: page.nextMarker != nil)
    }
}
