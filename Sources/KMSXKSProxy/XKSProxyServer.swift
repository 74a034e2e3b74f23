import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import KMSCore
import KMSHSM
import KMSServer
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The request context of the proxy's listener: the client's address, for the audit log.
public struct XKSRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let sourceIP: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceIP = source.channel.remoteAddress?.ipAddress
    }
}

/// `swiftkms xks-proxy`: the proxy over HTTPS (TLS 1.2 and 1.3; mutual TLS when configured),
/// with `GET /ping` answered 200 for load balancers. SIGHUP reads the configuration file again
/// (credentials, quotas, key settings) and the TLS certificate and key.
public enum XKSProxyServer {
    /// Opens the token (checking `pin`) and the audit log, and builds the server.
    public static func build(
        configurationPath: String, configuration: XKSProxyConfiguration, pin: String, logger: Logger
    ) throws -> some ApplicationProtocol {
        let keys: XKSTokenKeys
        do {
            keys = try XKSTokenKeys(module: configuration.hsm.module, tokenLabel: configuration.hsm.tokenLabel, pin: pin)
        } catch {
            throw XKSProxyConfigurationError(
                "Cannot open token '\(configuration.hsm.tokenLabel)' of \(configuration.hsm.module) with SWIFTKMS_XKS_PKCS11_PIN: \(error).")
        }
        let audit = try XKSAuditLog(path: configuration.auditLog)
        let proxy = XKSProxy(configuration: configuration, keys: keys, audit: audit, logger: logger)
        let tls = try TLSCredentials(
            certificatePath: configuration.tls.certificate, keyPath: configuration.tls.key,
            clientCertificateAuthorityPath: configuration.tls.clientCertificateAuthority,
            clientCertificateSubject: configuration.tls.clientCertificateSubject)
        let responder = CallbackResponder<XKSRequestContext> { request, context in
            if request.method == .get, request.uri.path == "/ping" {
                return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
            }
            // Too large (or cut off): nil, answered without reading further or authenticating.
            let body = try? Data(buffer: await request.body.collect(upTo: XKSProxy.maximumBodyBytes))
            // HTTP/1's Host arrives as the authority; SigV4 signs it as `host`.
            var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
            if let authority = request.head.authority { headers.append((name: "host", value: authority)) }
            let answer = await proxy.respond(
                method: request.method.rawValue, path: request.uri.path, headers: headers, body: body, sourceIP: context.sourceIP)
            var fields: HTTPFields = [.contentType: "application/json"]
            if let allow = answer.allow { fields[.allow] = allow }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        let address = configuration.listenAddress ?? ("127.0.0.1", 8443)
        return Application(
            responder: responder,
            server: .reloadableTLS(tls, configuration: HTTP1Channel.Configuration(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "swiftkms-xks-proxy"),
            // SIGHUP: the configuration file and the TLS files again; a failed reload keeps what was.
            services: [
                ReloadOnHangup("XKS proxy configuration and TLS certificate", logger: logger) {
                    proxy.reload(try XKSProxyConfiguration.load(path: configurationPath))
                    try tls.reload()
                }
            ],
            logger: logger)
    }
}

extension XKSProxyServer {
    /// Generates an external key: an AES-256 key in the configured token, sensitive and not
    /// extractable, labelled `keyID`. Fails if the token has a key with that label already.
    public static func createKey(
        configuration: XKSProxyConfiguration, pin: String, keyID: String, encrypt: Bool, decrypt: Bool
    ) async throws {
        guard XKS.isValidExternalKeyID(Substring(keyID)), keyID != XKSTokenKeys.healthCheckLabel else {
            throw XKSProxyConfigurationError("'\(keyID.prefix(128))' is not a valid external key ID (1 to 128 of A-Z a-z 0-9 - . _).")
        }
        let keys = try XKSTokenKeys(module: configuration.hsm.module, tokenLabel: configuration.hsm.tokenLabel, pin: pin)
        let created = try await keys.pool.withSession { session throws(PKCS11Error) -> Bool in
            guard try session.findKey(label: keyID) == nil else { return false }
            _ = try session.generateAESKey(label: keyID, encrypt: encrypt, decrypt: decrypt)
            return true
        }
        guard created else { throw XKSProxyConfigurationError("The token already holds a key labelled \(keyID).") }
    }

    /// Checks the chain of an audit log: the number of records, and the first broken one.
    public static func verifyAuditLog(path: String) throws -> (records: Int, brokenAt: Int?) {
        let result = try XKSAuditLog.verify(path: path)
        return (result.lines, result.brokenAt)
    }
}
