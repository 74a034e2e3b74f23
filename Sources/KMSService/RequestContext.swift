import Foundation
@_exported import KMSCore

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
    /// The access key that signed the request.
    public var accessKeyID: String
    public var userAgent: String?
    /// The service principal (`s3.amazonaws.com`) that made this request on `principal`'s
    /// behalf, as an AWS service does with the caller's identity; nil for direct requests.
    public var invokedBy: String?
    /// `aws:SourceArn`: the AWS resource on whose behalf a service principal says it makes
    /// this request (`x-swiftkms-source-arn`); only a service principal can say so. Grants
    /// with a SourceArn constraint allow only requests made for their resource.
    public var sourceArn: String?
    /// The verified attestation document of the request's `Recipient` (a Nitro enclave):
    /// its measurements are the `kms:RecipientAttestation:*` condition keys.
    public var recipient: RecipientAttestation?
    /// The request's audit event in the making; the API layer replaces it with one that
    /// names the operation and its parameters.
    public var audit: AuditRecorder

    public init(
        principal: Principal, region: String, requestID: String, sourceIP: String? = nil, secureTransport: Bool = false,
        accessKeyID: String = "", userAgent: String? = nil
    ) {
        self.principal = principal
        self.region = region
        self.requestID = requestID
        self.sourceIP = sourceIP
        self.secureTransport = secureTransport
        self.accessKeyID = accessKeyID
        self.userAgent = userAgent
        audit = AuditRecorder(
            .init(
                eventName: "", eventTime: Date(), identity: .principal(principal, accessKeyID: accessKeyID), region: region,
                sourceIP: sourceIP, userAgent: userAgent, requestParameters: .null, requestID: requestID, readOnly: false))
    }

    /// Starts the audit event of operation `name` with its CloudTrail `requestParameters`.
    public mutating func beginAudit(operation name: String, requestParameters: JSONValue, eventSource: String = "kms.amazonaws.com", at time: Date) {
        var request = AuditRecorder.Request(
            eventName: name, eventTime: time, identity: auditIdentity, region: region,
            sourceIP: sourceIP, userAgent: userAgent, requestParameters: requestParameters, requestID: requestID,
            readOnly: AuditRecorder.isReadOnly(name))
        request.eventSource = eventSource
        audit = AuditRecorder(request)
    }

    public var account: String { principal.account }

    /// `kms:ViaService`: `SERVICE.REGION.amazonaws.com` for a request made through a service.
    public var viaService: String? {
        guard let invokedBy, invokedBy.hasSuffix(".amazonaws.com") else { return nil }
        return "\(invokedBy.dropLast(".amazonaws.com".count)).\(region).amazonaws.com"
    }

    /// This request as made by service principal `service` on behalf of `principal`.
    public func forwarded(by service: String, onBehalfOf principal: Principal) -> RequestContext {
        var forwarded = self
        forwarded.principal = principal
        forwarded.invokedBy = service
        forwarded.audit = AuditRecorder(
            .init(
                eventName: "", eventTime: Date(), identity: forwarded.auditIdentity, region: region, sourceIP: sourceIP,
                userAgent: userAgent, requestParameters: .null, requestID: requestID, readOnly: false))
        return forwarded
    }

    var auditIdentity: AuditIdentity { .principal(principal, accessKeyID: accessKeyID, invokedBy: invokedBy) }
}
