import Foundation

/// A principal's consent that one service principal of its account may make requests on its
/// behalf until `expiration`, as AWS's forward access sessions let a service act with its
/// caller's identity. The principal obtains it with a request signed by its own credentials
/// (`SwiftKMS.CreateForwardAccessToken`) and gives it to the service, which sends it, signed,
/// in `x-swiftkms-forward-access-token`. Stolen service credentials alone therefore act as no
/// one: each forwarded request needs a token that only the principal could have asked for.
///
/// The token is the claims sealed (AES-256-GCM) under a key derived from the root key, so it
/// cannot be forged or altered without the root key, and reveals nothing to its holder.
///
///     token = "swkfat1." || base64url(0x01 || IV (12) || ciphertext || tag (16))
///     claims = "v1\n" account "\n" principal path "\n" incarnation "\n" service "\n" expiry (epoch seconds)
public struct ForwardAccessToken: Sendable, Equatable {
    public var principal: Principal
    /// The principal's incarnation when the token was made (`Store.principalIncarnation`): a
    /// principal deleted and made again under the same name does not inherit its tokens.
    public var principalID: String
    /// The service principal's name (`s3.amazonaws.com`), in the principal's account.
    public var service: String
    public var expiration: Date

    public static let prefix = "swkfat1."
    /// How long a token may live: AWS's forward access sessions last minutes, not days.
    public static let durations: ClosedRange<Int> = 60...3_600
    /// A token is far shorter; anything longer is refused before it is decoded.
    public static let maximumLength = 1_024

    public init(principal: Principal, principalID: String, service: String, expiration: Date) {
        self.principal = principal
        self.principalID = principalID
        self.service = service
        self.expiration = expiration
    }

    public func seal(with rootKey: RootKey) throws(KMSError) -> String {
        let claims = ["v1", principal.account, principal.path, principalID, service, String(Int64(expiration.timeIntervalSince1970))]
        return Self.prefix + Self.base64url(try rootKey.sealForwardAccess(Array(claims.joined(separator: "\n").utf8)))
    }

    /// The token's claims; nil when it is not a token this root key sealed.
    public static func open(_ token: String, with rootKey: RootKey) -> ForwardAccessToken? {
        guard token.utf8.count <= maximumLength, token.hasPrefix(prefix), let sealed = unbase64url(String(token.dropFirst(prefix.count))),
            let claims = rootKey.openForwardAccess(sealed)
        else { return nil }
        let fields = claims.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields.count == 6, fields[0] == "v1", let principal = Principal(account: fields[1], path: fields[2]),
            let epoch = Int64(fields[5])
        else { return nil }
        return ForwardAccessToken(
            principal: principal, principalID: fields[3], service: fields[4],
            expiration: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ Base64.isURLSafeAlphabet($0) }) else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        return Base64.decodeStrict(standard)
    }
}
