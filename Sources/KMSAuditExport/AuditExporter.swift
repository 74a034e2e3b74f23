import Crypto
import Foundation
import KMSService

/// Writes the audit trail as CloudTrail writes it to S3, so that tools made for CloudTrail
/// logs read it:
///
///     DIR/AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz
///         {"Records": [...]}: the events of one account and region in one interval, each
///         record byte for byte as stored (canonical JSON with its chain links)
///     DIR/AWSLogs/CloudTrail-Digest/YYYY/MM/DD/swiftkms_CloudTrail-Digest_YYYYMMDDTHHmmssZ_SERIAL.json.gz
///         one digest per export: each log file's SHA-256, where each chain starts and ends,
///         the previous digest's signature, all signed with the audit signing key
///
/// Exports are incremental: each continues every chain where the directory's newest digest
/// left it, so one directory holds the whole trail and verifies as one.
public struct AuditExporter: Sendable {
    let ledger: AuditLedger
    let signingKey: AuditSigningKey
    /// Length of the interval one log file covers.
    let intervalMinutes: Int

    public init(ledger: AuditLedger, signingKey: AuditSigningKey, intervalMinutes: Int = 60) {
        self.ledger = ledger
        self.signingKey = signingKey
        self.intervalMinutes = max(1, intervalMinutes)
    }

    public struct Summary: Sendable {
        public var events = 0
        public var logFiles: [String] = []
        public var digestFile: String?
    }

    /// Exports, per chain, the events after those already in `directory`, through
    /// `through[chain]` when given (else through the chain's head).
    public func export(to directory: URL, through: [String: Int64]? = nil, now: Date = Date()) async throws -> Summary {
        let (previous, exportedThrough) = try AuditExportDirectory(directory).exported()
        var records: [(event: StoredAuditEvent, json: JSONValue)] = []
        var chainRanges: [JSONValue] = []
        for state in try await ledger.chains() {
            let last = through.map { $0[state.chain] ?? state.baseSequence } ?? state.headSequence
            var after = max(exportedThrough[state.chain] ?? 0, state.baseSequence)
            let firstAfter = after
            var previousDigest: [UInt8]?
            var lastDigest: [UInt8] = []
            while after < last {
                let page = try await ledger.events(chain: state.chain, afterSequence: after, limit: 1000).filter { $0.sequence <= last }
                if page.isEmpty { break }
                for event in page {
                    guard let json = JSONValue.parse(bytes: event.bytes) else {
                        throw ExportError("event \(event.chain)/\(event.sequence) is not JSON")
                    }
                    if previousDigest == nil { previousDigest = AuditChain.links(of: json)?.previousDigest ?? AuditChain.genesisDigest }
                    records.append((event, json))
                    lastDigest = event.digest
                    after = event.sequence
                }
            }
            guard after > firstAfter, let previousDigest else { continue }
            chainRanges.append(
                .object([
                    "chain": .string(state.chain), "firstSequence": .number(Double(firstAfter + 1)), "lastSequence": .number(Double(after)),
                    "previousDigest": .string(Hex.encode(previousDigest)), "lastDigest": .string(Hex.encode(lastDigest)),
                ]))
        }
        var summary = Summary()
        guard !records.isEmpty else { return summary }

        // One log file per account, region and interval; records in chain order within it.
        struct FileKey: Hashable {
            var account: String
            var region: String
            var interval: Int64
        }
        let seconds = Int64(intervalMinutes) * 60
        var files: [FileKey: [(event: StoredAuditEvent, json: JSONValue)]] = [:]
        for record in records {
            let account = record.json[member: "recipientAccountId"]?.stringValue ?? "unknown"
            let region = record.json[member: "awsRegion"]?.stringValue ?? "unknown"
            let interval = Int64(record.event.eventTime.timeIntervalSince1970) / seconds * seconds
            files[FileKey(account: Self.pathSafe(account), region: Self.pathSafe(region), interval: interval), default: []].append(record)
        }
        var logFiles: [JSONValue] = []
        for (key, items) in files.sorted(by: { ($0.key.interval, $0.key.account, $0.key.region) < ($1.key.interval, $1.key.account, $1.key.region) })
        {
            var content = Array(#"{"Records":["#.utf8)
            for (index, item) in items.enumerated() {
                if index > 0 { content.append(UInt8(ascii: ",")) }
                content += item.event.bytes
            }
            content += Array("]}".utf8)
            let hash = Hex.encode(Array(SHA256.hash(data: content)))
            let start = Date(timeIntervalSince1970: Double(key.interval))
            let day = Self.dayPath(start)
            let relative =
                "AWSLogs/\(key.account)/CloudTrail/\(key.region)/\(day)/\(key.account)_CloudTrail_\(key.region)_\(Self.stamp(start, seconds: false))_\(hash.prefix(16)).json.gz"
            try DurableFile.write(try Gzip.compress(content), to: directory.appendingPathComponent(relative))
            let times = items.map(\.event.eventTime)
            logFiles.append(
                .object([
                    "s3Object": .string(relative), "hashValue": .string(hash), "hashAlgorithm": .string("SHA-256"),
                    "oldestEventTime": .string(AuditTime.iso8601(times.min() ?? start)),
                    "newestEventTime": .string(AuditTime.iso8601(times.max() ?? start)),
                ]))
            summary.logFiles.append(relative)
            summary.events += items.count
        }

        let serial = (previous?.serial ?? 0) + 1
        let times = records.map(\.event.eventTime)
        let fingerprint = AuditVerifyingKey(der: signingKey.publicKeyDER)?.fingerprint ?? ""
        var digest: [String: JSONValue] = [
            "digestStartTime": .string(AuditTime.iso8601(times.min() ?? now)),
            "digestEndTime": .string(AuditTime.iso8601(now)),
            "digestSerial": .number(Double(serial)),
            "digestPublicKeyFingerprint": .string(fingerprint),
            "digestSignatureAlgorithm": .string("SHA256withECDSA"),
            "previousDigestSignature": previous.map { .string($0.signature) } ?? .null,
            "previousDigestS3Object": previous.map { .string($0.path) } ?? .null,
            "logFiles": .array(logFiles),
            "chains": .array(chainRanges),
        ]
        let signature = try signingKey.sign(JSONValue.object(digest).canonicalBytes)
        digest["digestSignature"] = .string(Data(signature).base64EncodedString())
        let relative =
            "AWSLogs/CloudTrail-Digest/\(Self.dayPath(now))/swiftkms_CloudTrail-Digest_\(Self.stamp(now, seconds: true))_\(String(format: "%06d", serial)).json.gz"
        try DurableFile.write(try Gzip.compress(JSONValue.object(digest).canonicalBytes), to: directory.appendingPathComponent(relative))
        summary.digestFile = relative
        return summary
    }

    static func pathSafe(_ text: String) -> String {
        let allowed = text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" }
        return allowed && !text.isEmpty ? text : "unknown"
    }

    static func dayPath(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d/%02d/%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// `YYYYMMDDTHHmmZ` (log files) or `YYYYMMDDTHHmmssZ` (digests), as CloudTrail names them.
    static func stamp(_ date: Date, seconds: Bool) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let base = String(format: "%04d%02d%02dT%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
        return seconds ? base + String(format: "%02dZ", c.second ?? 0) : base + "Z"
    }
}
