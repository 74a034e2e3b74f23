/// Who made a request and where: established by SigV4 authentication before any operation runs.
public struct RequestContext: Sendable {
    public var principal: Principal
    /// The region of the request's credential scope; keys live in (account, region).
    public var region: String
    public var requestID: String
    /// The client's address (`aws:SourceIp`), when the transport knows it.
    public var sourceIP: String?
    /// Whether the request came over TLS (`aws:SecureTransport`).
    public var secureTransport: Bool
    /// The request's `GrantTokens`, when the operation takes them.
    public var grantTokens: [String] = []

    public init(principal: Principal, region: String, requestID: String, sourceIP: String? = nil, secureTransport: Bool = false) {
        self.principal = principal
        self.region = region
        self.requestID = requestID
        self.sourceIP = sourceIP
        self.secureTransport = secureTransport
    }

    public var account: String { principal.account }
}

@_exported import KMSCore
