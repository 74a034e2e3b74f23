/// An IAM JSON policy document as KMS reads it: a key policy (every statement names a
/// `Principal` or `NotPrincipal`) or an identity policy (no statement does).
///
/// Parsing is strict: an element AWS does not define, a missing `Effect`, `Action` or
/// `Resource`, an unknown condition operator or a malformed principal is a
/// `MalformedPolicyDocumentException`, so a policy that is stored is one that evaluates.
public struct PolicyDocument: Sendable, Equatable {
    public enum Kind: Sendable {
        case keyPolicy, identityPolicy
    }

    public let version: String?
    public let id: String?
    public let statements: [PolicyStatement]
    /// The condition keys the statements read (normalized): those they test, and those their
    /// policy variables (`${aws:username}`) stand for in resources and condition values.
    /// Collected once here, as every authorization asks for them.
    public let referencedKeys: Set<String>

    init(version: String?, id: String?, statements: [PolicyStatement]) {
        self.version = version
        self.id = id
        self.statements = statements
        var keys = Set<String>()
        for statement in statements {
            for condition in statement.conditions {
                keys.insert(condition.key)
                condition.values.forEach { keys.formUnion(PolicyVariables.names(in: $0)) }
            }
            statement.resources.forEach { keys.formUnion(PolicyVariables.names(in: $0)) }
        }
        referencedKeys = keys
    }

    public static func parse(_ text: String, as kind: Kind) throws(KMSError) -> PolicyDocument {
        guard case .object(let object)? = JSONValue.parse(text) else {
            throw malformed("The policy is not a JSON object.")
        }
        try requireOnly(["Version", "Id", "Statement"], in: object, what: "policy")
        var version: String?
        if let value = object["Version"] {
            guard case .string(let text) = value, text == "2012-10-17" || text == "2008-10-17" else {
                throw malformed("Version must be 2012-10-17 or 2008-10-17.")
            }
            version = text
        }
        var id: String?
        if let value = object["Id"] {
            guard case .string(let text) = value else { throw malformed("Id must be a string.") }
            id = text
        }
        let statements: [JSONValue] =
            switch object["Statement"] {
            case .array(let list): list
            case let one?: [one]
            case nil: []
            }
        guard !statements.isEmpty else { throw malformed("The policy has no Statement.") }
        let parsed = try statements.map { (element: JSONValue) throws(KMSError) -> PolicyStatement in
            guard case .object(let statement) = element else { throw malformed("A Statement must be a JSON object.") }
            return try PolicyStatement(parsing: statement, kind: kind)
        }
        return PolicyDocument(version: version, id: id, statements: parsed)
    }

    static func malformed(_ message: String) -> KMSError {
        KMSError(.malformedPolicyDocument, message)
    }

    static func requireOnly(_ names: Set<String>, in object: [String: JSONValue], what: String) throws(KMSError) {
        if let unknown = object.keys.sorted().first(where: { !names.contains($0) }) {
            throw malformed("The \(what) contains an unsupported element: \(unknown).")
        }
    }

    /// A string or a non-empty list of strings.
    static func strings(_ value: JSONValue, _ element: String) throws(KMSError) -> [String] {
        switch value {
        case .string(let one): return [one]
        case .array(let list) where !list.isEmpty:
            return try list.map { (item: JSONValue) throws(KMSError) -> String in
                guard case .string(let text) = item else { throw malformed("\(element) must hold strings.") }
                return text
            }
        default: throw malformed("\(element) must be a string or a non-empty list of strings.")
        }
    }
}

/// One statement. Exactly one of each pair (Principal/NotPrincipal, Action/NotAction,
/// Resource/NotResource) is set; a negated element matches what its list does not.
public struct PolicyStatement: Sendable, Equatable {
    public enum Effect: String, Sendable {
        case allow = "Allow", deny = "Deny"
    }

    public var sid: String?
    public var effect: Effect
    /// nil in identity policies.
    public var principal: PrincipalSet?
    public var notPrincipal = false
    public var actions: [String]
    public var notAction = false
    public var resources: [String]
    public var notResource = false
    public var conditions: [PolicyCondition]

    init(parsing object: [String: JSONValue], kind: PolicyDocument.Kind) throws(KMSError) {
        try PolicyDocument.requireOnly(
            ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"],
            in: object, what: "statement")
        if let sid = object["Sid"] {
            guard case .string(let sid) = sid else { throw PolicyDocument.malformed("Sid must be a string.") }
            self.sid = sid
        }
        guard case .string(let effectName)? = object["Effect"], let effect = Effect(rawValue: effectName) else {
            throw PolicyDocument.malformed("Effect must be Allow or Deny.")
        }
        self.effect = effect
        (actions, notAction) = try Self.pair(object, "Action", "NotAction")
        (resources, notResource) = try Self.pair(object, "Resource", "NotResource")
        switch (object["Principal"], object["NotPrincipal"], kind) {
        case (nil, nil, .identityPolicy): principal = nil
        case (_, _, .identityPolicy): throw PolicyDocument.malformed("An identity policy cannot name a Principal.")
        case (let value?, nil, .keyPolicy): principal = try PrincipalSet(parsing: value)
        case (nil, let value?, .keyPolicy):
            principal = try PrincipalSet(parsing: value)
            notPrincipal = true
        case (nil, nil, .keyPolicy): throw PolicyDocument.malformed("Policy contains a statement with no principal.")
        case (_?, _?, .keyPolicy): throw PolicyDocument.malformed("A statement cannot have both Principal and NotPrincipal.")
        }
        conditions = try PolicyCondition.parse(object["Condition"])
    }

    private static func pair(_ object: [String: JSONValue], _ name: String, _ negated: String) throws(KMSError) -> ([String], Bool) {
        switch (object[name], object[negated]) {
        case (let value?, nil): (try PolicyDocument.strings(value, name), false)
        case (nil, let value?): (try PolicyDocument.strings(value, negated), true)
        case (nil, nil): throw PolicyDocument.malformed("A statement must have \(name) or \(negated).")
        case (_?, _?): throw PolicyDocument.malformed("A statement cannot have both \(name) and \(negated).")
        }
    }
}

/// The principals a statement names: everyone (`"*"`, `{"AWS": "*"}`), AWS principals by ARN
/// (an account ID stands for its root, `arn:aws:iam::ACCOUNT:root`), or service principals.
public struct PrincipalSet: Sendable, Equatable {
    public var everyone = false
    public var aws: [String] = []
    public var services: [String] = []

    init(parsing value: JSONValue) throws(KMSError) {
        if case .string(let text) = value {
            guard text == "*" else { throw PolicyDocument.malformed("Policy contains a statement with one or more invalid principals.") }
            everyone = true
            return
        }
        guard case .object(let object) = value, !object.isEmpty else {
            throw PolicyDocument.malformed("Policy contains a statement with one or more invalid principals.")
        }
        try PolicyDocument.requireOnly(["AWS", "Service"], in: object, what: "Principal")
        for entry in try object["AWS"].map({ (value: JSONValue) throws(KMSError) in try PolicyDocument.strings(value, "Principal") }) ?? [] {
            if entry == "*" {
                everyone = true
            } else if let arn = Self.awsPrincipalARN(entry) {
                aws.append(arn)
            } else if Self.isUniqueID(entry) {
                continue  // a deleted principal, as a policy naming it shows it: it matches no one
            } else {
                throw PolicyDocument.malformed("Policy contains a statement with one or more invalid principals.")
            }
        }
        services = try object["Service"].map { (value: JSONValue) throws(KMSError) in try PolicyDocument.strings(value, "Principal") } ?? []
        guard services.allSatisfy({ $0.hasSuffix(".amazonaws.com") && $0.count > 14 }) else {
            throw PolicyDocument.malformed("Policy contains a statement with one or more invalid principals.")
        }
    }

    /// Whether `entry` is an IAM-style unique ID (`AIDA…` of a user, `AROA…` of a role), which
    /// is what a policy shows in place of a principal that was deleted.
    public static func isUniqueID(_ entry: String) -> Bool {
        let bytes = Array(entry.utf8)
        guard bytes.count == 21, entry.hasPrefix("AIDA") || entry.hasPrefix("AROA") else { return false }
        return bytes.dropFirst(4).allSatisfy {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "2")...UInt8(ascii: "7")).contains($0)
        }
    }

    /// The canonical ARN of an AWS principal entry, or nil when it is none: a 12-digit account
    /// ID, or `arn:PARTITION:iam::ACCOUNT:root|user/NAME|role/NAME`, or an STS assumed role.
    public static func awsPrincipalARN(_ entry: String) -> String? {
        if entry.count == 12, entry.allSatisfy({ $0.isASCII && $0.isNumber }) { return "arn:aws:iam::\(entry):root" }
        let parts = entry.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[3].isEmpty,
            parts[4].count == 12, parts[4].allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        let resource = parts[5]
        switch parts[2] {
        case "iam":
            guard resource == "root" || resource.hasPrefix("user/") || resource.hasPrefix("role/"), resource.count > 5 || resource == "root" else {
                return nil
            }
        case "sts": guard resource.hasPrefix("assumed-role/") else { return nil }
        default: return nil
        }
        return entry
    }
}

extension PolicyDocument {
    /// The policy text with every `AWS` principal entry that is exactly `arn` replaced by
    /// `uniqueID`, as AWS shows a key policy whose principal was deleted: the statement then
    /// names no one, so a user or role created again under the same name does not inherit it.
    /// Nil when the policy names no such entry (or is not JSON). The result is compact JSON.
    public static func replacingPrincipal(_ arn: String, with uniqueID: String, in text: String) -> String? {
        guard case .object(var policy)? = JSONValue.parse(text), let statements = policy["Statement"] else { return nil }
        var changed = false
        func replaced(_ entry: JSONValue) -> JSONValue {
            guard case .string(let value) = entry, value.bytewiseEquals(arn) else { return entry }
            changed = true
            return .string(uniqueID)
        }
        func rewritten(_ statement: JSONValue) -> JSONValue {
            guard case .object(var members) = statement else { return statement }
            for element in ["Principal", "NotPrincipal"] {
                guard case .object(var principal)? = members[element], let aws = principal["AWS"] else { continue }
                if case .array(let entries) = aws { principal["AWS"] = .array(entries.map(replaced)) } else { principal["AWS"] = replaced(aws) }
                members[element] = .object(principal)
            }
            return .object(members)
        }
        if case .array(let list) = statements {
            policy["Statement"] = .array(list.map(rewritten))
        } else {
            policy["Statement"] = rewritten(statements)
        }
        guard changed else { return nil }
        return String(decoding: JSONValue.object(policy).canonicalBytes, as: UTF8.self)
    }
}
