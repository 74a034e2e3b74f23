import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage and the request ID that every
/// response carries as `x-amzn-RequestId`.
public struct KMSRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let requestID: String
    /// The client's IP address (`aws:SourceIp`).
    public let sourceIP: String?
    private let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = UUID.randomLowercased()
        sourceIP = source.channel.remoteAddress?.ipAddress
        channel = source.channel
    }

    /// Closes the request's connection after `delay` unless the returned task is cancelled
    /// first (a client too slow to send its body). A timer on the connection's event loop.
    func closeConnection(after delay: Duration) -> Scheduled<Void> {
        let channel = channel
        return channel.eventLoop.scheduleTask(in: TimeAmount(delay)) { channel.close(promise: nil) }
    }
}

/// Adds `x-amzn-RequestId` to every response, including the framework's own (404, 405).
struct RequestIDMiddleware: RouterMiddleware {
    static let header = HTTPField.Name("x-amzn-RequestId")!

    func handle(_ request: Request, context: KMSRequestContext, next: (Request, KMSRequestContext) async throws -> Response) async throws -> Response
    {
        do {
            var response = try await next(request, context)
            response.headers[Self.header] = context.requestID
            return response
        } catch let error as HTTPError {
            var response = Response(status: error.status, headers: error.headers)
            response.headers[Self.header] = context.requestID
            return response
        }
    }
}
