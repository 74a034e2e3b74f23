import Foundation
import KMSService

/// Writes a response body as JSON in one pass, into one buffer: the mirror of
/// `WireTreeDecoder`, with the same rules (a Swift property `keyId` is the member `KeyId`,
/// a string-keyed map's keys are written as they are, blobs as base64, timestamps as epoch
/// seconds with at most millisecond precision, nil members left out).
///
/// Containers are written as they are used, so they must be used one after another, as
/// synthesized `Encodable` conformances (the only ones responses have) do. Anything else
/// (a container used after a later one was opened, `superEncoder`, a number JSON cannot
/// hold) fails the encoding instead of writing a wrong body.
enum WireEncoder {
    struct Unsupported: Error {}

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let output = Output()
        output.bytes.reserveCapacity(512)
        try output.write(value)
        guard !output.failed else { throw Unsupported() }
        return output.bytes
    }

    /// The buffer, and the containers open in it (innermost last).
    final class Output {
        var bytes: [UInt8] = []
        var failed = false
        /// Closing byte and identity of each open container.
        private var open: [(closer: UInt8, id: Int)] = []
        private var nextID = 0

        /// Writes `value`, closing whatever containers it opened.
        func write<T: Encodable>(_ value: T) throws {
            switch value {
            case let string as String: JSONValue.writeString(string, to: &bytes)
            case let data as Data: JSONValue.writeString(data.base64EncodedString(), to: &bytes)
            case let date as Date:
                // Millisecond precision, never in exponent notation (SDKs in Java and Go reject it).
                writeNumber(Double(Int64((date.timeIntervalSince1970 * 1000).rounded())) / 1000)
            case let map as any StringKeyedMapEncodable: try map.writeMembers(to: self)
            default:
                let depth = open.count
                let start = bytes.count
                try value.encode(to: ValueEncoder(output: self))
                close(to: depth)
                // A value that wrote nothing (a struct without members) is an empty object.
                if bytes.count == start { bytes += "{}".utf8 }
            }
        }

        func writeNumber(_ number: Double) {
            guard number.isFinite else {
                failed = true
                return
            }
            JSONValue.writeNumber(number, to: &bytes)
        }

        func writeInteger(_ integer: some BinaryInteger) {
            bytes += String(integer).utf8
        }

        /// Opens a container and returns its identity.
        func openContainer(_ opener: UInt8, _ closer: UInt8) -> (depth: Int, id: Int) {
            bytes.append(opener)
            nextID += 1
            open.append((closer, nextID))
            return (open.count - 1, nextID)
        }

        /// Prepares container `id` at `depth` for its next element: closes the containers its
        /// previous element left open and writes the separator. False (and the encoding failed)
        /// when that container is no longer open.
        func nextElement(depth: Int, id: Int) -> Bool {
            guard depth < open.count, open[depth].id == id else {
                failed = true
                return false
            }
            close(to: depth + 1)
            if let last = bytes.last, last != UInt8(ascii: "{"), last != UInt8(ascii: "[") { bytes.append(UInt8(ascii: ",")) }
            return true
        }

        func close(to depth: Int) {
            while open.count > depth { bytes.append(open.removeLast().closer) }
        }

        func writeKey(_ key: String) {
            JSONValue.writeString(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }

        /// An encoder whose writes go nowhere, the encoding marked failed: what `superEncoder`
        /// gets, as a streaming writer cannot place its value.
        func refused() -> any Encoder {
            failed = true
            return ValueEncoder(output: Output())
        }
    }

    struct ValueEncoder: Encoder {
        let output: Output
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            let (depth, id) = output.openContainer(UInt8(ascii: "{"), UInt8(ascii: "}"))
            return KeyedEncodingContainer(Keyed(output: output, depth: depth, id: id))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            let (depth, id) = output.openContainer(UInt8(ascii: "["), UInt8(ascii: "]"))
            return Unkeyed(output: output, depth: depth, id: id)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { Single(output: output) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let output: Output
        let depth: Int
        let id: Int
        var codingPath: [any CodingKey] { [] }

        private func member(_ key: Key) -> Bool {
            guard output.nextElement(depth: depth, id: id) else { return false }
            output.writeKey(WireCoding.recased(key.stringValue, upper: true))
            return true
        }

        mutating func encodeNil(forKey key: Key) {
            if member(key) { output.bytes += "null".utf8 }
        }

        /// Strings, the commonest member, written without the generic path's casts.
        mutating func encode(_ value: String, forKey key: Key) {
            if member(key) { JSONValue.writeString(value, to: &output.bytes) }
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            if member(key) { try output.write(value) }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            _ = member(key)
            return ValueEncoder(output: output).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            _ = member(key)
            return ValueEncoder(output: output).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder { output.refused() }
        mutating func superEncoder(forKey key: Key) -> any Encoder { output.refused() }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let output: Output
        let depth: Int
        let id: Int
        var codingPath: [any CodingKey] { [] }
        var count = 0

        private mutating func element() -> Bool {
            count += 1
            return output.nextElement(depth: depth, id: id)
        }

        mutating func encodeNil() {
            if element() { output.bytes += "null".utf8 }
        }

        mutating func encode(_ value: String) {
            if element() { JSONValue.writeString(value, to: &output.bytes) }
        }

        mutating func encode<T: Encodable>(_ value: T) throws {
            if element() { try output.write(value) }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            _ = element()
            return ValueEncoder(output: output).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            _ = element()
            return ValueEncoder(output: output).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder { output.refused() }
    }

    /// One value: enums with raw values, and the wrappers of synthesized conformances.
    struct Single: SingleValueEncodingContainer {
        let output: Output
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil() { output.bytes += "null".utf8 }
        mutating func encode(_ value: Bool) { output.bytes += (value ? "true" : "false").utf8 }
        mutating func encode(_ value: String) { JSONValue.writeString(value, to: &output.bytes) }
        mutating func encode(_ value: Double) { output.writeNumber(value) }
        mutating func encode(_ value: Float) { output.writeNumber(Double(value)) }
        mutating func encode(_ value: Int) { output.writeInteger(value) }
        mutating func encode(_ value: Int8) { output.writeInteger(value) }
        mutating func encode(_ value: Int16) { output.writeInteger(value) }
        mutating func encode(_ value: Int32) { output.writeInteger(value) }
        mutating func encode(_ value: Int64) { output.writeInteger(value) }
        mutating func encode(_ value: UInt) { output.writeInteger(value) }
        mutating func encode(_ value: UInt8) { output.writeInteger(value) }
        mutating func encode(_ value: UInt16) { output.writeInteger(value) }
        mutating func encode(_ value: UInt32) { output.writeInteger(value) }
        mutating func encode(_ value: UInt64) { output.writeInteger(value) }
        mutating func encode<T: Encodable>(_ value: T) throws { try output.write(value) }
    }
}

/// A map with string keys (an encryption context, a grant's constraints): its keys are data,
/// written as they are, in sorted order so that a body is the same for the same map.
private protocol StringKeyedMapEncodable {
    func writeMembers(to output: WireEncoder.Output) throws
}

extension Dictionary: StringKeyedMapEncodable where Key == String, Value: Encodable {
    fileprivate func writeMembers(to output: WireEncoder.Output) throws {
        output.bytes.append(UInt8(ascii: "{"))
        for (index, key) in keys.sorted().enumerated() {
            if index > 0 { output.bytes.append(UInt8(ascii: ",")) }
            output.writeKey(key)
            try output.write(self[key]!)
        }
        output.bytes.append(UInt8(ascii: "}"))
    }
}
