import Crypto
import Foundation

/// AWS Signature Version 4: the canonical request, string to sign and signature of an
/// HTTP request, and verification of a request's `Authorization` header.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// How far a request's `X-Amz-Date` may be from the server clock.
    public static let allowedSkew: TimeInterval = 15 * 60

    /// An HTTP request as signed: header names in any case, the query undecoded.
    public struct HTTPRequest: Sendable {
        public var method: String
        public var path: String
        public var query: String
        public var headers: [(name: String, value: String)]
        public var body: Data

        public init(method: String, path: String, query: String, headers: [(name: String, value: String)], body: Data) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }

        /// All values of a header, in order. `name` is lowercase; header names are ASCII tokens,
        /// compared without case.
        func values(of name: String) -> [String] {
            headers.filter { Self.equalsIgnoringASCIICase($0.name, lowercase: name) }.map(\.value)
        }

        private static func equalsIgnoringASCIICase(_ name: String, lowercase: String) -> Bool {
            name.utf8.elementsEqual(lowercase.utf8) { byte, lower in byte.asciiLowercased == lower }
        }
    }

    /// The parsed `Authorization` header.
    public struct Authorization: Sendable, Equatable {
        public var accessKeyID: String
        public var date: String
        public var region: String
        public var service: String
        public var terminator: String
        public var signedHeaders: [String]
        /// Lowercase hex, as sent.
        public var signature: String

        public var scope: String { "\(date)/\(region)/\(service)/\(terminator)" }
    }

    // MARK: Signing

    public static func canonicalRequest(_ request: HTTPRequest, signedHeaders: [String]) -> String {
        String(decoding: canonicalRequestBytes(request, signedHeaders: signedHeaders), as: UTF8.self)
    }

    public static func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        String(decoding: stringToSignBytes(canonicalRequest: Array(canonicalRequest.utf8), amzDate: amzDate, scope: scope), as: UTF8.self)
    }

    /// The canonical request written into one buffer: verification only hashes it.
    static func canonicalRequestBytes(_ request: HTTPRequest, signedHeaders: [String]) -> [UInt8] {
        let newline = UInt8(ascii: "\n")
        var out: [UInt8] = []
        out.reserveCapacity(256 + request.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 })
        out += request.method.utf8
        out.append(newline)
        out += canonicalURI(request.path).utf8
        out.append(newline)
        if !request.query.isEmpty { out += canonicalQuery(request.query).utf8 }
        out.append(newline)
        for name in signedHeaders {
            out += name.utf8
            out.append(UInt8(ascii: ":"))
            for (index, value) in request.values(of: name).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendNormalizedHeaderValue(value, to: &out)
            }
            out.append(newline)
        }
        out.append(newline)
        for (index, name) in signedHeaders.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ";")) }
            out += name.utf8
        }
        out.append(newline)
        out += Hex.encode(SHA256.hash(data: request.body)).utf8
        return out
    }

    static func stringToSignBytes(canonicalRequest: [UInt8], amzDate: String, scope: String) -> [UInt8] {
        var out = Array(algorithm.utf8)
        out.reserveCapacity(algorithm.utf8.count + amzDate.utf8.count + scope.utf8.count + 3 + 2 * SHA256.byteCount)
        for part in [amzDate, scope] {
            out.append(UInt8(ascii: "\n"))
            out += part.utf8
        }
        out.append(UInt8(ascii: "\n"))
        out += Hex.encode(SHA256.hash(data: canonicalRequest)).utf8
        return out
    }

    public static func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// Signing keys already derived (four HMACs each), by access key and credential scope, as
    /// SDKs keep them. An entry serves only the secret it was derived from; both secrets come
    /// from the store, never from a request.
    public final class SigningKeys: Sendable {
        private let keys = BoundedCache<String, (secret: String, key: SymmetricKey)>(limit: 10_000)

        public init() {}

        func key(accessKeyID: String, secret: String, date: String, region: String, service: String) -> SymmetricKey {
            let scope = "\(accessKeyID)/\(date)/\(region)/\(service)"
            if let hit = keys[scope], ConstantTime.equals(hit.secret, secret) { return hit.key }
            let key = SigV4.signingKey(secret: secret, date: date, region: region, service: service)
            keys.set((secret, key), for: scope)
            return key
        }
    }

    public static func signature(stringToSign: String, signingKey: SymmetricKey) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey))
    }

    /// The `Authorization` header value for `request` signed at `date` with every header it
    /// carries (names lowercased; the caller adds `host` and `x-amz-date` first).
    public static func authorization(
        for request: HTTPRequest, accessKeyID: String, secret: String, region: String, service: String, date: Date
    ) -> String {
        let amzDate = formatAmzDate(date)
        let day = String(amzDate.prefix(8))
        let signedHeaders = Set(request.headers.map { $0.name.lowercased() }).sorted()
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let canonical = canonicalRequestBytes(request, signedHeaders: signedHeaders)
        let toSign = stringToSignBytes(canonicalRequest: canonical, amzDate: amzDate, scope: scope)
        let key = signingKey(secret: secret, date: day, region: region, service: service)
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: toSign, using: key))
        return "\(algorithm) Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
    }

    // MARK: Verification

    /// Parses `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
    /// SignedHeaders=a;b, Signature=HEX`. A malformed header is `IncompleteSignatureException`.
    public static func parseAuthorization(_ header: String) throws(KMSError) -> Authorization {
        guard header.hasPrefix(algorithm + " ") else {
            throw KMSError(.incompleteSignature, "Unsupported authorization type; only \(algorithm) is accepted.")
        }
        // Split as UTF-8 bytes: splitting the String by Characters (grapheme clusters) was a
        // third of a verification. Every delimiter is ASCII, so no multi-byte sequence is cut.
        func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var fields: [String: String] = [:]
        for part in Array(header.utf8.dropFirst(algorithm.utf8.count + 1)).split(separator: UInt8(ascii: ",")) {
            var field = part.drop(while: isBlank)
            while let last = field.last, isBlank(last) { field = field.dropLast() }
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = field[..<equals], value = field[(equals + 1)...]
            if !name.isEmpty, !value.isEmpty { fields[text(name)] = text(value) }
        }
        let missing = ["Credential", "SignedHeaders", "Signature"].filter { fields[$0] == nil }
        guard missing.isEmpty, let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw KMSError(.incompleteSignature, missing.map { "Authorization header requires '\($0)' parameter." }.joined(separator: " "))
        }
        let scope = Array(credential.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(text)
        guard scope.count == 5, !scope[0].isEmpty else {
            throw KMSError(
                .incompleteSignature, "Authorization header requires a Credential of the form ACCESS_KEY/DATE/REGION/SERVICE/aws4_request.")
        }
        return Authorization(
            accessKeyID: scope[0], date: scope[1], region: scope[2], service: scope[3], terminator: scope[4],
            signedHeaders: Array(signedHeaders.utf8).split(separator: UInt8(ascii: ";")).map(text), signature: signature)
    }

    /// What SigV4 can check of a request before its body is read: the parsed `Authorization`
    /// header and the request's `X-Amz-Date`.
    public struct Preflight: Sendable {
        public var authorization: Authorization
        public var amzDate: String
    }

    /// Checks a request's signing headers without its body or secret: one `Authorization` and
    /// one `X-Amz-Date`, a well-formed scope for `service`, a date within the allowed skew, and
    /// `requiredSignedHeaders` (lowercase) among the signed headers. Costs no store read.
    public static func preflight(
        _ request: HTTPRequest, now: Date, service: String = "kms", requiredSignedHeaders: [String] = ["host"],
        allowedSkew: TimeInterval = SigV4.allowedSkew
    ) throws(KMSError) -> Preflight {
        let headers = request.values(of: "authorization")
        guard let header = headers.first else {
            throw KMSError(.missingAuthenticationToken, "Missing Authentication Token")
        }
        guard headers.count == 1 else {
            throw KMSError(.incompleteSignature, "The request must carry exactly one Authorization header.")
        }
        let auth = try parseAuthorization(header)
        let dates = request.values(of: "x-amz-date")
        guard let amzDate = dates.first else {
            throw KMSError(.incompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        guard dates.count == 1 else {
            throw KMSError(.incompleteSignature, "The request must carry exactly one X-Amz-Date header.")
        }
        guard let requestDate = parseAmzDate(amzDate) else {
            throw KMSError(
                .incompleteSignature,
                "Date must be in ISO-8601 'basic format'. Got '\(amzDate.prefix(64))'. See http://en.wikipedia.org/wiki/ISO_8601")
        }
        guard auth.service == service else {
            throw KMSError(.invalidSignature, "Credential should be scoped to correct service: '\(service)'.")
        }
        guard auth.terminator == "aws4_request" else {
            throw KMSError(
                .invalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '\(auth.terminator.prefix(64))'.")
        }
        guard auth.date == String(amzDate.prefix(8)) else {
            throw KMSError(
                .invalidSignature,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\(auth.date.prefix(64))' != '\(amzDate.prefix(8))', from '\(amzDate)'."
            )
        }
        guard isValidRegion(auth.region) else {
            throw KMSError(.invalidSignature, "Credential should be scoped to a valid region.")
        }
        guard auth.signedHeaders == auth.signedHeaders.map({ $0.lowercased() }).sorted() else {
            throw KMSError(.invalidSignature, signatureMismatch)
        }
        for name in requiredSignedHeaders where !auth.signedHeaders.contains(name) {
            throw KMSError(.invalidSignature, "The '\(name)' header must be among the signed headers (SignedHeaders).")
        }
        if now.timeIntervalSince(requestDate) > allowedSkew {
            throw KMSError(
                .invalidSignature,
                "Signature expired: \(amzDate) is now earlier than \(formatAmzDate(now.addingTimeInterval(-allowedSkew))) (\(formatAmzDate(now)) - \(Int(allowedSkew / 60)) min.)"
            )
        }
        if requestDate.timeIntervalSince(now) > allowedSkew {
            throw KMSError(
                .invalidSignature,
                "Signature not yet current: \(amzDate) is still later than \(formatAmzDate(now.addingTimeInterval(allowedSkew))) (\(formatAmzDate(now)) + \(Int(allowedSkew / 60)) min.)"
            )
        }
        // Session credentials (STS) are not issued by this server, so no token is valid.
        guard request.values(of: "x-amz-security-token").isEmpty else {
            throw KMSError(.unrecognizedClient, "The security token included in the request is invalid.")
        }
        return Preflight(authorization: auth, amzDate: amzDate)
    }

    static let signatureMismatch =
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

    /// Checks the signature of a request whose headers passed `preflight`, with the secret of
    /// its access key (looked up by the caller: a key this server does not know never gets here).
    public static func verifySignature(
        _ request: HTTPRequest, _ preflight: Preflight, secret: String, signingKeys: SigningKeys? = nil
    ) throws(KMSError) {
        let auth = preflight.authorization
        let canonical = canonicalRequestBytes(request, signedHeaders: auth.signedHeaders)
        let toSign = stringToSignBytes(canonicalRequest: canonical, amzDate: preflight.amzDate, scope: auth.scope)
        let key =
            signingKeys?.key(accessKeyID: auth.accessKeyID, secret: secret, date: auth.date, region: auth.region, service: auth.service)
            ?? signingKey(secret: secret, date: auth.date, region: auth.region, service: auth.service)
        // Constant-time comparison of the MAC, by swift-crypto.
        guard let provided = Hex.decode(auth.signature), provided.count == SHA256.byteCount,
            HMAC<SHA256>.isValidAuthenticationCode(provided, authenticating: toSign, using: key)
        else {
            throw KMSError(.invalidSignature, signatureMismatch)
        }
    }

    /// Verifies a request signed for `service`: `preflight`, the access key's secret, then the
    /// signature.
    ///
    /// - Parameter secret: looks up an access key's principal and secret; nil when unknown.
    /// - Returns: the signing principal, the region of the credential scope and the access key ID.
    public static func verify(
        _ request: HTTPRequest, now: Date, service: String = "kms", requiredSignedHeaders: [String] = ["host"], signingKeys: SigningKeys? = nil,
        secret lookup: (String) async throws(KMSError) -> (principal: Principal, secret: String)?
    ) async throws(KMSError) -> (principal: Principal, region: String, accessKeyID: String) {
        let checked = try preflight(request, now: now, service: service, requiredSignedHeaders: requiredSignedHeaders)
        let auth = checked.authorization
        guard let (principal, secret) = try await lookup(auth.accessKeyID) else {
            throw KMSError(.unrecognizedClient, "The security token included in the request is invalid.")
        }
        try verifySignature(request, checked, secret: secret, signingKeys: signingKeys)
        return (principal, auth.region, auth.accessKeyID)
    }

    // MARK: Canonical forms

    /// Appends a header value trimmed, with runs of whitespace collapsed to one space.
    static func appendNormalizedHeaderValue(_ value: String, to out: inout [UInt8]) {
        let start = out.count
        var blankBefore = false
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                blankBefore = out.count > start
            default:
                if blankBefore { out.append(UInt8(ascii: " ")) }
                blankBefore = false
                out.append(byte)
            }
        }
    }

    /// The path with `.` and `..` segments resolved and empty segments removed, each segment
    /// URI-encoded (non-S3 rules).
    static func canonicalURI(_ path: String) -> String {
        var segments: [String] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(uriEncode(String(segment).removingPercentEncoding ?? String(segment)))
            }
        }
        let joined = "/" + segments.joined(separator: "/")
        return path.hasSuffix("/") && !segments.isEmpty ? joined + "/" : joined
    }

    /// Parameters sorted by name then value, each name and value URI-encoded.
    static func canonicalQuery(_ query: String) -> String {
        func decode(_ part: Substring) -> String { String(part).removingPercentEncoding ?? String(part) }
        var parameters: [(name: String, value: String)] = []
        for parameter in query.split(separator: "&") {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = pair.count > 1 ? uriEncode(decode(pair[1])) : ""
            parameters.append((uriEncode(decode(pair[0])), value))
        }
        parameters.sort { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return parameters.map { p in p.name + "=" + p.value }.joined(separator: "&")
    }

    /// RFC 3986 encoding: unreserved characters as they are, every other byte as `%XX`.
    static func uriEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    public static func isValidRegion(_ region: String) -> Bool {
        guard !region.isEmpty, region.utf8.count <= 32 else { return false }
        return region.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
        }
    }

    /// `X-Amz-Date`: ISO 8601 basic format, `20150830T123600Z`, exactly.
    static func parseAmzDate(_ text: String) -> Date? {
        UTCTime.parseBasic(text)
    }

    static func formatAmzDate(_ date: Date) -> String {
        UTCTime.basic(date)
    }
}
