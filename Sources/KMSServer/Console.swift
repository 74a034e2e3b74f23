import HTTPTypes
import Hummingbird

/// The web console's files (`ConsoleFiles`, compiled from `console/` by
/// `scripts/generate-console`), under `/console/`. The console has no route of its own beyond
/// these files: everything it shows or does is a request to `POST /` signed in the browser as
/// the signed-in principal, so it can do nothing that principal could not do with the CLI, and
/// all of it is in the audit trail as that principal's.
///
/// Served from memory, before and without authentication (they hold no secret), with a
/// Content-Security-Policy that allows this origin's scripts, styles and requests only: no
/// inline script or style, no other origin, no framing, no form posted anywhere.
enum Console {
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static func addRoutes(to router: Router<KMSRequestContext>) {
        // `/console/` is the same route: the router ignores a trailing slash. The page names
        // its files by absolute paths, so either works.
        router.get("/console") { _, _ in file("index.html") }
        router.get("/console/{file}") { _, context in file(context.parameters.get("file") ?? "") }
    }

    /// The file's response, or 404 for a name the console does not have.
    static func file(_ name: String) -> Response {
        guard let file = ConsoleFiles.files[name] else {
            return Response(
                status: .notFound, headers: headers(contentType: "text/plain; charset=utf-8"),
                body: .init(byteBuffer: ByteBuffer(string: "Not found\n")))
        }
        return Response(status: .ok, headers: headers(contentType: file.contentType), body: .init(byteBuffer: ByteBuffer(string: file.body)))
    }

    private static func headers(contentType: String) -> HTTPFields {
        [
            .contentType: contentType,
            HTTPField.Name("Content-Security-Policy")!: contentSecurityPolicy,
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
            HTTPField.Name("Cross-Origin-Opener-Policy")!: "same-origin",
            .cacheControl: "no-cache",
        ]
    }
}
