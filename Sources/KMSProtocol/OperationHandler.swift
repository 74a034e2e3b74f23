import Foundation
import KMSService

/// One API operation on the wire: decodes its typed request from the validated JSON tree,
/// calls the service, encodes the response.
struct OperationHandler: Sendable {
    let run: @Sendable (JSONValue, KeyManagementService, RequestContext) async throws(KMSError) -> Data
    /// Only the decoding of the typed request (for the fuzz targets in `Fuzz/`).
    let decode: @Sendable (JSONValue) throws(KMSError) -> Void

    init<Request: Decodable & SendableMetatype, Response: Encodable & SendableMetatype>(
        _ body: @escaping @Sendable (Request, KeyManagementService, RequestContext) async throws(KMSError) -> Response
    ) {
        run = { input, service, context throws(KMSError) in
            let request = try WireCoding.decode(Request.self, from: input)
            return try WireCoding.encode(try await body(request, service, context))
        }
        decode = { input throws(KMSError) in _ = try WireCoding.decode(Request.self, from: input) }
    }
}
