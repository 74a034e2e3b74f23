import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KMSProtocol
import KMSServer
import KMSService
import KMSStorageSQLite

/// The server's routes over a fresh SQLite database in a directory removed at the end, with
/// the account root's access key, driven without a socket (`app.test(.router)`).
final class ServerFixture: Sendable {
    static let account = "111122223333"
    let directory: URL
    let application: Application<RouterResponder<KMSRequestContext>>
    let accessKeyID: String
    let secret: String
    let api: KMSAPI
    let credentials: Credentials

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftkms-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite3").path)
        let rootKey = try RootKey(rawBytes: RootKey.generateRawBytes())
        let credentials = Credentials(store: store, rootKey: rootKey, auditChain: "main")
        guard let issued = try await credentials.bootstrapRoot(account: Self.account, given: nil) else { throw KMSError.internalFailure() }
        accessKeyID = issued.accessKeyID
        secret = issued.secretAccessKey
        let service = KeyManagementService(store: store, rootKey: rootKey)
        api = KMSAPI(service: service)
        self.credentials = credentials
        let router = buildRouter(api: api, credentials: credentials, bodyTimeout: .seconds(20))
        application = Application(router: router)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Headers of a request to `target` signed with the root's key (or `secret`), as an SDK
    /// signs it; `extra` headers are signed too.
    func signedHeaders(target: String?, body: [UInt8], secret: String? = nil, extra: [(String, String)] = []) -> HTTPFields {
        let date = SigV4Signing.amzDate(Date())
        // The router test framework sends every request with authority "localhost", which the
        // server takes as its Host header: signed, and not sent a second time.
        var pairs: [(String, String)] = [("x-amz-date", date), ("content-type", "application/x-amz-json-1.1")]
        if let target { pairs.append(("x-amz-target", "TrentService.\(target)")) }
        pairs += extra
        let authorization = SigV4Signing.authorization(
            headers: pairs + [("host", "localhost")], body: body, date: date, accessKeyID: accessKeyID, secret: secret ?? self.secret)
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        fields.append(HTTPField(name: .authorization, value: authorization))
        return fields
    }

    /// Sends a signed request and returns the response.
    func call(
        _ client: some TestClientProtocol, _ target: String?, _ json: String, secret: String? = nil,
        extra: [(String, String)] = []
    ) async throws -> TestResponse {
        let body = Array(json.utf8)
        return try await client.execute(
            uri: "/", method: .post, headers: signedHeaders(target: target, body: body, secret: secret, extra: extra),
            body: ByteBuffer(bytes: body))
    }
}

extension TestResponse {
    /// The body as JSON members.
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:] }
    /// The error's name, as `__type` carries it.
    var errorType: String? { json["__type"] as? String }
}

/// SigV4 as an AWS SDK signs a request: only what the tests need, on SigV4's public parts.
enum SigV4Signing {
    static func amzDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    static func authorization(headers: [(String, String)], body: [UInt8], date: String, accessKeyID: String, secret: String) -> String {
        let request = SigV4.HTTPRequest(method: "POST", path: "/", query: "", headers: headers.map { (name: $0.0, value: $0.1) }, body: Data(body))
        let signed = headers.map { $0.0.lowercased() }.sorted()
        let scope = "\(date.prefix(8))/us-east-1/kms/aws4_request"
        let stringToSign = SigV4.stringToSign(canonicalRequest: SigV4.canonicalRequest(request, signedHeaders: signed), amzDate: date, scope: scope)
        let key = SigV4.signingKey(secret: secret, date: String(date.prefix(8)), region: "us-east-1", service: "kms")
        return
            "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signed.joined(separator: ";")), Signature=\(SigV4.signature(stringToSign: stringToSign, signingKey: key))"
    }
}
