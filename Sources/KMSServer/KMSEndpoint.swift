import Foundation
import HTTPTypes
import Hummingbird
import KMSProtocol
import KMSService
import Logging

/// `POST /`: authenticates an AWS JSON 1.1 request with SigV4 and runs its operation.
///
/// Logs one line per request (operation, status, error name, principal, request ID);
/// never headers, bodies, plaintexts or keys.
struct KMSEndpoint: Sendable {
    static let maximumBodySize = 1 << 20
    static let contentType = "application/x-amz-json-1.1"
    /// Set by a registered service principal acting for a principal of its account (the
    /// principal's ARN; must be signed): see `Credentials.forwarded`.
    static let onBehalfOfHeader = HTTPField.Name("x-swiftkms-on-behalf-of")!

    let api: KMSAPI
    let credentials: Credentials
    let clock: any KMSClock
    let signingKeys = SigV4.SigningKeys()

    func handle(_ request: Request, context: KMSRequestContext) async -> Response {
        let target = request.headers[HTTPField.Name("x-amz-target")!]
        let userAgent = request.headers[.userAgent]
        let result: KMSAPI.Response
        var principalARN = "-"
        var body = Data()
        do throws(KMSError) {
            body = try await collectBody(request)
            let (principal, region, accessKeyID) = try await SigV4.verify(signable(request, body: body), now: clock.now(), signingKeys: signingKeys) { id throws(KMSError) in
                try await credentials.secret(accessKeyID: id)
            }
            principalARN = principal.arn
            var requestContext = RequestContext(principal: principal, region: region, requestID: context.requestID, sourceIP: context.sourceIP,
                                                accessKeyID: accessKeyID, userAgent: userAgent)
            if let onBehalfOf = request.headers[Self.onBehalfOfHeader] {
                // Only as signed: a header outside the signature could be added by anyone on the way.
                guard let header = request.headers[.authorization],
                      try SigV4.parseAuthorization(header).signedHeaders.contains(Self.onBehalfOfHeader.canonicalName)
                else { throw KMSError(.accessDenied, "The \(Self.onBehalfOfHeader.canonicalName) header must be signed.") }
                requestContext = try await credentials.forwarded(requestContext, onBehalfOf: onBehalfOf)
                principalARN += " for " + requestContext.principal.arn
            }
            result = await api.handle(target: target, body: body, context: requestContext)
        } catch {
            let claimed = await claimedIdentity(request)
            result = await api.refuseUnauthenticated(target: target, body: body, error: error, identity: claimed.identity, region: claimed.region,
                                                     requestID: context.requestID, sourceIP: context.sourceIP, userAgent: userAgent)
        }
        context.logger.info("request", metadata: [
            "operation": "\(KMSAPI.operationName(target: target) ?? "-")",
            "status": "\(result.status)",
            "error": "\(result.errorCode ?? "-")",
            "principal": "\(principalARN)",
            "requestId": "\(context.requestID)",
        ])
        return Response(
            status: .init(code: result.status),
            headers: [.contentType: Self.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: result.body)))
    }

    /// Who a request that failed authentication said it was: the access key of its
    /// Authorization header and, when this server knows the key, its principal.
    private func claimedIdentity(_ request: Request) async -> (identity: AuditIdentity, region: String?) {
        guard let header = request.headers[.authorization], let auth = try? SigV4.parseAuthorization(header) else {
            return (.unknown(accessKeyID: nil), nil)
        }
        let region = SigV4.isValidRegion(auth.region) ? auth.region : nil
        guard let principal = try? await credentials.principal(accessKeyID: auth.accessKeyID) else {
            return (.unknown(accessKeyID: String(auth.accessKeyID.prefix(128))), region)
        }
        return (.principal(principal, accessKeyID: auth.accessKeyID), region)
    }

    private func collectBody(_ request: Request) async throws(KMSError) -> Data {
        do {
            return Data(buffer: try await request.body.collect(upTo: Self.maximumBodySize))
        } catch {
            throw KMSError(.serialization, "The request body is larger than \(Self.maximumBodySize) bytes or could not be read.")
        }
    }

    /// The request as SigV4 sees it. HTTP/1's Host header arrives as the authority.
    private func signable(_ request: Request, body: Data) -> SigV4.HTTPRequest {
        var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        if let authority = request.head.authority { headers.append((name: "host", value: authority)) }
        return SigV4.HTTPRequest(method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                                 headers: headers, body: body)
    }
}
