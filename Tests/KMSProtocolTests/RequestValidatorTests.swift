import Foundation
import KMSService
import Testing

@testable import KMSProtocol

@Suite struct RequestValidatorTests {
    let validator = RequestValidator(model: .kms)

    func validate(_ json: String, _ operation: String) throws(KMSError) {
        guard let value = WireCoding.parse(Data(json.utf8)) else { throw WireCoding.unreadable(JSONValue.self) }
        try validator.validate(value, shape: ServiceModel.kms.operations[operation]!!)
    }

    func message(_ json: String, _ operation: String) -> String? {
        do {
            try validate(json, operation)
            return nil
        } catch {
            return error.code == .validation ? error.message : "\(error.code)"
        }
    }

    @Test func modelCoversEveryOperation() {
        #expect(ServiceModel.kms.operations.count == 54)
        #expect(Array(ServiceModel.cloudTrail.operations.keys) == ["LookupEvents"])
        for name in KMSAPI.handlers.keys where !KMSAPI.extensionOperations.contains(name) {
            #expect(ServiceModel.kms.operations[name] != nil || ServiceModel.cloudTrail.operations[name] != nil, "\(name)")
        }
    }

    /// CloudTrail names an error per member of LookupEvents; the text is the model's usual one.
    @Test func lookupEventsViolationsAreCloudTrailsErrors() throws {
        func refusal(_ json: String) -> KMSError? {
            do {
                _ = try KMSAPI.validate(try #require(WireCoding.parse(Data(json.utf8))), operation: "LookupEvents")
                return nil
            } catch {
                return error as? KMSError
            }
        }
        let maxResults = refusal(#"{"MaxResults":51}"#)
        #expect(maxResults?.code == .invalidMaxResults)
        #expect(
            maxResults?.message
                == "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50"
        )
        #expect(refusal(#"{"LookupAttributes":[{"AttributeKey":"Colour","AttributeValue":"x"}]}"#)?.code == .invalidLookupAttributes)
        #expect(refusal(#"{"LookupAttributes":[{"AttributeKey":"EventName"}]}"#)?.code == .invalidLookupAttributes)
        #expect(refusal(#"{"EventCategory":"outsight"}"#)?.code == .invalidEventCategory)
        #expect(refusal(#"{"StartTime":1796000000,"EndTime":1796000001.5,"NextToken":"t"}"#) == nil)
        #expect(refusal(#"{"StartTime":"yesterday"}"#)?.code == .serialization)
    }

    @Test func lengthOfABlobNeverEchoesIt() {
        let big = Data(repeating: 0x41, count: 4097).base64EncodedString()
        #expect(
            message(#"{"KeyId":"k","Plaintext":"\#(big)"}"#, "Encrypt")
                == "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
        )
    }

    @Test func requiredMembers() {
        #expect(
            message(#"{"Plaintext":"AA=="}"#, "Encrypt")
                == "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
        #expect(message(#"{"KeyId":null,"Plaintext":"AA=="}"#, "Encrypt")?.contains("Value null at 'keyId'") == true)
    }

    @Test func enumsRangesPatternsAndSeveralErrors() {
        #expect(
            message(#"{"KeyId":"k","KeySpec":"AES_512"}"#, "GenerateDataKey")
                == "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
        )
        #expect(
            message(#"{"NumberOfBytes":1025}"#, "GenerateRandom")
                == "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
        )
        #expect(
            message(#"{"AliasName":"alias/bad name!","TargetKeyId":"k"}"#, "CreateAlias")
                == "1 validation error detected: Value 'alias/bad name!' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )
        #expect(
            message(#"{"KeyId":"","NumberOfBytes":0}"#, "GenerateDataKey")
                == "2 validation errors detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
        #expect(
            message(#"{"KeyId":"k","Tags":[{"TagKey":"","TagValue":"v"}]}"#, "TagResource")?
                .contains("Value '' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1")
                == true)
        #expect(message(#"{"KeyId":"k","Plaintext":"AA==","EncryptionContext":{"a":"b"},"GrantTokens":["t"]}"#, "Encrypt") == nil)
        // Java-style \uXXXX ranges in the model's patterns, read as AWS reads them.
        #expect(message(#"{"Marker":"caf\u00e9"}"#, "ListKeys") == nil)
        #expect(
            message(#"{"Marker":"\u20ac"}"#, "ListKeys")
                == #"1 validation error detected: Value '€' at 'marker' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0020-\u00FF]*"#
        )
    }

    @Test func wrongTypesAndBadBase64AreSerializationErrors() {
        #expect(message(#"{"KeyId":5,"Plaintext":"AA=="}"#, "Encrypt") == "serialization")
        #expect(message(#"{"KeyId":"k","Plaintext":"not base64!"}"#, "Encrypt") == "serialization")
        #expect(message(#"{"NumberOfBytes":1.5}"#, "GenerateRandom") == "serialization")
        #expect(message(#"[1]"#, "GenerateRandom") == "serialization")
        expectKMSError(.serialization) { try validate("{", "GenerateRandom") }
    }

    /// What a bad-input sweep found answered 200 (each must be AWS's error).
    @Test func bodiesAndValuesAWSRefuses() {
        // A trailing comma, a byte order mark, a member named twice, deep nesting.
        #expect(message(#"{"KeyId":"k","Plaintext":"AA==",}"#, "Encrypt") == "serialization")
        #expect(message(#"{"KeyIds":["a","b",]}"#, "ListKeys") == "serialization")
        #expect(message("\u{FEFF}{}", "ListKeys") == "serialization")
        #expect(message(#"{"Limit":1,"Limit":2}"#, "ListKeys") == "serialization")
        #expect(message(String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "ListKeys") == "serialization")
        // Names canonically equivalent but not the same bytes would become one Swift key.
        #expect(
            message("{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"EncryptionContext\":{\"caf\u{E9}\":\"1\",\"cafe\u{301}\":\"2\"}}", "Encrypt")
                == "serialization")
        #expect(message(#"{"Limit":1,"\u004cimit":2}"#, "ListKeys") == "serialization")
        // A comma inside a string is no trailing comma.
        #expect(message(#"{"KeyId":"k,}","Plaintext":"AA=="}"#, "Encrypt") == nil)
        // Base64 as AWS reads it: "====" is not one zero byte.
        for bad in ["====", "AA=A", "A===", "AAA", "AA==AA==", "AB\nC="] {
            #expect(message(#"{"KeyId":"k","Plaintext":"\#(bad)"}"#, "Encrypt") == "serialization", "\(bad)")
        }
        #expect(message(#"{"KeyId":"k","Plaintext":"AAE="}"#, "Encrypt") == nil)
        // \w, \d and \s are ASCII, as in Java.
        #expect(message(#"{"KeyId":"k","GranteePrincipal":"é"}"#, "ListGrants")?.contains("regular expression") == true)
        #expect(message(#"{"KeyId":"k","GranteePrincipal":"arn:aws:iam::111122223333:user/a_b+c=d,e.f@g-h"}"#, "ListGrants") == nil)
        #expect(message(#"{"KeyId":"k","PrimaryRegion":"us-east-١"}"#, "UpdatePrimaryRegion")?.contains("regular expression") == true)
        #expect(ServiceModel.asciiClasses(#"^[\w+=,.@:/-]+$"#) == #"^[a-zA-Z0-9_+=,.@:/-]+$"#)
        #expect(ServiceModel.asciiClasses(#"^([a-z]+-){2,3}\d+$"#) == #"^([a-z]+-){2,3}[0-9]+$"#)
    }

    @Test func encryptionContextIsBounded() {
        let pairs = (0..<100).map { #""k\#($0)":"\#(String(repeating: "v", count: 80))""# }.joined(separator: ",")
        let big = #"{"KeyId":"k","Plaintext":"AA==","EncryptionContext":{\#(pairs)}}"#
        #expect(message(big, "Encrypt")?.contains("at most 8192 bytes in all") == true)
        let small = #"{"KeyId":"k","Plaintext":"AA==","EncryptionContext":{"k":"\#(String(repeating: "v", count: 8_000))"}}"#
        #expect(message(small, "Encrypt") == nil)
    }

    @Test func errorStatusesAndBody() throws {
        for code in KMSError.Code.allCases {
            let response = KMSAPI.errorResponse(KMSError(code, "m"))
            #expect(response.status == (code == .internalFailure ? 500 : code == .dependencyTimeout ? 503 : 400))
            let body = try JSONSerialization.jsonObject(with: response.body) as? [String: String]
            #expect(body == ["__type": code.rawValue, "message": "m"])
        }
    }

    @Test func operationNames() {
        #expect(KMSAPI.operationName(target: "TrentService.Encrypt") == "Encrypt")
        #expect(KMSAPI.operationName(target: "TrentService.Bogus") == nil)
        #expect(KMSAPI.operationName(target: "OtherService.Encrypt") == nil)
        #expect(KMSAPI.operationName(target: nil) == nil)
    }

    @Test func timestampsAreEpochSecondsWithoutExponent() throws {
        struct T: Encodable { var creationDate: Date }
        let cases: [(Double, String)] = [
            (1_795_357_803.803, "1795357803.803"), (1_795_357_803, "1795357803"), (1_795_357_803.8, "1795357803.8"),
            (1_795_357_803.001, "1795357803.001"), (1_795_357_803.0004, "1795357803"), (946_684_800.999, "946684800.999"),
            (253_402_300_799.999, "253402300799.999"),  // 9999-12-31T23:59:59.999Z
        ]
        for (seconds, expected) in cases {
            let text = String(decoding: try WireCoding.encode(T(creationDate: Date(timeIntervalSince1970: seconds))), as: UTF8.self)
            #expect(text == #"{"CreationDate":"# + expected + "}")
        }
    }
}
