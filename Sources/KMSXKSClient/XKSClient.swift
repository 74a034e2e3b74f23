import AsyncHTTPClient
import Foundation
import KMSCore
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// SwiftKMS's side of the XKS Proxy API: the four calls to an external key store's proxy over
/// HTTPS, signed with SigV4 (service `kms-xks-proxy`), each answered within `timeout` (AWS's
/// 250 ms) or failed. An answer is checked as KMS checks it: a JSON body of the expected shape,
/// sizes in bounds, and on Encrypt the ciphertext data integrity value.
public final class XKSClient: Sendable {
    /// A store's proxy settings with what signing needs besides: the raw secret access key and
    /// the KMS region the call comes from (the credential scope's region).
    public struct Proxy: Sendable {
        public var settings: XKSProxySettings
        public var secret: String
        public var region: String

        public init(settings: XKSProxySettings, secret: String, region: String) {
            self.settings = settings
            self.secret = secret
            self.region = region
        }
    }

    /// Why a call failed, as the specification's table of KMS exceptions distinguishes.
    public enum Failure: Error, Equatable, Sendable {
        /// The proxy answered with this `errorName`.
        case proxy(XKS.ErrorName)
        /// No TCP connection.
        case unreachable
        /// No TLS session (the certificate is not trusted, or no common protocol).
        case tls
        /// No answer in time.
        case timedOut
        /// An answer that is not one the specification allows (or an unknown error name).
        case malformed
    }

    private let caBundlePath: String?
    private let timeout: Duration
    private let client = Mutex<HTTPClient?>(nil)

    /// `caBundlePath`: PEM certificates trusted for proxies instead of the system's.
    public init(caBundlePath: String?, timeout: Duration = .milliseconds(250)) {
        self.caBundlePath = caBundlePath
        self.timeout = timeout
    }

    deinit {
        client.withLock { $0?.shutdown { _ in } }
    }

    /// The HTTP client, made on first use (most servers never call a proxy).
    private func http() -> HTTPClient {
        client.withLock { client in
            if let client { return client }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let caBundlePath { tls.trustRoots = .file(caBundlePath) }
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            let timeout = TimeAmount.nanoseconds(
                Int64(self.timeout.components.seconds) * 1_000_000_000 + self.timeout.components.attoseconds / 1_000_000_000)
            configuration.timeout = .init(connect: timeout, read: timeout)
            configuration.redirectConfiguration = .disallow
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            client = made
            return made
        }
    }

    // MARK: The four calls

    public func health(_ proxy: Proxy, metadata: XKS.RequestMetadata) async throws(Failure) -> XKS.HealthResponse {
        let response: XKS.HealthResponse = try await call(proxy, "/health", XKS.MetadataOnlyRequest(requestMetadata: metadata))
        guard let size = response.xksProxyFleetSize, size > 0, response.xksProxyVendor != nil, response.xksProxyModel != nil,
            response.ekmVendor != nil, let fleet = response.ekmFleetDetails, (1...10).contains(fleet.count),
            fleet.allSatisfy({ ["ACTIVE", "DEGRADED", "UNAVAILABLE"].contains($0.healthStatus ?? "") && $0.id != nil && $0.model != nil })
        else { throw .malformed }
        return response
    }

    public func keyMetadata(_ proxy: Proxy, keyID: String, metadata: XKS.RequestMetadata) async throws(Failure) -> XKS.KeyMetadataResponse {
        let response: XKS.KeyMetadataResponse = try await call(
            proxy, "/keys/\(keyID)/metadata", XKS.MetadataOnlyRequest(requestMetadata: metadata))
        guard response.keySpec != nil, let usage = response.keyUsage, usage.count <= 10, response.keyStatus != nil else { throw .malformed }
        return response
    }

    /// Encrypts with CDIV asked for and checked; a mismatch or bad sizes are `malformed`.
    public func encrypt(
        _ proxy: Proxy, keyID: String, plaintext: [UInt8], aad: [UInt8], metadata: XKS.RequestMetadata
    ) async throws(Failure) -> XKSSealed {
        let response: XKS.EncryptResponse = try await call(
            proxy, "/keys/\(keyID)/encrypt", XKS.EncryptRequest(requestMetadata: metadata, plaintext: plaintext, additionalAuthenticatedData: aad))
        guard let ciphertext = Self.bytes(response.ciphertext), let iv = Self.bytes(response.initializationVector),
            let tag = Self.bytes(response.authenticationTag), let integrity = Self.bytes(response.ciphertextDataIntegrityValue)
        else { throw .malformed }
        let ciphertextMetadata = response.ciphertextMetadata.map(Self.bytes) ?? []
        guard let ciphertextMetadata, ciphertextMetadata.count <= XKS.maximumCiphertextMetadata, iv.count == 12 || iv.count == 16,
            tag.count == 16, ciphertext.count == plaintext.count,
            ConstantTime.equals(
                integrity,
                XKS.ciphertextDataIntegrityValue(aad: aad, ciphertextMetadata: ciphertextMetadata, iv: iv, ciphertext: ciphertext, tag: tag))
        else { throw .malformed }
        return XKSSealed(iv: iv, ciphertextMetadata: ciphertextMetadata, tag: tag, ciphertext: ciphertext)
    }

    public func decrypt(
        _ proxy: Proxy, keyID: String, sealed: XKSSealed, aad: [UInt8], metadata: XKS.RequestMetadata
    ) async throws(Failure) -> [UInt8] {
        let response: XKS.DecryptResponse = try await call(
            proxy, "/keys/\(keyID)/decrypt",
            XKS.DecryptRequest(
                requestMetadata: metadata, ciphertext: sealed.ciphertext,
                ciphertextMetadata: sealed.ciphertextMetadata.isEmpty ? nil : sealed.ciphertextMetadata, additionalAuthenticatedData: aad,
                initializationVector: sealed.iv, authenticationTag: sealed.tag))
        guard let plaintext = Self.bytes(response.plaintext), plaintext.count == sealed.ciphertext.count else { throw .malformed }
        return plaintext
    }

    // MARK: HTTP

    /// POSTs `body` as JSON to `uriEndpoint` + `uriPath` + `suffix`, signed; decodes a 200's
    /// body as `Response`, or an error body's `errorName`.
    private func call<Response: Decodable>(_ proxy: Proxy, _ suffix: String, _ body: some Encodable) async throws(Failure) -> Response {
        guard let payload = try? JSONEncoder().encode(body), let url = URL(string: proxy.settings.uriEndpoint + proxy.settings.uriPath + suffix),
            let host = url.host
        else { throw .malformed }
        let authority = url.port.map { "\(host):\($0)" } ?? host
        let now = Date()
        var signed = SigV4.HTTPRequest(
            method: "POST", path: url.path, query: "",
            headers: [("host", authority), ("x-amz-date", UTCTime.basic(now)), ("content-type", "application/json")], body: payload)
        signed.headers.append(
            (
                "authorization",
                SigV4.authorization(
                    for: signed, accessKeyID: proxy.settings.accessKeyID, secret: proxy.secret, region: proxy.region, service: XKS.signingService,
                    date: now)
            ))
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        for (name, value) in signed.headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: payload))
        let status: UInt
        let data: Data
        do {
            let response = try await http().execute(request, timeout: TimeAmount.milliseconds(Int64(timeout / .milliseconds(1))))
            status = response.status.code
            data = Data(try await response.body.collect(upTo: 64 * 1024).readableBytesView)
        } catch {
            throw Self.classify(error)
        }
        guard status == 200 else {
            guard let failure = try? JSONDecoder().decode(XKS.ErrorResponse.self, from: data),
                let name = failure.errorName.flatMap(XKS.ErrorName.init)
            else { throw .malformed }
            throw .proxy(name)
        }
        guard let decoded = try? JSONDecoder().decode(Response.self, from: data) else { throw .malformed }
        return decoded
    }

    private static func classify(_ error: any Error) -> Failure {
        if let error = error as? HTTPClientError {
            if [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) { return .timedOut }
            if error == .remoteConnectionClosed { return .unreachable }
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError { return .tls }
        return .unreachable
    }

    private static func bytes(_ base64: String?) -> [UInt8]? {
        base64.flatMap { Data(base64Encoded: $0) }.map(Array.init)
    }
}
