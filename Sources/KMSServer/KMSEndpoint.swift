import Foundation
import HTTPTypes
import Hummingbird
import KMSProtocol
import KMSService
import KMSStorage
import Logging

/// `POST /`: authenticates an AWS JSON 1.1 request with SigV4 and runs its operation.
///
/// Nothing costly happens before authentication: the signing headers are checked and the
/// access key looked up before the body is read; the body is read (at most 1 MiB, within the
/// request timeout) only to check its signature, and parsed only after. A refused request is
/// recorded without its body (see `AuthenticationFailureLog`).
///
/// Logs one line per request (operation, status, error name, principal, request ID);
/// never headers, bodies, plaintexts or keys.
struct KMSEndpoint: Sendable {
    static let maximumBodySize = 1 << 20
    static let contentType = "application/x-amz-json-1.1"
    /// Media types of the JSON protocols (SDKs send 1.1; 1.0 is the same body).
    static let acceptedContentTypes: Set<String> = ["application/x-amz-json-1.1", "application/x-amz-json-1.0"]
    /// A principal's forward access token, sent (signed) by the service principal it names:
    /// the request then runs as that principal (`ForwardAccessToken`).
    static let forwardAccessTokenHeader = HTTPField.Name("x-swiftkms-forward-access-token")!
    /// The AWS resource a service principal makes the request for (`aws:SourceArn`), sent
    /// signed by a service principal only (`RequestContext.sourceArn`).
    static let sourceArnHeader = HTTPField.Name("x-swiftkms-source-arn")!
    /// The header of earlier versions, which named the principal without its consent; refused.
    static let onBehalfOfHeader = HTTPField.Name("x-swiftkms-on-behalf-of")!
    static let targetHeader = HTTPField.Name("x-amz-target")!
    /// Headers that decide who a request is and what it asks: a request carrying one of them
    /// twice is refused, so that no check can read another copy than the signature covered.
    /// (`SigV4.preflight` refuses a repeated Authorization or X-Amz-Date.)
    static let singleHeaders: [HTTPField.Name] = [
        targetHeader, HTTPField.Name("x-amz-security-token")!, HTTPField.Name("x-amz-content-sha256")!, forwardAccessTokenHeader,
        onBehalfOfHeader, sourceArnHeader, .contentType,
    ]
    /// Headers a request must have signed, as every AWS SDK does: an unsigned `X-Amz-Target`
    /// would let a captured request be replayed as another operation. (A request without one
    /// names no operation, and is refused as such.)
    static func requiredSignedHeaders(hasTarget: Bool) -> [String] {
        hasTarget ? ["host", "x-amz-date", "x-amz-target"] : ["host", "x-amz-date"]
    }

    let api: KMSAPI
    let credentials: Credentials
    let clock: any KMSClock
    /// How long reading a request's body may take once its headers arrived.
    let bodyTimeout: Duration
    /// The listener is TLS (`aws:SecureTransport`).
    let secureTransport: Bool
    let signingKeys = SigV4.SigningKeys()

    func handle(_ request: Request, context: KMSRequestContext) async -> Response {
        let start = ContinuousClock.now
        ServerMetrics.requestsInFlight.increment()
        defer { ServerMetrics.requestsInFlight.decrement() }
        let targets = request.headers[values: Self.targetHeader]
        let target = targets.count == 1 ? targets[0] : nil
        let userAgent = request.headers[.userAgent]
        var principalARN = "-"
        var claimed: SigV4.Authorization?
        do throws(KMSError) {
            try Self.refuseRepeatedHeaders(request)
            var signed = signable(request)
            let preflight = try SigV4.preflight(
                signed, now: clock.now(), service: KMSAPI.signingName(target: target),
                requiredSignedHeaders: Self.requiredSignedHeaders(hasTarget: !targets.isEmpty))
            claimed = preflight.authorization
            let auth = preflight.authorization
            let forwardToken = request.headers[Self.forwardAccessTokenHeader]
            if request.headers[Self.onBehalfOfHeader] != nil {
                throw KMSError(
                    .accessDenied,
                    "The \(Self.onBehalfOfHeader.canonicalName) header is no longer accepted: send the principal's forward access token in \(Self.forwardAccessTokenHeader.canonicalName)."
                )
            }
            if forwardToken != nil, !auth.signedHeaders.contains(Self.forwardAccessTokenHeader.canonicalName) {
                // Only as signed: a header outside the signature could be added by anyone on the way.
                throw KMSError(.accessDenied, "The \(Self.forwardAccessTokenHeader.canonicalName) header must be signed.")
            }
            let sourceArn = request.headers[Self.sourceArnHeader]
            if sourceArn != nil, !auth.signedHeaders.contains(Self.sourceArnHeader.canonicalName) {
                throw KMSError(.accessDenied, "The \(Self.sourceArnHeader.canonicalName) header must be signed.")
            }
            guard let (principal, secret) = try await credentials.secret(accessKeyID: auth.accessKeyID) else {
                throw KMSError(.unrecognizedClient, "The security token included in the request is invalid.")
            }
            let body = try await collectBody(request, context: context)
            signed.body = body
            try SigV4.verifySignature(signed, preflight, secret: secret, signingKeys: signingKeys)
            principalARN = principal.arn
            var requestContext = RequestContext(
                principal: principal, region: auth.region, requestID: context.requestID, sourceIP: context.sourceIP,
                secureTransport: secureTransport, accessKeyID: auth.accessKeyID, userAgent: userAgent)
            if let sourceArn {
                do throws(KMSError) {
                    requestContext.sourceArn = try Self.checkedSourceArn(sourceArn, principal: principal)
                } catch {
                    return respond(
                        await api.refuse(target: target, error: error, context: requestContext), target: target,
                        principal: principalARN, authenticated: true, since: start, context: context)
                }
            }
            if let forwardToken {
                do {
                    requestContext = try await credentials.forwarded(requestContext, token: forwardToken)
                    principalARN += " for " + requestContext.principal.arn
                } catch {
                    // The signature held: the refusal is the service principal's, not an anonymous one.
                    return respond(
                        await api.refuse(target: target, error: error, context: requestContext), target: target,
                        principal: principalARN, authenticated: true, since: start, context: context)
                }
            }
            // AWS answers a body of another media type as an unknown operation; none at all is taken as JSON.
            let contentType = request.headers[.contentType]
            let isJSON = contentType.map { Self.acceptedContentTypes.contains($0.lowercased()) } ?? true
            let result = await api.handle(target: isJSON ? target : nil, body: body, context: requestContext)
            return respond(result, target: target, principal: principalARN, authenticated: true, since: start, context: context)
        } catch {
            let result = await api.refuseUnauthenticated(
                target: target, error: error, claimedAccessKeyID: claimed?.accessKeyID,
                region: claimed.flatMap { SigV4.isValidRegion($0.region) ? $0.region : nil },
                requestID: context.requestID, sourceIP: context.sourceIP, userAgent: userAgent)
            return respond(result, target: target, principal: principalARN, authenticated: false, since: start, context: context)
        }
    }

    /// The value of `x-swiftkms-source-arn`: only a service principal acts for a resource, and
    /// the resource must be named by an ARN (`ResourceName.accountOfSourceARN`).
    static func checkedSourceArn(_ value: String, principal: Principal) throws(KMSError) -> String {
        guard principal.kind == .service else {
            throw KMSError(
                .accessDenied, "Only a service principal can make a request on behalf of an AWS resource (\(sourceArnHeader.canonicalName)).")
        }
        guard ResourceName.accountOfSourceARN(value) != nil else {
            throw KMSError.validation("The \(sourceArnHeader.canonicalName) header must be the ARN of an AWS resource.")
        }
        return value
    }

    /// Logs the request's line, counts it in the metrics and writes its response.
    /// `authenticated`: the signature was checked (a refusal otherwise is an authentication failure).
    private func respond(
        _ result: KMSAPI.Response, target: String?, principal: String, authenticated: Bool, since start: ContinuousClock.Instant,
        context: KMSRequestContext
    ) -> Response {
        let operation = KMSAPI.operationName(target: target) ?? "-"
        ServerMetrics.answered(operation: operation, errorCode: result.errorCode, authenticated: authenticated, since: start)
        let elapsed = (ContinuousClock.now - start).components
        context.logger.info(
            "request",
            metadata: [
                "operation": "\(operation)",
                "status": "\(result.status)",
                "error": "\(result.errorCode ?? "-")",
                "principal": "\(principal)",
                "requestId": "\(context.requestID)",
                "durationMs": "\(String(format: "%.3f", Double(elapsed.seconds) * 1e3 + Double(elapsed.attoseconds) / 1e15))",
            ])
        return Response(
            status: .init(code: result.status),
            headers: [.contentType: Self.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: result.body)))
    }

    /// Refuses a request that repeats a header of `singleHeaders`, or `Host`.
    static func refuseRepeatedHeaders(_ request: Request) throws(KMSError) {
        for name in singleHeaders where request.headers[values: name].count > 1 {
            throw KMSError(.incompleteSignature, "The request must not carry more than one \(name.canonicalName) header.")
        }
        // HTTP/1's Host arrives as the authority; a Host field left beside it is a second one.
        let hosts = request.headers[values: .init("host")!].count + (request.head.authority == nil ? 0 : 1)
        guard hosts <= 1 else {
            throw KMSError(.incompleteSignature, "The request must not carry more than one host header.")
        }
    }

    /// The body, at most `maximumBodySize` bytes, read within `bodyTimeout`: a client that
    /// sends it slower (or never) has its connection closed, which ends the read.
    private func collectBody(_ request: Request, context: KMSRequestContext) async throws(KMSError) -> Data {
        let deadline = context.closeConnection(after: bodyTimeout)
        defer { deadline.cancel() }
        do {
            return Data(buffer: try await request.body.collect(upTo: Self.maximumBodySize))
        } catch {
            throw KMSError(.serialization, "The request body is larger than \(Self.maximumBodySize) bytes, or did not arrive within \(bodyTimeout).")
        }
    }

    /// The request as SigV4 sees it, without its body (read later). HTTP/1's Host header
    /// arrives as the authority.
    private func signable(_ request: Request) -> SigV4.HTTPRequest {
        var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        if let authority = request.head.authority { headers.append((name: "host", value: authority)) }
        return SigV4.HTTPRequest(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
            headers: headers, body: Data())
    }
}
