import Foundation
import KMSCore
import Testing

/// The audit chain's canonical JSON, against what Python's
/// `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` wrote for the same value.
@Suite struct CanonicalJSONTests {
    static let python = #"{"a":{"A":-3,"é":"x\"y\\z\n\r\t\b\f\u0001/"},"b":[1,2.5,true,null],"ü":"日本"}"#

    @Test func matchesPython() throws {
        let value = try #require(JSONValue.parse(#"{"ü": "日本", "b": [1, 2.5, true, null], "a": {"é": "x\"y\\z\n\r\t\b\f\u0001/", "A": -3}}"#))
        #expect(String(decoding: value.canonicalBytes, as: UTF8.self) == Self.python)
    }

    /// Sealing splices the links into the record's canonical JSON made beforehand: the same
    /// bytes as the canonical JSON of the whole record with the links added, wherever the
    /// record's other members sort, and with or without an `additionalEventData` of its own.
    @Test(arguments: [
        #"{"eventName": "Encrypt", "awsRegion": "us-east-1", "ab": 1, "additionalEventDat": 2, "additionalEventDataX": 3}"#,
        #"{"eventName": "Encrypt"}"#, #"{"aa": [1]}"#, #"{}"#,
        #"{"additionalEventData": {"deletionDate": "x", "zeta": 1}, "requestID": "r"}"#,
        #"{"additionalEventData": "not an object", "readOnly": true}"#,
    ])
    func sealingSplicesTheLinks(_ text: String) throws {
        guard case .object(let record)? = JSONValue.parse(text) else { throw CancellationError() }
        let event = AuditEvent(
            chain: "node-1", record: record, eventTime: Date(), eventName: "E", account: nil, region: nil, userName: nil, accessKeyID: nil,
            readOnly: true, errorCode: nil, keyIDs: [])
        let previous = [UInt8](repeating: 7, count: 32)
        var whole = record
        var additional: [String: JSONValue] = [:]
        if case .object(let own)? = record["additionalEventData"] { additional = own }
        additional["auditChain"] = .string("node-1")
        additional["auditSequence"] = .number(42)
        additional["previousEventDigest"] = .string(String(repeating: "07", count: 32))
        whole["additionalEventData"] = .object(additional)
        #expect(AuditChain.seal(event, sequence: 42, previousDigest: previous) == JSONValue.object(whole).canonicalBytes)
    }

    @Test func isAFixedPoint() throws {
        let value = try #require(JSONValue.parse(bytes: Array(Self.python.utf8)))
        #expect(value.canonicalBytes == Array(Self.python.utf8))
    }
}
