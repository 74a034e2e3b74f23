import Crypto
import Foundation
import KMSService
import Testing

@testable import KMSCore

/// AWS's Signature Version 4 test suite, and the ways a signature can be wrong.
@Suite struct SigV4Tests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let principal = Principal.user(account: "111122223333", "alice")
    static let suiteDate = SigV4.parseAmzDate("20150830T123600Z")!

    struct Vector: CustomStringConvertible {
        var name: String
        var request: SigV4.HTTPRequest
        var creq: String
        var sts: String
        var authz: String
        var description: String { name }
    }

    /// Every case of the suite: `NAME.req` parsed into a request (continuation lines of a
    /// header are further values of it), with the expected canonical request, string to
    /// sign and Authorization header beside it.
    static func vectors() throws -> [Vector] {
        let root = Bundle.module.url(forResource: "Resources/sigv4/aws-sig-v4-test-suite", withExtension: nil)!
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
        return try files.filter { $0.pathExtension == "req" && !inconsistent.contains($0.deletingPathExtension().lastPathComponent) }.sorted {
            $0.path < $1.path
        }.map { url in
            let base = url.deletingPathExtension()
            let read = { (ext: String) in try String(contentsOf: base.appendingPathExtension(ext), encoding: .utf8) }
            let text = try read("req")
            let (head, body) = text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) } ?? (text, "")
            var lines = head.components(separatedBy: "\n")
            let requestLine = lines.removeFirst()
            let method = String(requestLine.prefix { $0 != " " })
            let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
            let (path, query) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
            var headers: [(name: String, value: String)] = []
            for line in lines {
                if line.first == " " || line.first == "\t", let last = headers.last {
                    headers.append((last.name, line))
                } else if let colon = line.firstIndex(of: ":") {
                    headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
                }
            }
            return Vector(
                name: base.lastPathComponent,
                request: SigV4.HTTPRequest(method: method, path: path, query: query, headers: headers, body: Data(body.utf8)),
                creq: try read("creq"), sts: try read("sts"), authz: try read("authz"))
        }
    }

    /// Cases whose `.creq` signs `content-length` while their `.authz` does not: no signer can
    /// match both, and other SigV4 implementations leave them out too.
    static let inconsistent: Set = ["post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters"]

    @Test func suiteHasItsCases() throws {
        let names = try Self.vectors().map(\.name)
        #expect(names.count == 29, "\(names)")
    }

    @Test(arguments: try vectors())
    func awsTestSuite(vector: Vector) async throws {
        let auth = try SigV4.parseAuthorization(vector.authz)
        let creq = SigV4.canonicalRequest(vector.request, signedHeaders: auth.signedHeaders)
        #expect(creq == vector.creq)
        let sts = SigV4.stringToSign(canonicalRequest: creq, amzDate: "20150830T123600Z", scope: auth.scope)
        #expect(sts == vector.sts)
        let key = SigV4.signingKey(secret: Self.secret, date: auth.date, region: auth.region, service: auth.service)
        #expect(SigV4.signature(stringToSign: sts, signingKey: key) == auth.signature)
        // The signer (the XKS client's) writes AWS's header from the request alone, where the
        // vector signs every header it carries.
        if Set(vector.request.headers.map { $0.name.lowercased() }).sorted() == auth.signedHeaders {
            let date = try #require(UTCTime.parseBasic("20150830T123600Z"))
            let written = SigV4.authorization(
                for: vector.request, accessKeyID: auth.accessKeyID, secret: Self.secret, region: auth.region, service: auth.service, date: date)
            #expect(written == vector.authz)
        }

        // End to end through verification, with the Authorization header on the request.
        var signed = vector.request
        signed.headers.append(("Authorization", vector.authz))
        if vector.request.values(of: "x-amz-security-token").count > 0 {
            // Session tokens are not issued by SwiftKMS: a request that carries one is refused.
            await #expect(throws: KMSError(.unrecognizedClient, "The security token included in the request is invalid.")) {
                try await verify(signed)
            }
        } else {
            let (principal, region) = try await verify(signed)
            #expect(principal == Self.principal && region == "us-east-1")
        }
    }

    /// The server keeps derived signing keys (`SigV4.SigningKeys`); one must serve only the
    /// secret it was derived from. Checked with an AWS test-suite request, not one we signed.
    @Test func cachedSigningKeysServeOnlyTheSecretTheyCameFrom() async throws {
        let vector = try #require(try Self.vectors().first { $0.request.values(of: "x-amz-security-token").isEmpty })
        var signed = vector.request
        signed.headers.append(("Authorization", vector.authz))
        let keys = SigV4.SigningKeys()
        func verify(secret: String) async throws(KMSError) {
            _ = try await SigV4.verify(signed, now: Self.suiteDate, service: "service", signingKeys: keys) { _ throws(KMSError) in
                (Self.principal, secret)
            }
        }
        try await verify(secret: Self.secret)
        try await verify(secret: Self.secret)  // served from the cache
        await #expect { try await verify(secret: "a-secret-that-replaced-it") } throws: { ($0 as? KMSError)?.code == .invalidSignature }
        try await verify(secret: Self.secret)
    }

    // MARK: Negative cases

    func verify(
        _ request: SigV4.HTTPRequest, now: Date = suiteDate, service: String = "service"
    ) async throws(KMSError) -> (principal: Principal, region: String) {
        let verified = try await SigV4.verify(request, now: now, service: service) { id throws(KMSError) in
            id == "AKIDEXAMPLE" ? (Self.principal, Self.secret) : nil
        }
        #expect(verified.accessKeyID == "AKIDEXAMPLE")
        return (verified.principal, verified.region)
    }

    /// A KMS request signed with `secret` at `date`.
    static func kmsRequest(
        body: String = #"{"KeyId":"alias/demo"}"#, secret: String = secret, accessKey: String = "AKIDEXAMPLE",
        date: String = "20150830T123600Z", extraSigned: [(String, String)] = []
    ) -> SigV4.HTTPRequest {
        var request = SigV4.HTTPRequest(
            method: "POST", path: "/", query: "",
            headers: [
                ("Host", "127.0.0.1:9600"), ("X-Amz-Date", date), ("X-Amz-Target", "TrentService.DescribeKey"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ] + extraSigned, body: Data(body.utf8))
        let signedHeaders = request.headers.map { $0.name.lowercased() }.sorted()
        let scope = "\(date.prefix(8))/us-east-1/kms/aws4_request"
        let sts = SigV4.stringToSign(canonicalRequest: SigV4.canonicalRequest(request, signedHeaders: signedHeaders), amzDate: date, scope: scope)
        let signature = SigV4.signature(
            stringToSign: sts, signingKey: SigV4.signingKey(secret: secret, date: String(date.prefix(8)), region: "us-east-1", service: "kms"))
        request.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
            ))
        return request
    }

    func verifyKMS(_ request: SigV4.HTTPRequest, now: Date = suiteDate) async throws(KMSError) {
        _ = try await verify(request, now: now, service: "kms")
    }

    @Test func validKMSRequestVerifies() async throws {
        try await verifyKMS(Self.kmsRequest())
    }

    @Test func wrongSecretIsInvalidSignature() async {
        await #expect { try await verifyKMS(Self.kmsRequest(secret: "not-the-secret")) } throws: { ($0 as? KMSError)?.code == .invalidSignature }
    }

    @Test func unknownAccessKeyIsUnrecognizedClient() async {
        await #expect { try await verifyKMS(Self.kmsRequest(accessKey: "AKIAUNKNOWN")) } throws: { ($0 as? KMSError)?.code == .unrecognizedClient }
    }

    @Test func tamperedBodyOrHeaderIsInvalidSignature() async {
        var body = Self.kmsRequest()
        body.body = Data(#"{"KeyId":"alias/other"}"#.utf8)
        await #expect { try await verifyKMS(body) } throws: { ($0 as? KMSError)?.code == .invalidSignature }
        var header = Self.kmsRequest()
        header.headers[2].value = "TrentService.ScheduleKeyDeletion"
        await #expect { try await verifyKMS(header) } throws: { ($0 as? KMSError)?.code == .invalidSignature }
    }

    @Test func staleOrFutureDateIsRefused() async {
        let request = Self.kmsRequest()
        await #expect {
            try await verifyKMS(request, now: Self.suiteDate.addingTimeInterval(16 * 60))
        } throws: {
            let error = $0 as? KMSError
            return error?.code == .invalidSignature
                && error?.message == "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)"
        }
        await #expect { try await verifyKMS(request, now: Self.suiteDate.addingTimeInterval(-16 * 60)) } throws: {
            ($0 as? KMSError)?.code == .invalidSignature
        }
        // Within 15 minutes either way is accepted.
        await #expect(throws: Never.self) { try await verifyKMS(request, now: Self.suiteDate.addingTimeInterval(14 * 60)) }
    }

    @Test func missingOrMalformedAuthorization() async {
        var missing = Self.kmsRequest()
        missing.headers.removeAll { $0.name == "Authorization" }
        await #expect { try await verifyKMS(missing) } throws: { ($0 as? KMSError)?.code == .missingAuthenticationToken }
        for bad in [
            "Bearer abc", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE, SignedHeaders=host, Signature=00",
        ] {
            var request = Self.kmsRequest()
            request.headers[request.headers.count - 1].value = bad
            await #expect { try await verifyKMS(request) } throws: { ($0 as? KMSError)?.code == .incompleteSignature }
        }
        var noDate = Self.kmsRequest()
        noDate.headers.removeAll { $0.name == "X-Amz-Date" }
        await #expect { try await verifyKMS(noDate) } throws: { ($0 as? KMSError)?.code == .incompleteSignature }
    }

    @Test func authorizationFieldsAsSDKsWriteThem() throws {
        let auth = try SigV4.parseAuthorization(
            "AWS4-HMAC-SHA256 \tCredential=AKID/20150830/us-east-1/kms/aws4_request ,SignedHeaders=host;x-amz-date,  Signature=ab=")
        #expect(auth.scope == "20150830/us-east-1/kms/aws4_request")
        #expect(auth.accessKeyID == "AKID")
        #expect(auth.signedHeaders == ["host", "x-amz-date"])
        #expect(auth.signature == "ab=")
        // A field without a name or a value is missing.
        for bad in [
            "Credential=, SignedHeaders=host, Signature=00", "Credential=A/B/C/D/E, =host, Signature=00",
            "Credential=A/B/C/D/E, SignedHeaders=host, Signature=",
        ] {
            #expect { try SigV4.parseAuthorization("AWS4-HMAC-SHA256 " + bad) } throws: { ($0 as? KMSError)?.code == .incompleteSignature }
        }
    }

    @Test func headerNamesMatchInAnyCase() async {
        var shouted = Self.kmsRequest()
        shouted.headers = shouted.headers.map { (name: $0.name.uppercased(), value: $0.value) }
        await #expect(throws: Never.self) { try await verifyKMS(shouted) }
    }

    @Test func scopeMustBeKMSAndMatchTheDate() async {
        var wrongService = Self.kmsRequest()
        wrongService.headers[wrongService.headers.count - 1].value = wrongService.headers.last!.value.replacingOccurrences(of: "/kms/", with: "/s3/")
        await #expect { try await verifyKMS(wrongService) } throws: { ($0 as? KMSError)?.code == .invalidSignature }
        var wrongDate = Self.kmsRequest()
        wrongDate.headers[wrongDate.headers.count - 1].value = wrongDate.headers.last!.value.replacingOccurrences(
            of: "/20150830/", with: "/20150831/")
        await #expect { try await verifyKMS(wrongDate) } throws: { ($0 as? KMSError)?.code == .invalidSignature }
    }

    @Test func unsignedHostIsRefused() async {
        var request = Self.kmsRequest()
        request.headers[request.headers.count - 1].value = request.headers.last!.value.replacingOccurrences(
            of: "SignedHeaders=content-type;host;", with: "SignedHeaders=content-type;")
        await #expect { try await verifyKMS(request) } throws: { ($0 as? KMSError)?.code == .invalidSignature }
    }
}
