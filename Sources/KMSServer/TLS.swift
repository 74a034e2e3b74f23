import Foundation
import HummingbirdCore
import KMSService
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import ServiceLifecycle
import Synchronization
import UnixSignals
import X509

/// The server's certificate chain and private key, read from PEM files, as the TLS context
/// new connections are served with. `reload()` reads the files again (SIGHUP): connections
/// already open keep the context they began with; a reload that fails keeps the current one.
public final class TLSCredentials: Sendable {
    public let certificatePath: String
    public let keyPath: String
    /// Mutual TLS: clients must present a certificate chained to this CA (PEM file)…
    public let clientCertificateAuthorityPath: String?
    /// …whose subject's common name is this.
    public let clientCertificateSubject: String?
    private let current: Mutex<NIOSSLContext>

    /// Reads the files; refuses a key file that its group or others may read, as the root key's.
    public init(
        certificatePath: String, keyPath: String, clientCertificateAuthorityPath: String? = nil, clientCertificateSubject: String? = nil
    ) throws(TLSCredentialsError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCertificateAuthorityPath = clientCertificateAuthorityPath
        self.clientCertificateSubject = clientCertificateSubject
        current = Mutex(
            try Self.context(certificatePath: certificatePath, keyPath: keyPath, clientCertificateAuthorityPath: clientCertificateAuthorityPath))
    }

    /// The context a connection accepted now is served with.
    var context: NIOSSLContext { current.withLock { $0 } }

    /// Reads the files again; on success, new connections use them.
    public func reload() throws(TLSCredentialsError) {
        let context = try Self.context(
            certificatePath: certificatePath, keyPath: keyPath, clientCertificateAuthorityPath: clientCertificateAuthorityPath)
        current.withLock { $0 = context }
    }

    /// TLS 1.2 and 1.3 only; in 1.2, only ECDHE key exchange with AEAD ciphers (forward secrecy;
    /// no CBC, no RSA key transport). 1.3's suites are all AEAD.
    static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    private static func context(
        certificatePath: String, keyPath: String, clientCertificateAuthorityPath: String?
    ) throws(TLSCredentialsError) -> NIOSSLContext {
        if let mode = OwnerOnlyFile.exposedMode(of: keyPath) {
            throw TLSCredentialsError(
                "The TLS private key \(keyPath) can be read by its group or others (mode \(String(mode, radix: 8))): chmod 600 it.")
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
            guard !chain.isEmpty else { throw TLSCredentialsError("\(certificatePath) holds no PEM certificate.") }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            configuration.maximumTLSVersion = .tlsv13
            configuration.cipherSuiteValues = tls12CipherSuites
            if let clientCertificateAuthorityPath {
                // A server that verifies asks for a client certificate and refuses a handshake without one.
                configuration.trustRoots = .file(clientCertificateAuthorityPath)
                configuration.certificateVerification = .noHostnameVerification
            }
            return try NIOSSLContext(configuration: configuration)
        } catch let error as TLSCredentialsError {
            throw error
        } catch {
            // NIOSSL's errors name the file's problem, never its contents.
            throw TLSCredentialsError("Could not load the TLS certificate \(certificatePath) and key \(keyPath): \(error).")
        }
    }
}

public struct TLSCredentialsError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The child channel of a TLS listener whose certificate can change: each connection's TLS
/// handler is made with the context current when it was accepted (Hummingbird's own
/// `TLSChannel` keeps the one it was built with).
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let credentials: TLSCredentials

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: credentials.context))
            if let subject = credentials.clientCertificateSubject {
                try channel.pipeline.syncOperations.addHandler(ClientSubjectCheck(subject: subject, logger: logger))
            }
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Closes a mutual-TLS connection as its handshake completes when the client certificate's
/// subject common name is not the one configured (its chain was verified by the handshake).
final class ClientSubjectCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let subject: String
    let logger: Logger

    init(subject: String, logger: Logger) {
        self.subject = subject
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
            guard let der = try? certificate?.toDERBytes(), let parsed = try? Certificate(derEncoded: der),
                Self.commonNames(of: parsed.subject).contains(subject)
            else {
                logger.notice("TLS client certificate refused: wrong subject", metadata: ["expected": "\(subject)"])
                context.close(promise: nil)
                return
            }
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    static func commonNames(of name: DistinguishedName) -> [String] {
        name.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }.compactMap { String(describing: $0.value) }
    }
}

/// Runs `reload` on every SIGHUP until graceful shutdown: `what` is logged as reloaded, or as
/// failed with what stays in use.
public struct ReloadOnHangup: Service {
    let what: String
    let logger: Logger
    let reload: @Sendable () throws -> Void

    public init(_ what: String, logger: Logger, reload: @escaping @Sendable () throws -> Void) {
        self.what = what
        self.logger = logger
        self.reload = reload
    }

    public func run() async {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                do {
                    try reload()
                    logger.notice("\(what) reloaded")
                } catch {
                    logger.error("\(what) reload failed; going on with the previous", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS with `credentials`, which SIGHUP-style reloads change for new connections.
    public static func reloadableTLS(_ credentials: TLSCredentials, configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            ReloadableTLSChannel(base: HTTP1Channel(responder: responder, configuration: configuration), credentials: credentials)
        }
    }
}
