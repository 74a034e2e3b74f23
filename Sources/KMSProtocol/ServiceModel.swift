import Foundation
import KMSService

/// The constraints of an AWS API model, trimmed by `scripts/generate-service-model.py` to what
/// request validation needs: KMS's (`kms-2014-11-01.service.json`), and CloudTrail's for the
/// one operation of it served here (LookupEvents).
struct ServiceModel: Sendable {
    struct Shape: Sendable {
        enum Kind: String, Sendable { case structure, string, blob, integer, boolean, timestamp, list, map }
        var kind: Kind
        var required: [String] = []
        var min: Int?
        var max: Int?
        var enumValues: [String]?
        /// The model's pattern as AWS wrote it (for messages), and compiled to match the whole
        /// value (Java `matches` semantics, as AWS applies it). Compiled once, with the model.
        var pattern: (source: String, regex: NSRegularExpression)?
        var sensitive = false
        var members: [String: String] = [:]
        var member: String?
        var key: String?
        var value: String?
    }

    /// Operation name → input shape name (nil for an operation without input).
    let operations: [String: String?]
    let shapes: [String: Shape]

    static let kms = parse(json)
    static let cloudTrail = parse(cloudTrailJSON)

    private static func parse(_ json: String) -> ServiceModel {
        struct Raw: Decodable {
            struct RawShape: Decodable {
                var type: String
                var required: [String]?
                var min: Int?
                var max: Int?
                var `enum`: [String]?
                var pattern: String?
                var sensitive: Bool?
                var members: [String: String]?
                var member: String?
                var key: String?
                var value: String?
            }
            var operations: [String: String?]
            var shapes: [String: RawShape]
        }
        // The embedded model is generated and checked by tests: failing to read it is a build defect.
        let raw = try! JSONDecoder().decode(Raw.self, from: Data(json.utf8))
        let shapes = raw.shapes.mapValues { s in
            Shape(
                kind: Shape.Kind(rawValue: s.type)!, required: s.required ?? [], min: s.min, max: s.max,
                enumValues: s.enum, pattern: s.pattern.map { ($0, try! NSRegularExpression(pattern: "\\A(?:\(asciiClasses($0)))\\z")) },
                sensitive: s.sensitive ?? false,
                members: s.members ?? [:], member: s.member, key: s.key, value: s.value)
        }
        return ServiceModel(operations: raw.operations, shapes: shapes)
    }

    /// The pattern with Java's ASCII meaning of `\w`, `\d` and `\s` (and their negations),
    /// which ICU reads as Unicode classes: AWS's patterns are Java's, so `é` is no `\w`.
    static func asciiClasses(_ pattern: String) -> String {
        let inside: [Character: String] = ["w": "a-zA-Z0-9_", "d": "0-9", "s": " \\t\\n\\x0B\\f\\r"]
        var out = ""
        var inClass = false, escaped = false
        for character in pattern {
            if escaped {
                escaped = false
                if let ascii = inside[character] {
                    out += inClass ? ascii : "[\(ascii)]"
                } else if let lower = character.lowercased().first, character.isUppercase, let ascii = inside[lower], !inClass {
                    out += "[^\(ascii)]"
                } else {
                    out += "\\" + String(character)
                }
                continue
            }
            switch character {
            case "\\":
                escaped = true
                continue
            case "[": inClass = true
            case "]": inClass = false
            default: break
            }
            out.append(character)
        }
        return out
    }
}
