import Foundation
import KMSService

extension OperationHandler {
    struct CreateGrantRequest: Decodable {
        var keyId: String
        var granteePrincipal: String?
        var granteeServicePrincipal: String?
        var retiringPrincipal: String?
        var retiringServicePrincipal: String?
        var operations: [GrantOperation]
        var constraints: Constraints?
        var name: String?
        var dryRun: Bool?

        struct Constraints: Decodable {
            var encryptionContextEquals: [String: String]?
            var encryptionContextSubset: [String: String]?
            var sourceArn: String?
        }
    }

    struct CreateGrantResponse: Encodable {
        var grantToken: String
        var grantId: String
    }

    static let createGrant = OperationHandler { (r: CreateGrantRequest, service, context) throws(KMSError) in
        let constraints = r.constraints.map {
            GrantConstraints(
                encryptionContextEquals: $0.encryptionContextEquals, encryptionContextSubset: $0.encryptionContextSubset,
                sourceArn: $0.sourceArn)
        }
        let out = try await service.createGrant(
            .init(
                keyID: r.keyId, granteePrincipal: r.granteePrincipal, granteeServicePrincipal: r.granteeServicePrincipal,
                retiringPrincipal: r.retiringPrincipal, retiringServicePrincipal: r.retiringServicePrincipal, operations: r.operations,
                constraints: constraints, name: r.name, dryRun: r.dryRun), context)
        return CreateGrantResponse(grantToken: out.grantToken, grantId: out.grantID)
    }

    /// `GrantListEntry`: the grantee and retiring principal in the member the grant was made with.
    struct WireGrant: Encodable {
        var keyId: String
        var grantId: String
        var name: String?
        var creationDate: Date
        var granteePrincipal: String?
        var granteeServicePrincipal: String?
        var retiringPrincipal: String?
        var retiringServicePrincipal: String?
        var issuingAccount: String
        var operations: [GrantOperation]
        var constraints: GrantConstraints?

        init(_ grant: Grant) {
            keyId = grant.keyARN
            grantId = grant.id
            name = grant.name
            creationDate = grant.creationDate
            if grant.granteeIsServicePrincipal {
                granteeServicePrincipal = grant.granteePrincipal
            } else {
                granteePrincipal = grant.granteePrincipal
            }
            if grant.retiringIsServicePrincipal {
                retiringServicePrincipal = grant.retiringPrincipal
            } else {
                retiringPrincipal = grant.retiringPrincipal
            }
            issuingAccount = grant.issuingAccount
            operations = grant.operations
            constraints = grant.constraints
        }
    }

    struct ListGrantsRequest: Decodable {
        var keyId: String
        var grantId: String?
        var granteePrincipal: String?
        var granteeServicePrincipal: String?
        var limit: Int?
        var marker: String?
    }

    struct ListGrantsResponse: Encodable {
        var grants: [WireGrant]
        var nextMarker: String?
        var truncated: Bool
    }

    static let listGrants = OperationHandler { (r: ListGrantsRequest, service, context) throws(KMSError) in
        let page = try await service.listGrants(
            keyID: r.keyId, grantID: r.grantId, granteePrincipal: r.granteePrincipal, granteeServicePrincipal: r.granteeServicePrincipal,
            limit: r.limit, marker: r.marker, context)
        return ListGrantsResponse(grants: page.grants.map(WireGrant.init), nextMarker: page.nextMarker, truncated: page.nextMarker != nil)
    }

    struct ListRetirableGrantsRequest: Decodable {
        var retiringPrincipal: String?
        var retiringServicePrincipal: String?
        var limit: Int?
        var marker: String?
    }

    static let listRetirableGrants = OperationHandler { (r: ListRetirableGrantsRequest, service, context) throws(KMSError) in
        let page = try await service.listRetirableGrants(
            retiringPrincipal: r.retiringPrincipal, retiringServicePrincipal: r.retiringServicePrincipal, limit: r.limit, marker: r.marker,
            context)
        return ListGrantsResponse(grants: page.grants.map(WireGrant.init), nextMarker: page.nextMarker, truncated: page.nextMarker != nil)
    }

    struct RetireGrantRequest: Decodable {
        var grantToken: String?
        var keyId: String?
        var grantId: String?
        var dryRun: Bool?
    }

    static let retireGrant = OperationHandler { (r: RetireGrantRequest, service, context) throws(KMSError) in
        try await service.retireGrant(grantToken: r.grantToken, keyID: r.keyId, grantID: r.grantId, dryRun: r.dryRun, context)
        return NoOutput()
    }

    struct RevokeGrantRequest: Decodable {
        var keyId: String
        var grantId: String
        var dryRun: Bool?
    }

    static let revokeGrant = OperationHandler { (r: RevokeGrantRequest, service, context) throws(KMSError) in
        try await service.revokeGrant(keyID: r.keyId, grantID: r.grantId, dryRun: r.dryRun, context)
        return NoOutput()
    }
}
