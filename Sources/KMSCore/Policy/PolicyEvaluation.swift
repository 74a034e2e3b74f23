/// What a policy is asked: may this principal perform this action on this resource, given
/// these condition values?
public struct AuthorizationRequest: Sendable {
    public var principal: Principal
    /// `kms:Encrypt`, …
    public var action: String
    /// The key ARN (or `*` for actions on no key, such as `kms:CreateKey`).
    public var resource: String
    /// Condition keys (normalized) and their values; a key absent here is absent from the request.
    public private(set) var conditionValues: [String: [String]]

    public init(principal: Principal, action: String, resource: String, conditionValues: [String: [String]] = [:]) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.conditionValues = Dictionary(conditionValues.map { (ConditionKey.normalized($0.key), $0.value) }, uniquingKeysWith: { $1 })
    }

    public subscript(key: String) -> [String]? {
        get { conditionValues[ConditionKey.normalized(key)] }
        set { conditionValues[ConditionKey.normalized(key)] = newValue }
    }
}

/// Condition key names are case-insensitive, except the context key in
/// `kms:EncryptionContext:KEY`, which KMS compares case-sensitively (as the encryption context
/// itself is compared).
public enum ConditionKey {
    static let encryptionContextPrefix = "kms:encryptioncontext:"

    public static func normalized(_ key: String) -> String {
        let lower = asciiLowercased(key) ?? key.lowercased()
        guard lower.hasPrefix(encryptionContextPrefix) else { return lower }
        return encryptionContextPrefix + key.dropFirst(encryptionContextPrefix.count)
    }

    /// `key` with ASCII capitals lowered, nil when it holds anything beyond ASCII. Every key a
    /// request carries is ASCII but for encryption-context names; this spares `lowercased()`'s
    /// Unicode machinery on each of a request's twenty-odd keys.
    static func asciiLowercased(_ key: String) -> String? {
        var key = key
        return key.withUTF8 { bytes -> String? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            return String(unsafeUninitializedCapacity: bytes.count) { buffer in
                for (i, byte) in bytes.enumerated() { buffer[i] = byte.asciiLowercased }
                return bytes.count
            }
        }
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
        // NotPrincipal exempts only the principals it names exactly: naming an account's root
        // does not exempt the account's users (AWS asks to list both the user and its account).
        if notPrincipal { return match == .caller ? nil : .caller }
        return match
    }

    /// Action, resource and every condition hold. Policy variables (`${aws:username}`) in
    /// resources and condition values are replaced by the request's value; a pattern whose
    /// variable the request lacks matches nothing.
    func appliesTo(_ request: AuthorizationRequest) -> Bool {
        let actionListed = actions.contains { Wildcard.matches($0, request.action, ignoringCase: true) }
        let resourceListed = resources.contains { pattern in
            PolicyVariables.substitute(pattern, request).map { Wildcard.matches($0, request.resource) } ?? false
        }
        return actionListed != notAction && resourceListed != notResource
            && conditions.allSatisfy { condition in
                var condition = condition
                condition.values = condition.values.compactMap { PolicyVariables.substitute($0, request) }
                return condition.holds(for: request.conditionValues[condition.key])
            }
    }
}

/// IAM policy variables: `${key}` stands for the request's (single) value of a condition key;
/// `${*}`, `${?}` and `${$}` stand for the literal characters.
enum PolicyVariables {
    /// The condition keys (normalized) that `${…}` variables in `text` stand for.
    static func names(in text: String) -> [String] {
        guard mentionsVariable(text) else { return [] }
        return text.components(separatedBy: "${").dropFirst().compactMap { part in
            guard let end = part.firstIndex(of: "}") else { return nil }
            let name = part[..<end].split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return ["*", "?", "$", ""].contains(name) ? nil : ConditionKey.normalized(name)
        }
    }

    static func substitute(_ text: String, _ request: AuthorizationRequest) -> String? {
        guard mentionsVariable(text) else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { return result + rest[start.lowerBound...] }
            let name = String(rest[start.upperBound..<end])
            switch name {
            case "*", "?", "$": result += name
            default:
                // `${key, 'default'}` uses the default when the key is absent.
                // Empty parts kept: `${}` and `${,'x'}` name the empty key, which no request has.
                let parts = name.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                if let values = request[parts[0]], values.count == 1 {
                    result += values[0]
                } else if parts.count == 2, parts[1].count >= 2, parts[1].hasPrefix("'"), parts[1].hasSuffix("'") {
                    result += parts[1].dropFirst().dropLast()
                } else {
                    return nil
                }
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// Whether `text` holds `${`. Scans the UTF-8 bytes: `String.contains` of a string goes
    /// through Foundation's `range(of:)` on Linux, which bridges to CFString on every call,
    /// and this runs for every resource and condition value of every policy a request meets.
    static func mentionsVariable(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: "$"), byte == UInt8(ascii: "{") { return true }
            previous = byte
        }
        return false
    }
}

extension PrincipalSet {
    func match(_ principal: Principal) -> PolicyStatement.PrincipalMatch? {
        if everyone { return .caller }
        if principal.kind == .service { return services.contains(principal.name) ? .caller : nil }
        var match: PolicyStatement.PrincipalMatch?
        for arn in aws {
            // The partition is not compared: an account's principals are the same in every one.
            let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[4] == principal.account else { continue }
            if parts[5] == "root" {
                if principal.isRoot { return .caller }
                match = .account
            } else if parts[2] == "iam", parts[5] == principal.path, !principal.isRoot {
                return .caller
            }
        }
        return match
    }
}
