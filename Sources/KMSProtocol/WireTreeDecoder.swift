import Foundation
import KMSService

/// Decodes a typed request from the JSON tree that was validated against the model, so that
/// the body is parsed once and the operation reads exactly what was validated.
///
/// The wire's rules: a Swift property `keyId` reads the member `KeyId` and no other spelling
/// (JSON 1.1 member names are case-sensitive; an unknown member is ignored, as AWS does);
/// the keys of a string-keyed map are taken as they are; blobs are base64 strings;
/// timestamps are epoch seconds; integers are numbers without a fraction.
struct WireTreeDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, codingPath: [any CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
    }

    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try WireTreeDecoder(value).decodeValue(T.self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: JSONValue].self) }
        return KeyedDecodingContainer(Keyed(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([JSONValue].self) }
        return Unkeyed(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    /// `T` from this value, with the wire's own forms for blobs, timestamps and maps.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == String.self {
            guard case .string(let string) = value else { throw mismatch(T.self) }
            return string as! T
        }
        if T.self == Data.self {
            guard case .string(let base64) = value, let bytes = Base64.decodeStrict(base64) else { throw mismatch(T.self) }
            let data = Data(bytes)
            return data as! T
        }
        if T.self == Date.self {
            guard case .number(let seconds) = value else { throw mismatch(T.self) }
            return Date(timeIntervalSince1970: seconds) as! T
        }
        if let map = T.self as? any StringKeyedMap.Type {
            guard case .object(let members) = value else { throw mismatch(T.self) }
            return try map.init(members: members, codingPath: codingPath) as! T
        }
        return try T(from: self)
    }

    func mismatch(_ type: Any.Type) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected \(type)."))
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [String: JSONValue]
        let codingPath: [any CodingKey]

        var allKeys: [Key] { members.keys.compactMap { Key(stringValue: WireCoding.recased($0, upper: false)) } }

        private func member(_ key: Key) -> JSONValue? { members[WireCoding.recased(key.stringValue, upper: true)] }

        func contains(_ key: Key) -> Bool { member(key) != nil }

        func decodeNil(forKey key: Key) throws -> Bool {
            switch member(key) {
            case nil, .null?: true
            default: false
            }
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let value = member(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No member \(key.stringValue)."))
            }
            return try WireTreeDecoder(value, codingPath: codingPath + [key]).decodeValue(T.self)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try decoder(for: key).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try decoder(for: key).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { WireTreeDecoder(.object(members), codingPath: codingPath) }

        func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(for: key) }

        private func decoder(for key: Key) throws -> WireTreeDecoder {
            WireTreeDecoder(member(key) ?? .null, codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let elements: [JSONValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0

        init(elements: [JSONValue], codingPath: [any CodingKey]) {
            self.elements = elements
            self.codingPath = codingPath
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, case .null = elements[currentIndex] else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try next().decodeValue(T.self)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try next().container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try next().unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder { try next() }

        private mutating func next() throws -> WireTreeDecoder {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "No more elements."))
            }
            defer { currentIndex += 1 }
            return WireTreeDecoder(elements[currentIndex], codingPath: codingPath + [WireCoding.WireKey("Index \(currentIndex)")])
        }
    }
}

extension WireTreeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .null = value { true } else { false }
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(type) }
        return bool
    }

    func decode(_ type: String.Type) throws -> String { try decodeValue(type) }
    func decode(_ type: Double.Type) throws -> Double { try number(type) }
    func decode(_ type: Float.Type) throws -> Float { Float(try number(type)) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }

    private func number(_ type: Any.Type) throws -> Double {
        guard case .number(let number) = value else { throw mismatch(type) }
        return number
    }

    /// A number without a fraction that fits `I`.
    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard let integer = I(exactly: try number(type)) else { throw mismatch(type) }
        return integer
    }
}

/// A map with string keys (`EncryptionContext`): its keys are data, never recased.
private protocol StringKeyedMap {
    init(members: [String: JSONValue], codingPath: [any CodingKey]) throws
}

extension Dictionary: StringKeyedMap where Key == String, Value: Decodable {
    fileprivate init(members: [String: JSONValue], codingPath: [any CodingKey]) throws {
        self.init(minimumCapacity: members.count)
        for (key, value) in members {
            self[key] = try WireTreeDecoder(value, codingPath: codingPath + [WireCoding.WireKey(key)]).decodeValue(Value.self)
        }
    }
}
