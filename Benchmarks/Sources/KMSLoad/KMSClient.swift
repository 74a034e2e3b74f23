import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigV4Signer

/// A KMS endpoint over kept-alive HTTP/1.1 connections (one per concurrent caller).
struct KMSClient: Sendable {
    let http: HTTPClient
    let endpoint: String
    let host: String
    let signer: SigV4Signer

    init(endpoint: String, signer: SigV4Signer, connections: Int) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.endpoint = endpoint
        host = URL(string: endpoint).map { "\($0.host ?? "127.0.0.1")\($0.port.map { ":\($0)" } ?? "")" } ?? "127.0.0.1"
        self.signer = signer
    }

    /// Sends one signed request; returns the HTTP status and the response body.
    func call(_ operation: String, _ body: [UInt8]) async throws -> (status: UInt, body: ByteBuffer) {
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        for (name, value) in signer.headers(host: host, operation: operation, body: body) { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(60))
        let data = try await response.body.collect(upTo: 1 << 22)
        return (response.status.code, data)
    }

    /// A call that must succeed; returns the JSON response.
    func json(_ operation: String, _ object: [String: Any]) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: object)
        let (status, data) = try await call(operation, Array(body))
        let parsed = (try? JSONSerialization.jsonObject(with: Data(data.readableBytesView))) as? [String: Any] ?? [:]
        guard status == 200 else { throw LoadError("\(operation) failed with \(status): \(parsed["__type"] ?? "") \(parsed["message"] ?? "")") }
        return parsed
    }

    func shutdown() async throws { try await http.shutdown() }
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
