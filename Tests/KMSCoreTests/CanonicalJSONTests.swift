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

    @Test func isAFixedPoint() throws {
        let value = try #require(JSONValue.parse(bytes: Array(Self.python.utf8)))
        #expect(value.canonicalBytes == Array(Self.python.utf8))
    }
}
