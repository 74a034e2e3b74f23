import Crypto
import Foundation
import Synchronization

/// Signs AWS JSON 1.1 KMS requests with SigV4, as the SDKs do: its own implementation (the
/// benchmarks share no code with the server), the day's signing key derived once and cached.
/// Used by the load generator and by the SigV4 microbenchmark.
public final class SigV4Signer: Sendable {
    public let accessKey: String
    public let region: String
    private let secret: String
    private let dayKey = Mutex<(day: String, key: SymmetricKey)?>(nil)

    public init(accessKey: String, secretKey: String, region: String) {
        self.accessKey = accessKey
        secret = secretKey
        self.region = region
    }

    /// The headers of a signed `POST /` to `host` with `X-Amz-Target: TrentService.<operation>`.
    public func headers(host: String, operation: String, body: [UInt8], now: Date = Date()) -> [(String, String)] {
        let amzDate = Self.amzDate(now)
        let day = String(amzDate.prefix(8))
        let target = "TrentService.\(operation)"
        let contentType = "application/x-amz-json-1.1"
        let canonical = """
            POST
            /

            content-type:\(contentType)
            host:\(host)
            x-amz-date:\(amzDate)
            x-amz-target:\(target)

            content-type;host;x-amz-date;x-amz-target
            \(Self.hex(SHA256.hash(data: body)))
            """
        let scope = "\(day)/\(region)/kms/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Data(canonical.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
        return [
            ("Content-Type", contentType), ("X-Amz-Date", amzDate), ("X-Amz-Target", target),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=\(signature)"
            ),
        ]
    }

    private func signingKey(day: String) -> SymmetricKey {
        if let cached = dayKey.withLock({ $0 }), cached.day == day { return cached.key }
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, "kms", "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        dayKey.withLock { $0 = (day, key) }
        return key
    }

    static func amzDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
