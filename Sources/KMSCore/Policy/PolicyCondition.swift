import Foundation

/// One test of a `Condition` block: an operator applied to one condition key and its values.
/// A statement applies only when every one of its tests holds.
public struct PolicyCondition: Sendable, Equatable {
    public enum Qualifier: Sendable, Equatable {
        /// True when any request value matches (false when the key is absent).
        case forAnyValue
        /// True when every request value matches (true when the key is absent).
        case forAllValues
    }

    public var qualifier: Qualifier?
    public var test: ConditionTest
    /// `...IfExists`: true when the key is absent.
    public var ifExists: Bool
    /// The condition key as `ConditionKey.normalized` gives it.
    public var key: String
    public var values: [String]

    static func parse(_ value: JSONValue?) throws(KMSError) -> [PolicyCondition] {
        guard let value else { return [] }
        guard case .object(let block) = value else { throw PolicyDocument.malformed("Condition must be a JSON object.") }
        var conditions: [PolicyCondition] = []
        for (name, tests) in block.sorted(by: { $0.key < $1.key }) {
            var base = Substring(name)
            var qualifier: Qualifier?
            if base.hasPrefix("ForAnyValue:") {
                qualifier = .forAnyValue
                base = base.dropFirst("ForAnyValue:".count)
            } else if base.hasPrefix("ForAllValues:") {
                qualifier = .forAllValues
                base = base.dropFirst("ForAllValues:".count)
            }
            let ifExists = base.hasSuffix("IfExists") && base != "IfExists"
            if ifExists { base = base.dropLast("IfExists".count) }
            guard let test = ConditionTest(rawValue: String(base)), !(ifExists && test == .null) else {
                throw PolicyDocument.malformed("Condition operator \(name) is not supported.")
            }
            guard case .object(let keys) = tests, !keys.isEmpty else {
                throw PolicyDocument.malformed("Condition operator \(name) must map condition keys to values.")
            }
            for (key, raw) in keys.sorted(by: { $0.key < $1.key }) {
                let values = try Self.values(raw, name)
                try test.validate(values, operator: name)
                conditions.append(
                    PolicyCondition(qualifier: qualifier, test: test, ifExists: ifExists, key: ConditionKey.normalized(key), values: values))
            }
        }
        return conditions
    }

    /// Condition values are strings, numbers or booleans, alone or in a list; compared as text.
    private static func values(_ raw: JSONValue, _ name: String) throws(KMSError) -> [String] {
        let list: [JSONValue] = if case .array(let items) = raw { items } else { [raw] }
        guard !list.isEmpty else { throw PolicyDocument.malformed("Condition operator \(name) has an empty list of values.") }
        return try list.map { (item: JSONValue) throws(KMSError) -> String in
            switch item {
            case .string(let text): return text
            case .bool(let flag): return flag ? "true" : "false"
            case .number(let number):
                // 90 and 111122223333 read as written, not as 90.0.
                if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
                return String(number)
            default: throw PolicyDocument.malformed("Condition operator \(name) has a value that is not a string, number or boolean.")
            }
        }
    }

    /// Whether the test holds for the request's values of the key (nil: the key is absent).
    func holds(for requestValues: [String]?) -> Bool {
        if test == .null {
            // "true": the key must be absent; "false": present.
            let absent = requestValues?.isEmpty ?? true
            return values.contains { ($0.lowercased() == "true") == absent }
        }
        guard let requestValues, !requestValues.isEmpty else {
            if ifExists || qualifier == .forAllValues { return true }
            // A missing key matches nothing: positive tests fail, negated ones hold.
            return test.isNegated
        }
        switch qualifier {
        case .forAllValues: return requestValues.allSatisfy { test.matches($0, values) }
        case .forAnyValue: return requestValues.contains { test.matches($0, values) }
        case nil:
            // A negated test holds when no request value matches a policy value.
            return test.isNegated ? requestValues.allSatisfy { test.matches($0, values) } : requestValues.contains { test.matches($0, values) }
        }
    }
}

/// The condition operators of IAM's policy language (without `IfExists` and set qualifiers).
public enum ConditionTest: String, Sendable, CaseIterable {
    case stringEquals = "StringEquals", stringNotEquals = "StringNotEquals"
    case stringEqualsIgnoreCase = "StringEqualsIgnoreCase", stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
    case stringLike = "StringLike", stringNotLike = "StringNotLike"
    case numericEquals = "NumericEquals", numericNotEquals = "NumericNotEquals"
    case numericLessThan = "NumericLessThan", numericLessThanEquals = "NumericLessThanEquals"
    case numericGreaterThan = "NumericGreaterThan", numericGreaterThanEquals = "NumericGreaterThanEquals"
    case dateEquals = "DateEquals", dateNotEquals = "DateNotEquals"
    case dateLessThan = "DateLessThan", dateLessThanEquals = "DateLessThanEquals"
    case dateGreaterThan = "DateGreaterThan", dateGreaterThanEquals = "DateGreaterThanEquals"
    case bool = "Bool"
    case binaryEquals = "BinaryEquals"
    case ipAddress = "IpAddress", notIpAddress = "NotIpAddress"
    case arnEquals = "ArnEquals", arnLike = "ArnLike", arnNotEquals = "ArnNotEquals", arnNotLike = "ArnNotLike"
    case null = "Null"

    var isNegated: Bool {
        switch self {
        case .stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals, .dateNotEquals,
            .notIpAddress, .arnNotEquals, .arnNotLike:
            true
        default: false
        }
    }

    /// Policy values an operator cannot read make the policy malformed.
    func validate(_ values: [String], operator name: String) throws(KMSError) {
        let readable: Bool =
            switch self {
            case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals:
                values.allSatisfy { Double($0) != nil }
            case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
                values.allSatisfy { Self.date($0) != nil }
            case .bool, .null: values.allSatisfy { ["true", "false"].contains($0.lowercased()) }
            case .binaryEquals: values.allSatisfy { Data(base64Encoded: $0) != nil }
            case .ipAddress, .notIpAddress: values.allSatisfy { IPNetwork($0) != nil }
            default: true
            }
        guard readable else { throw PolicyDocument.malformed("Condition operator \(name) has a value it cannot read.") }
    }

    /// For a negated operator: true when `value` matches none of `policyValues`.
    func matches(_ value: String, _ policyValues: [String]) -> Bool {
        switch self {
        // Exactly, byte for byte (see `String.bytewiseEquals`).
        case .stringEquals: policyValues.contains { $0.bytewiseEquals(value) }
        case .stringNotEquals: !policyValues.contains { $0.bytewiseEquals(value) }
        case .stringEqualsIgnoreCase: policyValues.contains { $0.lowercased().bytewiseEquals(value.lowercased()) }
        case .stringNotEqualsIgnoreCase: !policyValues.contains { $0.lowercased().bytewiseEquals(value.lowercased()) }
        case .stringLike: policyValues.contains { Wildcard.matches($0, value) }
        case .stringNotLike: !policyValues.contains { Wildcard.matches($0, value) }
        case .numericEquals: compare(value, policyValues, Double.init) { $0 == $1 }
        case .numericNotEquals: !compare(value, policyValues, Double.init) { $0 == $1 }
        case .numericLessThan: compare(value, policyValues, Double.init) { $0 < $1 }
        case .numericLessThanEquals: compare(value, policyValues, Double.init) { $0 <= $1 }
        case .numericGreaterThan: compare(value, policyValues, Double.init) { $0 > $1 }
        case .numericGreaterThanEquals: compare(value, policyValues, Double.init) { $0 >= $1 }
        case .dateEquals: compare(value, policyValues, Self.date) { $0 == $1 }
        case .dateNotEquals: !compare(value, policyValues, Self.date) { $0 == $1 }
        case .dateLessThan: compare(value, policyValues, Self.date) { $0 < $1 }
        case .dateLessThanEquals: compare(value, policyValues, Self.date) { $0 <= $1 }
        case .dateGreaterThan: compare(value, policyValues, Self.date) { $0 > $1 }
        case .dateGreaterThanEquals: compare(value, policyValues, Self.date) { $0 >= $1 }
        case .bool: policyValues.contains { $0.lowercased() == value.lowercased() }
        case .binaryEquals: policyValues.contains { $0.bytewiseEquals(value) }
        case .ipAddress: policyValues.contains { IPNetwork($0)?.contains(value) ?? false }
        case .notIpAddress: !policyValues.contains { IPNetwork($0)?.contains(value) ?? false }
        case .arnEquals, .arnLike: policyValues.contains { Wildcard.matchesARN($0, value) }
        case .arnNotEquals, .arnNotLike: !policyValues.contains { Wildcard.matchesARN($0, value) }
        case .null: false  // handled by PolicyCondition
        }
    }

    /// A request value that does not parse matches nothing.
    private func compare<T>(_ value: String, _ policyValues: [String], _ parse: (String) -> T?, _ relation: (T, T) -> Bool) -> Bool {
        guard let left = parse(value) else { return false }
        return policyValues.contains { parse($0).map { relation(left, $0) } ?? false }
    }

    /// ISO 8601 (with or without fractional seconds) or seconds since the epoch.
    static func date(_ text: String) -> Date? {
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// IAM's wildcards: `*` matches any run of characters, `?` any one character.
enum Wildcard {
    static func matches(_ pattern: String, _ text: String, ignoringCase: Bool = false) -> Bool {
        if pattern == "*" { return true }
        var (pattern, text) = (pattern, text)
        // ASCII (actions, ARNs, almost every condition value) is matched byte by byte, folding
        // case by hand; anything else by Unicode scalars, compared exactly (not by Characters,
        // whose equality is canonical equivalence), `?` standing for one scalar.
        let ascii = pattern.withUTF8 { p in
            text.withUTF8 { t -> Bool? in
                guard p.allSatisfy({ $0 < 0x80 }), t.allSatisfy({ $0 < 0x80 }) else { return nil }
                let (star, question) = (UInt8(ascii: "*"), UInt8(ascii: "?"))
                return matches(p, t, star: star, question: question, fold: ignoringCase ? { $0.asciiLowercased } : { $0 })
            }
        }
        if let ascii { return ascii }
        return matches(
            Array((ignoringCase ? pattern.lowercased() : pattern).unicodeScalars),
            Array((ignoringCase ? text.lowercased() : text).unicodeScalars), star: "*", question: "?", fold: { $0 })
    }

    /// Greedy matching that backtracks to the last `*`; `fold` maps each element before comparing.
    private static func matches<C: RandomAccessCollection>(
        _ p: C, _ t: C, star: C.Element, question: C.Element, fold: (C.Element) -> C.Element
    ) -> Bool where C.Element: Equatable, C.Index == Int {
        var (i, j) = (0, 0)
        var lastStar: Int?, resume = 0
        while j < t.count {
            if i < p.count, p[i] == question || fold(p[i]) == fold(t[j]) {
                i += 1
                j += 1
            } else if i < p.count, p[i] == star {
                lastStar = i
                resume = j
                i += 1
            } else if let s = lastStar {
                i = s + 1
                resume += 1
                j = resume
            } else {
                return false
            }
        }
        while i < p.count, p[i] == star { i += 1 }
        return i == p.count
    }

    /// ArnLike: the six colon-separated parts match one by one (the last may hold colons).
    static func matchesARN(_ pattern: String, _ arn: String) -> Bool {
        let p = pattern.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let a = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard p.count == 6, a.count == 6 else { return false }
        return zip(p, a).allSatisfy { matches(String($0), String($1)) }
    }
}

/// An IPv4 or IPv6 address or CIDR block (`IpAddress` conditions, `aws:SourceIp`).
struct IPNetwork {
    private let address: [UInt8]
    private let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = Self.parse(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), (0...bits).contains(prefix) else { return nil }
            self.prefix = prefix
        } else {
            prefix = bits
        }
        self.address = address
    }

    func contains(_ text: String) -> Bool {
        guard let other = Self.parse(text), other.count == address.count else { return false }
        for bit in 0..<prefix where (address[bit / 8] ^ other[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 {
            return false
        }
        return true
    }

    /// The address's bytes (4 or 16), via the C library's inet_pton.
    private static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
