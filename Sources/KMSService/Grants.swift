import Foundation
import KMSStorage

/// Grant tokens, and how grants answer an authorization question.
extension KeyManagementService {
    static let grantTokenPrefix = "swiftkms:grant-token:1:"

    /// A grant's token: names the grant and its key; carries no secret (a grant only ever
    /// allows its grantee, token or not).
    static func grantToken(for grant: Grant) -> String {
        Data((grantTokenPrefix + grant.keyARN + " " + grant.id).utf8).base64EncodedString()
    }

    /// The (key ARN, grant ID) a token names; `InvalidGrantTokenException` when it is not one of ours.
    static func parseGrantToken(_ token: String) throws(KMSError) -> (keyARN: String, grantID: String) {
        guard let data = Base64.decodeStrict(token), let text = String(validating: data, as: UTF8.self), text.hasPrefix(grantTokenPrefix) else {
            throw KMSError(.invalidGrantToken, "The grant token is not valid.")
        }
        let parts = text.dropFirst(grantTokenPrefix.count).split(separator: " ")
        guard parts.count == 2, ResourceName.isWellFormedGrantID(String(parts[1])) else {
            throw KMSError(.invalidGrantToken, "The grant token is not valid.")
        }
        return (String(parts[0]), String(parts[1]))
    }

    static func checkGrantTokens(_ tokens: [String]) throws(KMSError) {
        guard tokens.count <= 10 else { throw KMSError.validation("A request can include at most 10 grant tokens.") }
        for token in tokens { _ = try parseGrantToken(token) }
    }

    /// Whether a grant on the key allows the request: one whose grantee is the caller, or the
    /// caller's account when the caller's identity policies allow the action.
    func grantAllows(_ context: RequestContext, _ request: AccessRequest, key: KMSKey, identityAllows: Bool) async throws(KMSError) -> Bool {
        guard let operation = request.grantOperation else { return false }
        let account = Principal.root(account: context.account).arn
        let grants = try await store.grants(keyID: key.id, region: key.region, grantees: [context.principal.arn, account])
        return grants.contains { grant in
            let granteeMatches =
                grant.granteeIsServicePrincipal
                ? Self.isServicePrincipalItself(grant.granteePrincipal, context)
                : grant.granteePrincipal == context.principal.arn || (grant.granteePrincipal == account && identityAllows)
            guard granteeMatches, grant.allows(operation, context: request.encryptionContext, sourceArn: context.sourceArn) else { return false }
            if operation == .createGrant, let asked = request.newGrant {
                guard Set(asked.operations).isSubset(of: grant.operations) else { return false }
                if let parent = grant.constraints, !parent.isEmpty {
                    guard let child = asked.constraints, child.isAtLeastAsStrict(as: parent) else { return false }
                }
            }
            return true
        }
    }

    /// The one of a pair of members a grant request may give (`GranteePrincipal` or
    /// `GranteeServicePrincipal`, and the same for `Retiring`): nil when neither, a
    /// `ValidationException` when both.
    static func oneOf(_ principal: String?, _ servicePrincipal: String?, _ role: String) throws(KMSError) -> (name: String, isService: Bool)? {
        switch (principal, servicePrincipal) {
        case (let name?, nil): (name, false)
        case (nil, let name?): (name, true)
        case (nil, nil): nil
        case (_?, _?): throw KMSError.validation("You can specify either \(role)Principal or \(role)ServicePrincipal, but not both.")
        }
    }

    /// Whether the request is service principal `name` acting for itself (not for a caller
    /// with a forward access token): what a grant's `GranteeServicePrincipal` or
    /// `RetiringServicePrincipal` matches. (`authorize` keeps a service principal to the
    /// keys of the account it is registered in.)
    static func isServicePrincipalItself(_ name: String, _ context: RequestContext) -> Bool {
        context.principal.kind == .service && context.invokedBy == nil && context.principal.name == name
    }

    /// Deletes a grant; one retired or revoked meanwhile is `NotFoundException`.
    func delete(_ grant: Grant, _ context: RequestContext) async throws(KMSError) {
        try await store.commit(
            [.deleteGrant(id: grant.id, keyID: grant.keyID, region: grant.keyRegion)], recording: context,
            ifMissing: KMSError.notFound("Grant not found for \(grant.keyARN)."))
    }
}
