import Foundation
import KMSStorage

extension KeyManagementService {
    /// A forward access token with which `servicePrincipal` (a service principal registered in
    /// the caller's account) may make requests as the caller for `durationSeconds` (60–3,600,
    /// default 900). Only users, roles and roots sign for themselves; a token gives the service
    /// nothing the caller could not do, and forwarded requests are audited as the caller's,
    /// `invokedBy` the service. The token itself is never recorded.
    public func createForwardAccessToken(
        servicePrincipal: String, durationSeconds: Int?, _ context: RequestContext
    ) async throws(KMSError)
        -> (token: String, expiration: Date)
    {
        guard context.principal.kind != .service, context.invokedBy == nil else {
            throw KMSError(.accessDenied, "A forward access token is made by the principal it speaks for, with its own credentials.")
        }
        let duration = durationSeconds ?? 900
        guard ForwardAccessToken.durations.contains(duration) else {
            throw KMSError.validation(
                "DurationSeconds must be between \(ForwardAccessToken.durations.lowerBound) and \(ForwardAccessToken.durations.upperBound).")
        }
        let service = Principal.service(account: context.account, servicePrincipal)
        guard servicePrincipal.utf8.count <= 128,
            try await store.hasPrincipal(service)
        else { throw KMSError.notFound("No service principal \(servicePrincipal.prefix(128)) in account \(context.account).") }
        guard let incarnation = try await store.principalIncarnation(of: context.principal) else {
            throw KMSError(.accessDenied, "\(context.principal.arn) no longer exists.")
        }
        let expiration = Date(timeIntervalSince1970: (clock.now().timeIntervalSince1970 + Double(duration)).rounded(.down))
        let token = ForwardAccessToken(principal: context.principal, principalID: incarnation, service: servicePrincipal, expiration: expiration)
        context.audit.setResponseElements(["servicePrincipal": .string(servicePrincipal), "expiration": .string(AuditTime.iso8601(expiration))])
        return (try token.seal(with: rootKey), expiration)
    }
}
