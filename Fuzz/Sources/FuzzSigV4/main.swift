import Foundation
import FuzzDriver
import KMSCore
import KMSProtocol

/// SigV4 as the server meets it before anything else: the Authorization header parsed, the
/// signing headers checked, the canonical request written, for headers made of the input.
/// Input: lines `name: value`; the first line is also tried as an Authorization header alone.
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    _ = try? SigV4.parseAuthorization(String(lines.first ?? ""))
    var headers: [(name: String, value: String)] = []
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
    }
    headers.append(("authorization", String(lines.first ?? "")))
    let request = SigV4.HTTPRequest(
        method: "POST", path: String(lines.last ?? "/"), query: String(lines.dropFirst().first ?? ""),
        headers: headers, body: Data(text.utf8))
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    if let preflight = try? SigV4.preflight(request, now: now, requiredSignedHeaders: ["host"]) {
        _ = SigV4.canonicalRequest(request, signedHeaders: preflight.authorization.signedHeaders)
        try? SigV4.verifySignature(request, preflight, secret: "fuzz-secret-key")
    }
    _ = SigV4.canonicalRequest(request, signedHeaders: headers.map { $0.name.lowercased() }.sorted())
    return 0
}

runFuzzer(fuzz)
