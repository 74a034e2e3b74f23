import KMSService
import Foundation

/// JSON coding of AWS JSON 1.1 bodies: PascalCase member names on the wire, lowerCamelCase
/// properties in Swift; blobs as base64; timestamps as epoch seconds (plain numbers).
enum WireCoding {
    /// Configured once; JSONDecoder and JSONEncoder are safe to share across requests.
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            let key = path.last!.stringValue
            return WireKey(key.prefix(1).lowercased() + key.dropFirst())
        }
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .custom { path in
            let key = path.last!.stringValue
            return WireKey(key.prefix(1).uppercased() + key.dropFirst())
        }
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            // Millisecond precision, never in exponent notation (SDKs in Java and Go reject it).
            try container.encode(Decimal(Int64((date.timeIntervalSince1970 * 1000).rounded())) / 1000)
        }
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws(KMSError) -> T {
        do {
            return try decoder.decode(T.self, from: body)
        } catch {
            throw unreadable(T.self)
        }
    }

    static func unreadable<T>(_ type: T.Type) -> KMSError {
        KMSError(.serialization, "The request body could not be read as a \(T.self).")
    }

    /// The body as a JSON tree (no key conversion); nil when it is not JSON.
    static func parse(_ body: Data) -> JSONValue? {
        try? plainDecoder.decode(JSONValue.self, from: body)
    }

    private static let plainDecoder = JSONDecoder()

    static func encode<T: Encodable>(_ value: T) throws(KMSError) -> Data {
        do {
            return try encoder.encode(value)
        } catch {
            throw KMSError.internalFailure()
        }
    }

    struct WireKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// The body of an operation that has no output: AWS sends an empty JSON object.
struct NoOutput: Encodable {}
