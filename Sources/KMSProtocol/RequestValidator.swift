import Foundation
import KMSService

/// Checks a request body against its input shape in the model, as AWS does before an
/// operation runs: types (a mismatch is a `SerializationException`), then required members,
/// lengths, ranges, patterns and enum values (all violations in one `ValidationException`,
/// worded as AWS words them). Values of blobs and sensitive members are never echoed.
struct RequestValidator {
    let model: ServiceModel
    /// The error a violation in a top-level member is, by the member's path (CloudTrail has
    /// one per member: `maxResults` → `InvalidMaxResultsException`); `ValidationException`
    /// for the others.
    var memberErrors: [String: KMSError.Code] = [:]

    /// The UTF-8 bytes an encryption context's keys and values may hold in all. The model
    /// sets no bound and AWS documents none; without one a context is bounded only by the body
    /// (an 8,000-pair context was accepted, and audited as 888 KB). 8 KiB is what services
    /// that pass a context through a header allow (S3's SSE-KMS context header) and far
    /// beyond any context an AWS service or the AWS Encryption SDK builds.
    static let maximumEncryptionContextSize = 8_192

    func validate(_ body: JSONValue, shape: String) throws(KMSError) {
        var violations: [Violation] = []
        try check(body, shapeName: shape, path: nil, violations: &violations)
        guard let first = violations.first else { return }
        let count = violations.count
        let error = KMSError.validation(
            "\(count) validation error\(count == 1 ? "" : "s") detected: " + violations.map(\.text).joined(separator: "; "))
        throw memberErrors[first.member].map { KMSError($0, error.message) } ?? error
    }

    private struct Violation {
        /// The top-level member it is in.
        var member: String
        var text: String
    }

    private func check(_ value: JSONValue, shapeName: String, path: String?, violations: inout [Violation]) throws(KMSError) {
        guard let shape = model.shapes[shapeName] else { return }
        let at = path ?? ""
        func member(_ path: String) -> String { String(path.prefix { $0 != "." }) }
        func violation(_ shown: String?, _ constraint: String) {
            let valuePart = shown.map { "Value \($0) at" } ?? "Value at"
            violations.append(Violation(member: member(at), text: "\(valuePart) '\(at)' failed to satisfy constraint: Member must \(constraint)"))
        }
        switch (shape.kind, value) {
        case (_, .null):
            return
        case (.structure, .object(let members)):
            for name in shape.required where members[name] == nil || members[name].map(isNull) == true {
                let memberPath = Self.memberPath(path, name)
                violations.append(
                    Violation(member: member(memberPath), text: "Value null at '\(memberPath)' failed to satisfy constraint: Member must not be null")
                )
            }
            for (name, memberShape) in shape.members.sorted(by: { $0.key < $1.key }) {
                if let memberValue = members[name] {
                    try check(memberValue, shapeName: memberShape, path: Self.memberPath(path, name), violations: &violations)
                }
            }
        case (.string, .string(let text)):
            let shown = shape.sensitive ? nil : "'\(text)'"
            let length = text.utf16.count
            if let min = shape.min, length < min { violation(shown, "have length greater than or equal to \(min)") }
            if let max = shape.max, length > max { violation(shown, "have length less than or equal to \(max)") }
            if let values = shape.enumValues, !values.contains(text) {
                violation(shown, "satisfy enum value set: [\(values.joined(separator: ", "))]")
            }
            if let pattern = shape.pattern,
                pattern.regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil
            {
                violation(shown, "satisfy regular expression pattern: \(pattern.source)")
            }
        case (.blob, .string(let base64)):
            guard let data = Base64.decodeStrict(base64) else {
                throw KMSError(.serialization, "Invalid base64 value at '\(at)'.")
            }
            if let min = shape.min, data.count < min { violation(nil, "have length greater than or equal to \(min)") }
            if let max = shape.max, data.count > max { violation(nil, "have length less than or equal to \(max)") }
        case (.integer, .number(let number)):
            guard number.rounded() == number, abs(number) < 9.0e15 else {
                throw KMSError(.serialization, "Expected an integer at '\(at)'.")
            }
            let shown = "'\(Int64(number))'"
            if let min = shape.min, number < Double(min) { violation(shown, "have value greater than or equal to \(min)") }
            if let max = shape.max, number > Double(max) { violation(shown, "have value less than or equal to \(max)") }
        case (.boolean, .bool), (.timestamp, .number):
            return
        case (.list, .array(let items)):
            if let min = shape.min, items.count < min { violation(nil, "have length greater than or equal to \(min)") }
            if let max = shape.max, items.count > max { violation(nil, "have length less than or equal to \(max)") }
            for (index, item) in items.enumerated() {
                try check(item, shapeName: shape.member ?? "", path: "\(at).\(index + 1).member", violations: &violations)
            }
        case (.map, .object(let entries)):
            if let min = shape.min, entries.count < min { violation(nil, "have length greater than or equal to \(min)") }
            if let max = shape.max, entries.count > max { violation(nil, "have length less than or equal to \(max)") }
            if shapeName == "EncryptionContextType",
                entries.reduce(0, { total, entry in total + entry.key.utf8.count + (entry.value.stringValue?.utf8.count ?? 0) })
                    > Self.maximumEncryptionContextSize
            {
                violation(nil, "have keys and values of at most \(Self.maximumEncryptionContextSize) bytes in all")
            }
            for (key, item) in entries.sorted(by: { $0.key < $1.key }) {
                try check(.string(key), shapeName: shape.key ?? "", path: "\(at).key", violations: &violations)
                try check(item, shapeName: shape.value ?? "", path: "\(at).value", violations: &violations)
            }
        default:
            throw KMSError(.serialization, "Unexpected JSON type at '\(at.isEmpty ? "request" : at)'.")
        }
    }

    private func isNull(_ value: JSONValue) -> Bool {
        if case .null = value { return true }
        return false
    }

    /// AWS's member paths: lowerCamelCase names joined by dots (`tags.1.member.tagKey`).
    static func memberPath(_ parent: String?, _ name: String) -> String {
        let lowered = name.prefix(1).lowercased() + name.dropFirst()
        return parent.map { "\($0).\(lowered)" } ?? lowered
    }
}
