import Foundation
import KMSService
import Testing

@testable import KMSProtocol

/// Response bodies are written in one pass: these pin the wire's rules and that misuse of the
/// encoder fails instead of writing a wrong body.
@Suite struct WireEncoderTests {
    func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try WireEncoder.encode(value), as: UTF8.self)
    }

    @Test func membersInPascalCaseInDeclarationOrder() throws {
        let response = OperationHandler.EncryptResponse(
            ciphertextBlob: Data("hi".utf8), keyId: "arn:aws:kms:us-east-1:111122223333:key/k",
            encryptionAlgorithm: "SYMMETRIC_DEFAULT")
        #expect(
            try text(response)
                == #"{"CiphertextBlob":"aGk=","KeyId":"arn:aws:kms:us-east-1:111122223333:key/k","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#)
        #expect(try text(NoOutput()) == "{}")
    }

    enum Shade: String, Encodable { case dark = "DARK" }

    struct Inner: Encodable {
        var name: String
        var flags: [Bool]
    }

    struct Empty: Encodable {}

    struct Everything: Encodable {
        var absent: String?
        var creationDate: Date
        var deletionDate: Date?
        var count: Int
        var ratio: Double
        var shade: Shade
        var context: [String: String]
        var inners: [Inner]
        var nothing: [Inner]
        var empty: Empty
        var maybe: [Int?]
        var nested: [[String: [String]]]
        var escaped: String
    }

    @Test func everyKindOfMember() throws {
        let value = Everything(
            absent: nil, creationDate: Date(timeIntervalSince1970: 1_732_365_605.1234), deletionDate: Date(timeIntervalSince1970: 1_732_365_605),
            count: -42, ratio: 0.5, shade: .dark, context: ["b": "2", "A": "1", "a\"q": "ü"],
            inners: [Inner(name: "x", flags: [true, false]), Inner(name: "y", flags: [])], nothing: [], empty: Empty(),
            maybe: [1, nil], nested: [["k": ["v"]], [:]], escaped: "line\n\t\u{1}/\\")
        let expected =
            #"{"CreationDate":1732365605.123,"DeletionDate":1732365605,"Count":-42,"Ratio":0.5,"Shade":"DARK","#
            + #""Context":{"A":"1","a\"q":"ü","b":"2"},"Inners":[{"Name":"x","Flags":[true,false]},{"Name":"y","Flags":[]}],"#
            + #""Nothing":[],"Empty":{},"Maybe":[1,null],"Nested":[{"k":["v"]},{}],"Escaped":"line\n\t\u0001/\\"}"#
        let written = try text(value)
        #expect(written == expected)
        // And it is JSON by another parser's reading.
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any])
        #expect(parsed["Context"] as? [String: String] == ["b": "2", "A": "1", "a\"q": "ü"])
        #expect(parsed["Escaped"] as? String == "line\n\t\u{1}/\\")
        #expect(parsed["Absent"] == nil)
    }

    struct NotANumber: Encodable {
        var value = Double.nan
    }

    /// Uses a nested container after opening the next one: a streaming writer cannot honour it.
    struct Interleaved: Encodable {
        enum Keys: String, CodingKey { case first, second }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var first = container.nestedUnkeyedContainer(forKey: .first)
            var second = container.nestedUnkeyedContainer(forKey: .second)
            try second.encode(2)
            try first.encode(1)
        }
    }

    struct Super: Encodable {
        enum Keys: String, CodingKey { case value }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try "x".encode(to: container.superEncoder())
        }
    }

    /// Nested containers used one after another are written correctly.
    struct Sequential: Encodable {
        enum Keys: String, CodingKey { case first, second }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var first = container.nestedUnkeyedContainer(forKey: .first)
            try first.encode(1)
            var second = container.nestedContainer(keyedBy: Keys.self, forKey: .second)
            try second.encode("x", forKey: .first)
        }
    }

    @Test func misuseFailsTheEncoding() throws {
        #expect(throws: WireEncoder.Unsupported.self) { try WireEncoder.encode(NotANumber()) }
        #expect(throws: WireEncoder.Unsupported.self) { try WireEncoder.encode(Interleaved()) }
        #expect(throws: WireEncoder.Unsupported.self) { try WireEncoder.encode(Super()) }
        #expect(try text(Sequential()) == #"{"First":[1],"Second":{"First":"x"}}"#)
    }
}
