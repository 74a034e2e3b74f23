import Foundation
import KMSCore

/// The configuration file of `swiftkms xks-proxy` (JSON; documented in the README). It holds
/// the SigV4 secrets, so it must be readable by its owner only. Relative paths in it are
/// relative to the file's folder. The HSM's PIN is not in it: it comes from the environment.
public struct XKSProxyConfiguration: Decodable, Sendable {
    /// `HOST:PORT` to listen on.
    public var listen: String
    public var tls: TLS
    public var hsm: HSM
    /// The URI paths served (`[/prefix]/kms/xks/v1`), each with its own credentials.
    public var uriPaths: [URIPath]
    /// Settings of individual external keys, by external key ID (the token key's label).
    public var keys: [String: Key]?
    /// The file the proxy appends its audit records to.
    public var auditLog: String

    public struct TLS: Decodable, Sendable {
        /// PEM certificate chain and private key of the proxy's HTTPS listener.
        public var certificate: String
        public var key: String
        /// With mutual TLS: the CA a client certificate must chain to, and the subject common
        /// name it must carry (AWS KMS presents `cks.kms.<Region>.amazonaws.com`).
        public var clientCertificateAuthority: String?
        public var clientCertificateSubject: String?
    }

    public struct HSM: Decodable, Sendable {
        /// The PKCS#11 module (`.so`) of the HSM.
        public var module: String
        /// The label of the token holding the external keys.
        public var tokenLabel: String
    }

    public struct URIPath: Decodable, Sendable {
        /// `/kms/xks/v1`, or `/<prefix>/kms/xks/v1`.
        public var uriPath: String
        /// At least one; two or more while rotating.
        public var credentials: [Credential]
        /// A quota for this path; beyond it, `ThrottlingException`. Unlimited when absent.
        public var requestsPerSecond: Double?
    }

    public struct Credential: Decodable, Sendable {
        public var accessKeyId: String
        public var secretAccessKey: String
    }

    public struct Key: Decodable, Sendable {
        /// `ENABLED` (the default) or `DISABLED`: a disabled key reports DISABLED and refuses
        /// to encrypt and decrypt (`InvalidStateException`).
        public var status: String?
        /// If present, only these principals (`awsPrincipalArn`; `*` matches any run of
        /// characters) may use the key; others get `AccessDeniedException`.
        public var allowedPrincipals: [String]?
    }

    /// Reads and checks the file at `path`, and resolves its relative paths.
    public static func load(path: String) throws(XKSProxyConfigurationError) -> XKSProxyConfiguration {
        if let mode = OwnerOnlyFile.exposedMode(of: path) {
            throw XKSProxyConfigurationError(
                "The XKS proxy configuration \(path) holds secrets and can be read by its group or others (mode \(String(mode, radix: 8))): chmod 600 it."
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw XKSProxyConfigurationError("Cannot read the XKS proxy configuration \(path).")
        }
        var configuration: XKSProxyConfiguration
        do {
            configuration = try JSONDecoder().decode(XKSProxyConfiguration.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw XKSProxyConfigurationError("\(path): missing \(Self.describe(context.codingPath + [key])).")
        } catch let DecodingError.typeMismatch(_, context) {
            throw XKSProxyConfigurationError("\(path): \(Self.describe(context.codingPath)) has the wrong type.")
        } catch {
            throw XKSProxyConfigurationError("\(path) is not a valid JSON configuration.")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ file: String) -> String { file.hasPrefix("/") ? file : folder.appendingPathComponent(file).path }
        configuration.tls.certificate = resolve(configuration.tls.certificate)
        configuration.tls.key = resolve(configuration.tls.key)
        configuration.tls.clientCertificateAuthority = configuration.tls.clientCertificateAuthority.map(resolve)
        configuration.auditLog = resolve(configuration.auditLog)
        try configuration.check()
        return configuration
    }

    private static func describe(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    /// What the specification and SwiftKMS demand of the values.
    func check() throws(XKSProxyConfigurationError) {
        guard !uriPaths.isEmpty else { throw XKSProxyConfigurationError("uriPaths must name at least one URI path.") }
        var paths = Set<String>()
        for entry in uriPaths {
            guard Self.isValidURIPath(entry.uriPath) else {
                throw XKSProxyConfigurationError(
                    "uriPath '\(entry.uriPath)' must be /kms/xks/v1 or /<prefix>/kms/xks/v1 (at most 128 characters: letters, digits, /, - and _).")
            }
            guard paths.insert(entry.uriPath).inserted else { throw XKSProxyConfigurationError("uriPath '\(entry.uriPath)' appears twice.") }
            guard !entry.credentials.isEmpty else {
                throw XKSProxyConfigurationError("uriPath '\(entry.uriPath)' needs at least one credential.")
            }
            var accessKeys = Set<String>()
            for credential in entry.credentials {
                guard Self.isValidAccessKeyID(credential.accessKeyId) else {
                    throw XKSProxyConfigurationError(
                        "accessKeyId '\(credential.accessKeyId.prefix(30))' must be 20 to 30 characters, A to Z and 2 to 7.")
                }
                guard Self.isValidSecret(credential.secretAccessKey) else {
                    throw XKSProxyConfigurationError(
                        "The secretAccessKey of \(credential.accessKeyId) must be 43 to 64 characters: letters, digits, +, / and =.")
                }
                guard accessKeys.insert(credential.accessKeyId).inserted else {
                    throw XKSProxyConfigurationError("accessKeyId \(credential.accessKeyId) appears twice under '\(entry.uriPath)'.")
                }
            }
            if let rate = entry.requestsPerSecond, !(rate > 0) {
                throw XKSProxyConfigurationError("requestsPerSecond of '\(entry.uriPath)' must be positive.")
            }
        }
        for (id, key) in keys ?? [:] {
            guard XKS.isValidExternalKeyID(Substring(id)) else {
                throw XKSProxyConfigurationError("'\(id.prefix(128))' is not a valid external key ID (1 to 128 of A-Z a-z 0-9 - . _).")
            }
            if let status = key.status, status != "ENABLED", status != "DISABLED" {
                throw XKSProxyConfigurationError("The status of key \(id) must be ENABLED or DISABLED.")
            }
        }
        guard (tls.clientCertificateAuthority == nil) == (tls.clientCertificateSubject == nil) else {
            throw XKSProxyConfigurationError("tls.clientCertificateAuthority and tls.clientCertificateSubject go together (mutual TLS).")
        }
        guard listenAddress != nil else { throw XKSProxyConfigurationError("listen must be HOST:PORT, not '\(listen.prefix(64))'.") }
    }

    /// `listen` split into host and port.
    public var listenAddress: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        let host = String(listen[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    static func isValidURIPath(_ path: String) -> Bool {
        guard path.utf8.count <= 128, path.hasSuffix("/kms/xks/v1"), path.hasPrefix("/") else { return false }
        let prefix = path.dropLast("/kms/xks/v1".count)
        return !prefix.hasSuffix("/") && !prefix.contains("//") && prefix.isASCIIAlphanumeric(or: "/-_")
    }

    static func isValidAccessKeyID(_ id: String) -> Bool {
        (20...30).contains(id.utf8.count)
            && id.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "2")...UInt8(ascii: "7")).contains($0) }
    }

    static func isValidSecret(_ secret: String) -> Bool {
        (43...64).contains(secret.utf8.count) && secret.isASCIIAlphanumeric(or: "+/=")
    }
}

public struct XKSProxyConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
