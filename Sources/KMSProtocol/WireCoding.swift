import Foundation
import KMSService

/// JSON coding of AWS JSON 1.1 bodies: PascalCase member names on the wire, lowerCamelCase
/// properties in Swift; blobs as base64; timestamps as epoch seconds (plain numbers).
/// Requests are parsed once (`parse`) and decoded from that tree (`decode`); responses are
/// written in one pass (`encode`).
enum WireCoding {
    /// The key with its first letter in upper or lower case. The model's member names are
    /// ASCII; a key that starts otherwise is left as it is (no Swift property matches it).
    /// Written straight into the new String, without an intermediate byte array: a name of up
    /// to 15 bytes is stored inline and allocates nothing. It runs for every member lookup of
    /// every request and every member of every response.
    static func recased(_ key: String, upper: Bool) -> String {
        guard let first = key.utf8.first else { return key }
        let changed: UInt8
        switch (upper, first) {
        case (true, UInt8(ascii: "a")...UInt8(ascii: "z")): changed = first - 32
        case (false, UInt8(ascii: "A")...UInt8(ascii: "Z")): changed = first + 32
        default: return key
        }
        return String(unsafeUninitializedCapacity: key.utf8.count) { buffer in
            let (_, end) = buffer.initialize(from: key.utf8)
            buffer[0] = changed
            return end
        }
    }

    /// The typed request in `input`, a tree already validated against the model.
    static func decode<T: Decodable>(_ type: T.Type, from input: JSONValue) throws(KMSError) -> T {
        do {
            return try WireTreeDecoder.decode(T.self, from: input)
        } catch {
            throw unreadable(T.self)
        }
    }

    static func unreadable<T>(_ type: T.Type) -> KMSError {
        KMSError(.serialization, "The request body could not be read as a \(T.self).")
    }

    /// The body as a JSON tree (no key conversion); nil when it is not JSON as AWS reads it
    /// (see `JSONSyntax`: no trailing commas, byte order mark, repeated members or deep nesting).
    static func parse(_ body: Data) -> JSONValue? {
        guard JSONSyntax.violation(in: body) == nil else { return nil }
        return JSONValue.parse(bytes: body)
    }

    static func encode<T: Encodable>(_ value: T) throws(KMSError) -> Data {
        do {
            return Data(try WireEncoder.encode(value))
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
