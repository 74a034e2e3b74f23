/// What a policy is asked: may this principal perform this action on this resource, given
/// these condition values?
public struct AuthorizationRequest: Sendable {
    public var principal: Principal
    /// `kms:Encrypt`, …
    public var action: String
    /// The key ARN (or `*` for actions on no key, such as `kms:CreateKey`).
    public var resource: String
    /// Condition keys (lowercased) and their values; a key absent here is absent from the request.
    public var conditionValues: [String: [String]]

    public init(principal: Principal, action: String, resource: String, conditionValues: [String: [String]] = [:]) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.conditionValues = Dictionary(conditionValues.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
    }
}

/// How one policy's applicable statements answer a request.
public struct PolicyDecision: Sendable, Equatable {
    /// A Deny statement applies: nothing else can allow the request.
    public var explicitDeny = false
    /// An Allow statement applies to the caller itself (by ARN, or everyone).
    public var allowsCaller = false
    /// An Allow statement names the caller's account (`arn:aws:iam::ACCOUNT:root`) and the caller
    /// is another principal of it: the account's identity policies decide.
    public var allowsCallersAccount = false

    public init(explicitDeny: Bool = false, allowsCaller: Bool = false, allowsCallersAccount: Bool = false) {
        self.explicitDeny = explicitDeny
        self.allowsCaller = allowsCaller
        self.allowsCallersAccount = allowsCallersAccount
    }
}

extension PolicyDocument {
    public func evaluate(_ request: AuthorizationRequest) -> PolicyDecision {
        var decision = PolicyDecision()
        for statement in statements {
            guard let match = statement.principalMatch(request.principal), statement.appliesTo(request) else { continue }
            switch (statement.effect, match) {
            case (.deny, _): decision.explicitDeny = true
            case (.allow, .caller): decision.allowsCaller = true
            case (.allow, .account): decision.allowsCallersAccount = true
            }
        }
        return decision
    }
}

extension PolicyStatement {
    enum PrincipalMatch {
        /// The statement names the caller (an identity policy's statements always do).
        case caller
        /// The statement names the caller's account, and the caller is not its root.
        case account
    }

    /// How the statement's principal element covers `principal`; nil when it does not.
    func principalMatch(_ principal: Principal) -> PrincipalMatch? {
        guard let set = self.principal else { return .caller }
        let match = set.match(principal)
        if notPrincipal { return match == nil ? .caller : nil }
        return match
    }

    /// Action, resource and every condition hold.
    func appliesTo(_ request: AuthorizationRequest) -> Bool {
        let actionListed = actions.contains { Wildcard.matches($0, request.action, ignoringCase: true) }
        let resourceListed = resources.contains { Wildcard.matches($0, request.resource) }
        return actionListed != notAction && resourceListed != notResource
            && conditions.allSatisfy { $0.holds(for: request.conditionValues[$0.key]) }
    }
}

extension PrincipalSet {
    func match(_ principal: Principal) -> PolicyStatement.PrincipalMatch? {
        if everyone { return .caller }
        var match: PolicyStatement.PrincipalMatch?
        for arn in aws {
            // The partition is not compared: an account's principals are the same in every one.
            let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[4] == principal.account else { continue }
            if parts[5] == "root" {
                if principal.isRoot { return .caller }
                match = .account
            } else if parts[2] == "iam", parts[5] == "user/\(principal.name)", !principal.isRoot {
                return .caller
            }
        }
        return match
    }
}
