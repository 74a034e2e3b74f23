import Foundation
import KMSService
import Testing

@testable import KMSProtocol

/// Requests are parsed once and decoded from the tree that was validated: these pin the
/// wire's rules for that decoding.
@Suite struct WireTreeDecoderTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) -> T? {
        guard let tree = WireCoding.parse(Data(json.utf8)) else { return nil }
        return try? WireCoding.decode(T.self, from: tree)
    }

    @Test func membersAsTheWireSpellsThem() throws {
        let request = try #require(
            decode(
                OperationHandler.EncryptRequest.self,
                #"""
                {"KeyId":"alias/a","Plaintext":"aGk=","EncryptionContext":{"Purpose":"x","tenant":"t"},"GrantTokens":["g"],
                 "EncryptionAlgorithm":"SYMMETRIC_DEFAULT","DryRun":false,"Unknown":{"ignored":[1,2]}}
                """#))
        #expect(request.keyId == "alias/a")
        #expect(request.plaintext == Data("hi".utf8))
        // The keys of a map are data: never recased.
        #expect(request.encryptionContext == ["Purpose": "x", "tenant": "t"])
        #expect(request.grantTokens == ["g"])
        #expect(request.encryptionAlgorithm == .symmetricDefault)
        #expect(request.dryRun == false)
    }

    /// JSON 1.1 member names are case-sensitive: `keyId` is an unknown member, not KeyId
    /// (the validator, which reads `KeyId`, would never have seen its value).
    @Test func memberNamesAreCaseSensitive() {
        #expect(decode(OperationHandler.EncryptRequest.self, #"{"keyId":"k","Plaintext":"aGk="}"#) == nil)
        let request = decode(OperationHandler.EncryptRequest.self, #"{"KeyId":"k","Plaintext":"aGk=","dryRun":true}"#)
        #expect(request?.dryRun == nil)
    }

    @Test func nullIsAbsent() {
        let request = decode(OperationHandler.EncryptRequest.self, #"{"KeyId":"k","Plaintext":"aGk=","EncryptionContext":null}"#)
        #expect(request != nil && request?.encryptionContext == nil)
        #expect(decode(OperationHandler.EncryptRequest.self, #"{"KeyId":null,"Plaintext":"aGk="}"#) == nil)
    }

    @Test func kindsAreNotCoerced() {
        #expect(decode(OperationHandler.EncryptRequest.self, #"{"KeyId":"k","Plaintext":"aGk=","DryRun":1}"#) == nil)
        #expect(decode(OperationHandler.EncryptRequest.self, #"{"KeyId":7,"Plaintext":"aGk="}"#) == nil)
        #expect(decode(OperationHandler.EncryptRequest.self, #"{"KeyId":"k","Plaintext":"not base64!"}"#) == nil)
        #expect(decode(OperationHandler.GenerateRandomRequest.self, #"{"NumberOfBytes":32}"#)?.numberOfBytes == 32)
        #expect(decode(OperationHandler.GenerateRandomRequest.self, #"{"NumberOfBytes":32.5}"#) == nil)
        #expect(decode(OperationHandler.GenerateRandomRequest.self, #"{"NumberOfBytes":1e300}"#) == nil)
        #expect(decode(OperationHandler.EncryptRequest.self, #"["KeyId"]"#) == nil)
    }

    @Test func recasingTouchesTheFirstASCIILetterOnly() {
        #expect(WireCoding.recased("keyId", upper: true) == "KeyId")
        #expect(WireCoding.recased("EncryptionAlgorithm", upper: false) == "encryptionAlgorithm")
        #expect(WireCoding.recased("KeyId", upper: true) == "KeyId")
        #expect(WireCoding.recased("", upper: true) == "")
        #expect(WireCoding.recased("éclair", upper: true) == "éclair")
        #expect(WireCoding.recased("x", upper: true) == "X")
    }

    @Test func parsedJSONTellsBooleansFromNumbers() {
        #expect(
            WireCoding.parse(Data("[true,1,0,false,1.5,null]".utf8))
                == .array([.bool(true), .number(1), .number(0), .bool(false), .number(1.5), .null]))
        #expect(WireCoding.parse(Data(#""x""#.utf8)) == .string("x"))
        #expect(WireCoding.parse(Data("{}x".utf8)) == nil)
        #expect(WireCoding.parse(Data(#"{"a":"\ud800"}"#.utf8)) == nil)
        #expect(WireCoding.parse(Data(String(repeating: "[", count: 100_000).utf8)) == nil)
    }
}
