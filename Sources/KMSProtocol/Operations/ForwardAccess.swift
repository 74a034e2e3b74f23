import Foundation
import KMSService

extension OperationHandler {
    struct CreateForwardAccessTokenRequest: Decodable {
        var servicePrincipal: String
        var durationSeconds: Int?
    }

    struct CreateForwardAccessTokenResponse: Encodable {
        var forwardAccessToken: String
        var expiration: Date
    }

    /// `SwiftKMS.CreateForwardAccessToken` (not an AWS operation; see `ForwardAccessToken`).
    static let createForwardAccessToken = OperationHandler { (r: CreateForwardAccessTokenRequest, service, context) throws(KMSError) in
        let out = try await service.createForwardAccessToken(servicePrincipal: r.servicePrincipal, durationSeconds: r.durationSeconds, context)
        return CreateForwardAccessTokenResponse(forwardAccessToken: out.token, expiration: out.expiration)
    }
}
