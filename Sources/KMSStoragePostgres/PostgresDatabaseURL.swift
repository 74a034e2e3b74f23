import Foundation

/// Where the database is and how to reach it, as libpq spells it:
///
///     postgres://USER[:PASSWORD]@HOST[:PORT][,HOST[:PORT]…]/DATABASE[?sslmode=MODE&sslrootcert=FILE]
///
/// Several hosts name a primary and its standbys: the store uses the one that accepts writes
/// and moves to another when it stops answering (see `PostgresPrimary`). User, password and
/// database may be percent-encoded. `sslmode` is libpq's: `disable`, `prefer` (the default:
/// TLS when the server offers it, unverified), `require` (TLS, unverified), `verify-ca` (TLS,
/// certificate chain checked against `sslrootcert`) or `verify-full` (chain and host name).
/// Any other parameter is refused, so that a misspelt `sslmode` never silently means `prefer`.
public struct PostgresDatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
    }

    public enum TLSMode: String, Sendable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var endpoints: [Endpoint]
    public var username: String
    /// Never in `description`.
    public var password: String?
    public var database: String
    public var tlsMode = TLSMode.prefer
    /// PEM file of the certificate authorities trusted for `verify-ca` and `verify-full`; the
    /// system's when nil.
    public var rootCertificateFile: String?

    /// A URL that can't be used, with what is wrong (never the password).
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String) throws(Invalid) {
        guard let schemeEnd = text.range(of: "://"), ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound]) else {
            throw Invalid(description: "the database URL must start with postgres://")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw Invalid(description: "the database URL names no database (…/DATABASE)") }
        let authority = rest[..<slash]
        database = try Self.decoded(rest[rest.index(after: slash)...], "database name")
        guard !database.isEmpty else { throw Invalid(description: "the database URL names no database (…/DATABASE)") }
        guard let at = authority.lastIndex(of: "@") else { throw Invalid(description: "the database URL names no user (USER@HOST)") }
        let userInfo = authority[..<at]
        if let colon = userInfo.firstIndex(of: ":") {
            username = try Self.decoded(userInfo[..<colon], "user name")
            password = try Self.decoded(userInfo[userInfo.index(after: colon)...], "password")
        } else {
            username = try Self.decoded(userInfo, "user name")
        }
        guard !username.isEmpty else { throw Invalid(description: "the database URL names no user (USER@HOST)") }
        endpoints = try authority[authority.index(after: at)...].split(separator: ",", omittingEmptySubsequences: false).map(Self.endpoint)
        for parameter in query.split(separator: "&") {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = pair.count == 2 ? try Self.decoded(pair[1], name) : ""
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw Invalid(description: "sslmode must be disable, prefer, require, verify-ca or verify-full")
                }
                tlsMode = mode
            case "sslrootcert":
                rootCertificateFile = value
            case "target_session_attrs":
                // The store always looks for the host that accepts writes.
                guard value == "read-write" || value == "primary" else {
                    throw Invalid(description: "target_session_attrs may only be read-write or primary")
                }
            default:
                throw Invalid(description: "the database URL's parameter \(name) is not supported (sslmode, sslrootcert, target_session_attrs are)")
            }
        }
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        let hosts = endpoints.map { $0.host.contains(":") ? "[\($0.host)]:\($0.port)" : "\($0.host):\($0.port)" }.joined(separator: ",")
        return "postgres://\(username)@\(hosts)/\(database)?sslmode=\(tlsMode.rawValue)"
    }

    private static func endpoint(_ text: Substring) throws(Invalid) -> Endpoint {
        var host = text
        var port = Substring("")
        if host.hasPrefix("[") {
            // [IPv6]:PORT
            guard let close = host.firstIndex(of: "]") else { throw Invalid(description: "the database URL has an unclosed [ in a host") }
            port = host[host.index(after: close)...].drop { $0 == ":" }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.firstIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw Invalid(description: "the database URL names an empty host") }
        guard port.isEmpty || (Int(port).map { (1...65_535).contains($0) } ?? false) else {
            throw Invalid(description: "the database URL's port \(port) is not a number from 1 to 65535")
        }
        return Endpoint(host: String(host), port: Int(port) ?? 5432)
    }

    private static func decoded(_ text: Substring, _ what: String) throws(Invalid) -> String {
        guard let value = String(text).removingPercentEncoding else {
            throw Invalid(description: "the database URL's \(what) is badly percent-encoded")
        }
        return value
    }
}
