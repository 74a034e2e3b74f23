import Foundation

/// A parsed JSON document: requests are validated against the model and decoded to their
/// typed form from it, policy documents and audit records parsed into it.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue {
    /// Parses JSON bytes with Foundation's `JSONSerialization` (nil when they are not JSON; a
    /// scalar alone is JSON). Numbers become Doubles; `true` stays apart from `1`. Of a member
    /// named twice, the last is kept.
    ///
    /// `JSONSerialization` rather than `JSONDecoder`: decoding this enum through `Decodable`
    /// has to try each kind in turn, and each miss costs a thrown `DecodingError` (figures in
    /// Benchmarks/CHANGES.md).
    public static func parse(bytes: some DataProtocol) -> JSONValue? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return nil }
        return JSONValue(foundation: object)
    }

    public static func parse(_ text: String) -> JSONValue? {
        parse(bytes: Data(text.utf8))
    }

    /// The class `JSONSerialization` gives booleans: an `NSNumber` of 1 is not `true`.
    private static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))

    private init?(foundation object: Any) {
        switch object {
        case let string as String:
            self = .string(string)
        case let members as [String: Any]:
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(members.count)
            for (name, member) in members {
                // Two names that differ in bytes but are canonically equivalent would be one
                // Swift key: refused rather than one of them silently dropped.
                guard let value = JSONValue(foundation: member), object.updateValue(value, forKey: name) == nil else { return nil }
            }
            self = .object(object)
        case let elements as [Any]:
            var array: [JSONValue] = []
            array.reserveCapacity(elements.count)
            for element in elements {
                guard let value = JSONValue(foundation: element) else { return nil }
                array.append(value)
            }
            self = .array(array)
        case let number as NSNumber:
            self = ObjectIdentifier(type(of: number)) == Self.booleanClass ? .bool(number.boolValue) : .number(number.doubleValue)
        case is NSNull:
            self = .null
        default:
            return nil
        }
    }
}
