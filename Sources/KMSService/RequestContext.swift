/// Who made a request and where: established by SigV4 authentication before any operation runs.
public struct RequestContext: Sendable {
    public var principal: Principal
    /// The region of the request's credential scope; keys live in (account, region).
    public var region: String
    public var requestID: String

    public init(principal: Principal, region: String, requestID: String) {
        self.principal = principal
        self.region = region
        self.requestID = requestID
    }

    public var account: String { principal.account }
}

@_exported import KMSCore
