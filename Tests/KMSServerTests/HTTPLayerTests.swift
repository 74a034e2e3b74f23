import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KMSServer
import KMSStoreTesting
import Logging
import Testing

/// The HTTP layer through the real routes, without a socket: the request ID middleware,
/// authentication before the body, the body limit, the forward-token and retired
/// on-behalf-of headers, and how errors map to status codes and `__type`.
@Suite struct HTTPLayerTests {
    static let requestID = HTTPField.Name("x-amzn-RequestId")!

    @Test func aSignedRequestRunsAndEveryResponseCarriesItsOwnRequestID() async throws {
        let f = try await ServerFixture()
        try await f.application.test(.router) { client in
            let created = try await f.call(client, "CreateKey", #"{"Description":"http"}"#)
            #expect(created.status == .ok)
            #expect(created.headers[.contentType] == "application/x-amz-json-1.1")
            let metadata = try #require(created.json["KeyMetadata"] as? [String: Any])
            let keyID = try #require(metadata["KeyId"] as? String)
            let encrypted = try await f.call(client, "Encrypt", #"{"KeyId":"\#(keyID)","Plaintext":"aGVsbG8="}"#)
            let blob = try #require(encrypted.json["CiphertextBlob"] as? String)
            let decrypted = try await f.call(client, "Decrypt", #"{"CiphertextBlob":"\#(blob)"}"#)
            #expect(decrypted.json["Plaintext"] as? String == "aGVsbG8=")
            let ids = [created, encrypted, decrypted].compactMap { $0.headers[Self.requestID] }
            #expect(ids.count == 3 && Set(ids).count == 3, "one request ID each, never reused")
            // GetKeyLastUsage reads the trail: the Decrypt just made, by its request ID.
            let usage = try await f.call(client, "GetKeyLastUsage", #"{"KeyId":"\#(keyID)"}"#)
            let last = try #require(usage.json["KeyLastUsage"] as? [String: Any])
            #expect(last["Operation"] as? String == "Decrypt" && last["KmsRequestId"] as? String == decrypted.headers[Self.requestID])
            let policies = try await f.call(client, "ListKeyPolicies", #"{"KeyId":"\#(keyID)"}"#)
            #expect(policies.json["PolicyNames"] as? [String] == ["default"] && policies.json["Truncated"] as? Bool == false)
            // The framework's own answers carry one too.
            let missing = try await client.execute(uri: "/nowhere", method: .get)
            #expect(missing.status == .notFound && missing.headers[Self.requestID] != nil)
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok && String(buffer: health.body) == #"{"status":"ok"}"#)
        }
    }

    /// `/ready` answers 503 until every job has run once, and names each check.
    @Test func readinessWaitsForTheJobsAndNamesEachCheck() async throws {
        let f = try await ServerFixture()
        let readiness = Readiness()
        let job = PeriodicJob(name: "probe", interval: .seconds(3600), logger: .init(label: "test"), readiness: readiness) {}
        let router = buildRouter(api: f.api, credentials: f.credentials, bodyTimeout: .seconds(20), readiness: readiness)
        try await Application(router: router).test(.router) { client in
            let starting = try await client.execute(uri: "/ready", method: .get)
            #expect(starting.status == .serviceUnavailable && String(buffer: starting.body).contains(#""job: probe":"starting""#))
            let run = Task { await job.run() }
            defer { run.cancel() }
            var ready = try await client.execute(uri: "/ready", method: .get)
            for _ in 0..<100 where ready.status != .ok {
                try await Task.sleep(for: .milliseconds(10))
                ready = try await client.execute(uri: "/ready", method: .get)
            }
            #expect(ready.status == .ok && String(buffer: ready.body).contains(#""status":"ready""#))
        }
    }

    /// A run that fails because shutdown cancelled it logs nothing; a run that fails on its own
    /// is logged.
    @Test func aJobInterruptedByShutdownLogsNoFailure() async throws {
        let records = LogRecords()
        let logger = Logger(label: "test") { _ in records }
        let (started, starting) = AsyncStream.makeStream(of: Void.self)
        let interrupted = PeriodicJob(name: "census", interval: .seconds(3600), logger: logger) {
            starting.yield()
            try await Task.sleep(for: .seconds(3600))
        }
        let run = Task { await interrupted.run() }
        for await _ in started { break }
        run.cancel()
        await run.value
        #expect(records.errors.isEmpty)

        struct Broken: Error {}
        let failing = PeriodicJob(name: "broken", interval: .seconds(3600), logger: logger) { throw Broken() }
        let second = Task { await failing.run() }
        for _ in 0..<500 where records.errors.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        second.cancel()
        await second.value
        #expect(records.errors == ["broken job failed"])
    }

    @Test func refusalsAtAuthenticationAreNamedAndCostNoBodyParse() async throws {
        let f = try await ServerFixture()
        try await f.application.test(.router) { client in
            let unsigned = try await client.execute(
                uri: "/", method: .post, headers: [.init("x-amz-target")!: "TrentService.ListKeys"],
                body: ByteBuffer(string: "{}"))
            #expect(unsigned.status == .badRequest && unsigned.errorType == "MissingAuthenticationTokenException")
            let wrongSecret = try await f.call(client, "ListKeys", "{}", secret: "not-the-secret-at-all")
            #expect(wrongSecret.status == .badRequest && wrongSecret.errorType == "InvalidSignatureException")
            // Not JSON at all, but unauthenticated: refused for its signature, not parsed.
            let garbage = try await f.call(client, "ListKeys", "{", secret: "not-the-secret-at-all")
            #expect(garbage.errorType == "InvalidSignatureException")
        }
    }

    @Test func theBodyIsBoundedToOneMebibyte() async throws {
        let f = try await ServerFixture()
        try await f.application.test(.router) { client in
            let big = #"{"Description":""# + String(repeating: "a", count: 1 << 20) + #""}"#
            let response = try await f.call(client, "CreateKey", big)
            #expect(response.status == .badRequest && response.errorType == "SerializationException")
            #expect(try await f.call(client, "ListKeys", "{}").status == .ok, "the server goes on")
        }
    }

    @Test func theOnBehalfOfHeaderOfEarlierVersionsIsRefused() async throws {
        let f = try await ServerFixture()
        try await f.application.test(.router) { client in
            let response = try await f.call(client, "ListKeys", "{}", extra: [("x-swiftkms-on-behalf-of", "arn:aws:iam::111122223333:root")])
            #expect(response.status == .badRequest && response.errorType == "AccessDeniedException")
            #expect((response.json["message"] as? String)?.contains("x-swiftkms-forward-access-token") == true)
            // A forward token outside the signature could have been added on the way: refused.
            var headers = f.signedHeaders(target: "ListKeys", body: Array("{}".utf8))
            headers.append(HTTPField(name: .init("x-swiftkms-forward-access-token")!, value: "swkfat1.AAAA"))
            let unsigned = try await client.execute(uri: "/", method: .post, headers: headers, body: ByteBuffer(string: "{}"))
            #expect(unsigned.errorType == "AccessDeniedException")
        }
    }

    /// Status and `__type` of each kind of failure, as AWS sends them.
    @Test func errorsMapToAWSStatusAndType() async throws {
        let f = try await ServerFixture()
        try await f.application.test(.router) { client in
            // An error without a message (InvalidCiphertextException, UnknownOperationException) has
            // no `message` member, as AWS's.
            let cases: [(target: String?, body: String, status: HTTPResponse.Status, type: String)] = [
                ("DescribeKey", #"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}"#, .badRequest, "NotFoundException"),
                ("DescribeKey", "{", .badRequest, "SerializationException"),
                ("DescribeKey", "{}", .badRequest, "ValidationException"),
                ("NoSuchOperation", "{}", .badRequest, "UnknownOperationException"),
                (nil, "{}", .badRequest, "UnknownOperationException"),
                ("Decrypt", #"{"CiphertextBlob":"AAAA"}"#, .badRequest, "InvalidCiphertextException"),
                ("Encrypt", #"{"KeyId":"alias/none","Plaintext":"===="}"#, .badRequest, "SerializationException"),
            ]
            for c in cases {
                let response = try await f.call(client, c.target, c.body)
                #expect(response.status == c.status && response.errorType == c.type, "\(c.target ?? "no target") \(c.body)")
                if c.type == "InvalidCiphertextException" || c.type == "UnknownOperationException" {
                    #expect(response.json["message"] == nil && response.json["Message"] == nil, "no message member")
                } else {
                    #expect(response.json["message"] != nil || response.json["Message"] != nil, "a message")
                }
            }
        }
    }
}
