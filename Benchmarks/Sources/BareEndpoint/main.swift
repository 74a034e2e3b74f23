import ArgumentParser
import Hummingbird

/// The ceiling of the HTTP stack on this machine: a Hummingbird endpoint that reads the
/// request body and answers a fixed JSON body of a given size, doing nothing else.
@main
struct BareEndpoint: AsyncParsableCommand {
    @Option(help: "Port to listen on.") var port = 9700
    @Option(help: "Size of the fixed response body in bytes (an Encrypt response of 100 B is about 300).") var responseSize = 300

    func run() async throws {
        let payload = "{\"CiphertextBlob\":\"" + String(repeating: "A", count: max(0, responseSize - 21)) + "\"}"
        let router = Router()
        router.post("/") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(
                status: .ok, headers: [.contentType: "application/x-amz-json-1.1"],
                body: .init(byteBuffer: ByteBuffer(string: payload)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
