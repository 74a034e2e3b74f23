import Crypto
import Foundation
import KMSCore
import Logging
import Synchronization

/// The XKS Proxy API in front of a PKCS#11 token, independent of the HTTP server: a request's
/// method, path, headers and body in, a status and JSON body out. In order: the URI path
/// (`InvalidUriPathException`), the method (405), SigV4 with the path's credentials
/// (`AuthenticationFailedException`), the path's quota (`ThrottlingException`), the body
/// (`ValidationException`), then the key and the operation. Every request is audited.
public final class XKSProxy: Sendable {
    /// Largest request body read (before authentication): the specification's largest request
    /// (8192 bytes of AAD and 4300 of ciphertext, Base64, with 2048-character ARNs) fits in it.
    public static let maximumBodyBytes = 64 * 1024
    /// How far a request's `X-Amz-Date` may be from the proxy's clock (the specification: 5 minutes).
    static let allowedSkew: TimeInterval = 5 * 60
    /// Largest plaintext, ciphertext and AAD accepted (the specification's minimums are 4300
    /// and 8192 bytes); larger is `UnsupportedOperationException`.
    static let maximumDataBytes = 8192
    static let maximumAADBytes = 16384

    struct Settings: Sendable {
        var uriPaths: [String: XKSProxyConfiguration.URIPath]
        var keys: [String: XKSProxyConfiguration.Key]
    }

    private let settings: Mutex<Settings>
    private let quotas = Mutex<[String: TokenBucket]>([:])
    let keys: XKSTokenKeys
    private let audit: XKSAuditLog
    private let logger: Logger
    private let now: @Sendable () -> Date

    init(
        configuration: XKSProxyConfiguration, keys: XKSTokenKeys, audit: XKSAuditLog, logger: Logger, now: @escaping @Sendable () -> Date = Date.init
    ) {
        settings = Mutex(Self.settings(of: configuration))
        self.keys = keys
        self.audit = audit
        self.logger = logger
        self.now = now
    }

    private static func settings(of configuration: XKSProxyConfiguration) -> Settings {
        Settings(
            uriPaths: Dictionary(configuration.uriPaths.map { ($0.uriPath, $0) }, uniquingKeysWith: { first, _ in first }),
            keys: configuration.keys ?? [:])
    }

    /// Takes the credentials, quotas and key settings of a configuration read again (SIGHUP);
    /// requests already running finish with the previous ones.
    func reload(_ configuration: XKSProxyConfiguration) {
        settings.withLock { $0 = Self.settings(of: configuration) }
        quotas.withLock { $0.removeAll() }
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        /// `Allow: POST` with a 405.
        public var allow: String?
    }

    /// The operation a URI names.
    enum Operation: String {
        case health = "GetHealthStatus", metadata = "GetKeyMetadata", encrypt = "Encrypt", decrypt = "Decrypt"
    }

    /// Answers one request. `path` is the URI path without the query; `body` is nil when it
    /// was longer than `maximumBodyBytes` (and not read further).
    public func respond(
        method: String, path: String, headers: [(name: String, value: String)], body: Data?, sourceIP: String?
    ) async -> Response {
        let started = ContinuousClock.now
        var record = XKSAuditLog.Record(
            time: UTCTime.extended(now()), xksOperation: "-", sourceIp: sourceIP, httpStatus: 200, durationMs: 0)
        let response: Response
        do {
            response = try await handle(method: method, path: path, headers: headers, body: body, record: &record)
        } catch {
            record.errorName = error.name.rawValue
            record.errorMessage = error.message
            if error.name == .accessDenied || error.name == .authenticationFailed {
                logger.notice(
                    "XKS request refused",
                    metadata: ["errorName": "\(error.name.rawValue)", "reason": "\(error.message)", "kmsRequestId": "\(record.kmsRequestId ?? "-")"])
            }
            let json = try? JSONEncoder().encode(XKS.ErrorResponse(errorName: error.name.rawValue, errorMessage: error.message))
            response = Response(status: error.name.httpStatus, body: json ?? Data())
        }
        record.httpStatus = response.status
        let elapsed = ContinuousClock.now - started
        record.durationMs = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        audit.append(record)
        return response
    }

    private func handle(
        method: String, path: String, headers: [(name: String, value: String)], body: Data?, record: inout XKSAuditLog.Record
    ) async throws(XKSFailure) -> Response {
        let current = settings.withLock { $0 }
        let (uriPath, operation, keyID) = try route(path, current)
        record.uriPath = uriPath.uriPath
        record.xksOperation = operation.rawValue
        record.externalKeyId = keyID
        guard method == "POST" else {
            return Response(status: 405, body: Data(), allow: "POST")
        }
        guard let body, body.count <= Self.maximumBodyBytes else {
            throw XKSFailure(.unsupportedOperation, "The request body exceeds \(Self.maximumBodyBytes) bytes.")
        }
        record.accessKeyId = try authenticate(method: method, path: path, headers: headers, body: body, uriPath)
        if let rate = uriPath.requestsPerSecond {
            let allowed = quotas.withLock { buckets in
                buckets[uriPath.uriPath, default: TokenBucket(rate: rate)].take(at: ContinuousClock.now)
            }
            guard allowed else { throw XKSFailure(.throttling, "The request rate for this URI path exceeds its quota.") }
        }
        switch operation {
        case .health:
            let request: XKS.MetadataOnlyRequest = try decode(body)
            _ = try requireMetadata(request.requestMetadata, principal: false, key: false, &record)
            let ekm = await keys.health()
            return try encode(
                XKS.HealthResponse(
                    xksProxyFleetSize: 1, xksProxyVendor: "SwiftKMS", xksProxyModel: "swiftkms xks-proxy 1.0",
                    ekmVendor: ekm.model?.split(separator: " ").first.map(String.init) ?? "PKCS#11", ekmFleetDetails: [ekm]))
        case .metadata:
            let request: XKS.MetadataOnlyRequest = try decode(body)
            let metadata = try requireMetadata(request.requestMetadata, principal: true, key: false, &record)
            let keyID = keyID ?? ""
            try authorize(metadata, keyID, current)
            guard let attributes = try await keys.attributes(of: keyID) else { throw XKSFailure(.keyNotFound, "No external key has this ID.") }
            return try encode(
                XKS.KeyMetadataResponse(
                    keySpec: "AES_\(attributes.bits)", keyUsage: attributes.usage, keyStatus: enabled(keyID, current) ? "ENABLED" : "DISABLED"))
        case .encrypt:
            let request: XKS.EncryptRequest = try decode(body)
            let metadata = try requireMetadata(request.requestMetadata, principal: true, key: true, &record)
            let plaintext = try binary(request.plaintext, "plaintext", limit: Self.maximumDataBytes)
            let aad = try optionalBinary(request.additionalAuthenticatedData, "additionalAuthenticatedData", limit: Self.maximumAADBytes)
            try checkAlgorithm(request.encryptionAlgorithm)
            if let cdiv = request.ciphertextDataIntegrityValueAlgorithm, cdiv != XKS.sha256 {
                throw XKSFailure(.validation, "ciphertextDataIntegrityValueAlgorithm must be SHA_256.")
            }
            let keyID = keyID ?? ""
            let sealed = try await keys.encrypt(
                keyID, plaintext: plaintext, aad: Self.tokenAAD(aad: aad ?? [], ciphertextMetadata: []),
                permit: try permit(keyID, for: .encrypt, metadata, current))
            var integrity: [UInt8]?
            if request.ciphertextDataIntegrityValueAlgorithm != nil {
                // Appendix C: the CDIV over the output first, then a decryption of that output.
                integrity = XKS.ciphertextDataIntegrityValue(
                    aad: aad ?? [], ciphertextMetadata: [], iv: sealed.iv, ciphertext: sealed.ciphertext, tag: sealed.tag)
                let opened = try await keys.decrypt(
                    keyID, iv: sealed.iv, ciphertext: sealed.ciphertext, tag: sealed.tag, aad: Self.tokenAAD(aad: aad ?? [], ciphertextMetadata: []))
                guard ConstantTime.equals(opened, plaintext) else {
                    throw XKSFailure(.internalFailure, "The HSM's ciphertext did not decrypt to the plaintext.")
                }
            }
            return try encode(
                XKS.EncryptResponse(
                    ciphertext: sealed.ciphertext, ciphertextMetadata: nil, initializationVector: sealed.iv, authenticationTag: sealed.tag,
                    ciphertextDataIntegrityValue: integrity))
        case .decrypt:
            let request: XKS.DecryptRequest = try decode(body)
            let metadata = try requireMetadata(request.requestMetadata, principal: true, key: true, &record)
            let ciphertext = try binary(request.ciphertext, "ciphertext", limit: Self.maximumDataBytes)
            let aad = try optionalBinary(request.additionalAuthenticatedData, "additionalAuthenticatedData", limit: Self.maximumAADBytes)
            let ciphertextMetadata = try optionalBinary(request.ciphertextMetadata, "ciphertextMetadata", limit: Self.maximumDataBytes)
            let iv = try binary(request.initializationVector, "initializationVector", limit: 64)
            let tag = try binary(request.authenticationTag, "authenticationTag", limit: 64)
            try checkAlgorithm(request.encryptionAlgorithm)
            guard (ciphertextMetadata?.count ?? 0) <= XKS.maximumCiphertextMetadata else {
                throw XKSFailure(.validation, "ciphertextMetadata must be at most 20 bytes.")
            }
            guard iv.count == 12 || iv.count == 16, tag.count == 16 else {
                throw XKSFailure(.invalidCiphertext, "The initialization vector must be 12 or 16 bytes and the tag 16.")
            }
            let keyID = keyID ?? ""
            let plaintext = try await keys.decrypt(
                keyID, iv: iv, ciphertext: ciphertext, tag: tag, aad: Self.tokenAAD(aad: aad ?? [], ciphertextMetadata: ciphertextMetadata ?? []),
                permit: try permit(keyID, for: .decrypt, metadata, current))
            return try encode(XKS.DecryptResponse(plaintext: plaintext))
        }
    }

    /// The AAD given to the token: the lengths make AAD and ciphertext metadata unambiguous
    /// (2-byte big-endian length of the AAD, the AAD, 1-byte length of the metadata, the metadata).
    static func tokenAAD(aad: [UInt8], ciphertextMetadata: [UInt8]) -> [UInt8] {
        [UInt8(aad.count >> 8 & 0xFF), UInt8(aad.count & 0xFF)] + aad + [UInt8(ciphertextMetadata.count)] + ciphertextMetadata
    }

    // MARK: Steps

    /// The configured URI path the request is under, its operation and external key ID.
    private func route(_ path: String, _ settings: Settings) throws(XKSFailure) -> (XKSProxyConfiguration.URIPath, Operation, String?) {
        let invalid = XKSFailure(.invalidURIPath, "The URI path is not one this proxy serves.")
        guard let range = path.range(of: "/kms/xks/v1/", options: .backwards) else { throw invalid }
        let base = String(path[..<range.upperBound].dropLast())
        guard let uriPath = settings.uriPaths[base] else { throw invalid }
        let rest = path[range.upperBound...]
        if rest == "health" { return (uriPath, .health, nil) }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "keys" else { throw invalid }
        let operation: Operation
        switch parts[2] {
        case "metadata": operation = .metadata
        case "encrypt": operation = .encrypt
        case "decrypt": operation = .decrypt
        default: throw invalid
        }
        guard XKS.isValidExternalKeyID(parts[1]) else {
            throw XKSFailure(.validation, "An external key ID is 1 to 128 letters, digits, hyphens, periods and underscores.")
        }
        return (uriPath, operation, String(parts[1]))
    }

    /// SigV4 for service `kms-xks-proxy` with one of the path's credentials; returns the access key ID.
    private func authenticate(
        method: String, path: String, headers: [(name: String, value: String)], body: Data, _ uriPath: XKSProxyConfiguration.URIPath
    ) throws(XKSFailure) -> String {
        let request = SigV4.HTTPRequest(method: method, path: path, query: "", headers: headers, body: body)
        do throws(KMSError) {
            let checked = try SigV4.preflight(
                request, now: now(), service: XKS.signingService, requiredSignedHeaders: ["host", "x-amz-date"], allowedSkew: Self.allowedSkew)
            let accessKeyID = checked.authorization.accessKeyID
            guard let credential = uriPath.credentials.first(where: { ConstantTime.equals($0.accessKeyId, accessKeyID) }) else {
                throw KMSError(.unrecognizedClient, "The access key ID is not configured for this URI path.")
            }
            try SigV4.verifySignature(request, checked, secret: credential.secretAccessKey)
            return accessKeyID
        } catch {
            throw XKSFailure(.authenticationFailed, Self.printable(error.message))
        }
    }

    private func decode<T: Decodable>(_ body: Data) throws(XKSFailure) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch {
            throw XKSFailure(.validation, "The request body is not a valid JSON request for this operation.")
        }
    }

    private func encode(_ value: some Encodable) throws(XKSFailure) -> Response {
        guard let body = try? JSONEncoder().encode(value) else { throw XKSFailure(.internalFailure, "The response could not be encoded.") }
        return Response(status: 200, body: body)
    }

    /// The request metadata with its required members, recorded for the audit log.
    private func requireMetadata(
        _ metadata: XKS.RequestMetadata?, principal: Bool, key: Bool, _ record: inout XKSAuditLog.Record
    ) throws(XKSFailure) -> XKS.RequestMetadata {
        guard let metadata else { throw XKSFailure(.validation, "requestMetadata is required.") }
        record.kmsRequestId = metadata.kmsRequestId.map { String($0.prefix(256)) }
        record.kmsOperation = metadata.kmsOperation.map { String($0.prefix(256)) }
        record.awsPrincipalArn = metadata.awsPrincipalArn.map { String($0.prefix(2048)) }
        record.kmsKeyArn = metadata.kmsKeyArn.map { String($0.prefix(2048)) }
        record.kmsViaService = metadata.kmsViaService.map { String($0.prefix(256)) }
        var missing: [String] = []
        if metadata.kmsRequestId == nil { missing.append("kmsRequestId") }
        if metadata.kmsOperation == nil { missing.append("kmsOperation") }
        if principal, metadata.awsPrincipalArn == nil { missing.append("awsPrincipalArn") }
        if key, metadata.kmsKeyArn == nil { missing.append("kmsKeyArn") }
        guard missing.isEmpty else { throw XKSFailure(.validation, "requestMetadata lacks \(missing.joined(separator: ", ")).") }
        return metadata
    }

    private func binary(_ value: String?, _ name: String, limit: Int) throws(XKSFailure) -> [UInt8] {
        guard let value else { throw XKSFailure(.validation, "\(name) is required.") }
        guard let bytes = Data(base64Encoded: value) else { throw XKSFailure(.validation, "\(name) is not valid Base64.") }
        guard bytes.count <= limit else {
            throw XKSFailure(.unsupportedOperation, "\(name) exceeds the \(limit) bytes this proxy supports.")
        }
        return Array(bytes)
    }

    private func optionalBinary(_ value: String?, _ name: String, limit: Int) throws(XKSFailure) -> [UInt8]? {
        guard let value else { return nil }
        return try binary(value, name, limit: limit)
    }

    private func checkAlgorithm(_ algorithm: String?) throws(XKSFailure) {
        guard let algorithm else { throw XKSFailure(.validation, "encryptionAlgorithm is required.") }
        guard algorithm == XKS.aesGCM else { throw XKSFailure(.validation, "encryptionAlgorithm must be AES_GCM.") }
    }

    private func enabled(_ keyID: String, _ settings: Settings) -> Bool {
        settings.keys[keyID]?.status != "DISABLED"
    }

    /// Secondary authorization: a key with `allowedPrincipals` serves only those principals.
    private func authorize(_ metadata: XKS.RequestMetadata, _ keyID: String, _ settings: Settings) throws(XKSFailure) {
        guard let allowed = settings.keys[keyID]?.allowedPrincipals else { return }
        let principal = metadata.awsPrincipalArn ?? ""
        guard allowed.contains(where: { Self.matches(principal, pattern: $0) }) else {
            throw XKSFailure(.accessDenied, "The principal is not in allowedPrincipals of this external key.")
        }
    }

    /// Checks the principal now, and gives what the token's key must then be: enabled, 256 bits,
    /// allowing `operation` (checked in the session that finds the key).
    private func permit(
        _ keyID: String, for operation: Operation, _ metadata: XKS.RequestMetadata, _ settings: Settings
    ) throws(XKSFailure) -> XKSTokenKeys.Permit {
        try authorize(metadata, keyID, settings)
        let enabled = enabled(keyID, settings)
        return { attributes throws(XKSFailure) in
            guard enabled else { throw XKSFailure(.invalidState, "The external key is disabled.") }
            guard attributes.bits == 256, operation == .encrypt ? attributes.encrypts : attributes.decrypts else {
                throw XKSFailure(.invalidKeyUsage, "The external key does not allow \(operation.rawValue).")
            }
        }
    }

    /// `*` in `pattern` matches any run of characters; everything else itself.
    static func matches(_ text: String, pattern: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return text == pattern }
        var rest = Substring(text)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for (index, part) in parts.enumerated().dropFirst() {
            if index == parts.count - 1 { return part.isEmpty || rest.hasSuffix(part) && rest.count >= part.count }
            guard let found = rest.range(of: part) else { return false }
            rest = rest[found.upperBound...]
        }
        return true
    }

    /// A message safe for `errorMessage`: printable ASCII, under 512 characters.
    static func printable(_ text: String) -> String {
        String(String(decoding: text.utf8.filter { (0x20...0x7E).contains($0) }, as: UTF8.self).prefix(511))
    }
}

/// A request quota: `rate` requests per second on average, bursts up to one second's worth.
struct TokenBucket: Sendable {
    let rate: Double
    var tokens: Double
    var updated: ContinuousClock.Instant?

    init(rate: Double) {
        self.rate = rate
        tokens = max(rate, 1)
    }

    mutating func take(at now: ContinuousClock.Instant) -> Bool {
        if let updated {
            let elapsed = now - updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(max(rate, 1), tokens + seconds * rate)
        }
        updated = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
