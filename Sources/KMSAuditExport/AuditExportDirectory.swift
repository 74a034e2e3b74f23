import Crypto
import Foundation
import KMSService

/// An export directory as a verifier reads it, with nothing but the audit public key.
public struct AuditExportDirectory: Sendable {
    let root: URL

    public init(_ root: URL) {
        self.root = root
    }

    /// A digest file, read and parsed (its signature not yet checked).
    struct Digest {
        var path: String
        var serial: Int
        var json: [String: JSONValue]
        var signature: String
    }

    /// Paths (relative to the root) of files under `AWSLogs` whose name contains `marker`.
    func files(containing marker: String) -> [String] {
        let base = root.appendingPathComponent("AWSLogs")
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        var found: [String] = []
        while let item = walker.nextObject() as? String {
            if (item as NSString).lastPathComponent.contains(marker), item.hasSuffix(".json.gz") { found.append("AWSLogs/" + item) }
        }
        return found.sorted()
    }

    func read(_ relative: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(relative).path) else {
            throw ExportError("\(relative) is missing")
        }
        do { return try Gzip.decompress(Array(data)) } catch { throw ExportError("\(relative) is not a gzip file") }
    }

    /// Every digest file, in serial order.
    func digests() throws -> [Digest] {
        try files(containing: "_CloudTrail-Digest_").map { path in
            guard case .object(let json)? = JSONValue.parse(bytes: try read(path)),
                let signature = json["digestSignature"]?.stringValue,
                case .number(let serial)? = json["digestSerial"]
            else { throw ExportError("\(path) is not a digest file") }
            return Digest(path: path, serial: Int(serial), json: json, signature: signature)
        }.sorted { $0.serial < $1.serial }
    }

    /// The newest digest, and per chain the last sequence number any digest attests.
    func exported() throws -> (newest: Digest?, through: [String: Int64]) {
        let all = try digests()
        var through: [String: Int64] = [:]
        for digest in all {
            guard case .array(let chains)? = digest.json["chains"] else { continue }
            for item in chains {
                if let chain = item[member: "chain"]?.stringValue, case .number(let n)? = item[member: "lastSequence"] {
                    through[chain] = max(through[chain] ?? 0, Int64(n))
                }
            }
        }
        return (all.last, through)
    }

    public struct Verification: Sendable {
        public var digestFiles = 0
        public var logFiles = 0
        public var events = 0
        public var problem: AuditProblem?
    }

    /// Checks the digests' signatures and their sequence, every chain event by event, then
    /// every log file's hash; stops at the first problem.
    public func verify(key: AuditVerifyingKey) throws -> Verification {
        var result = Verification()
        func fail(_ text: String) -> Verification {
            result.problem = AuditProblem(text)
            return result
        }
        let digests: [Digest]
        do { digests = try self.digests() } catch { return fail("\(error)") }
        result.digestFiles = digests.count
        var previousSignature: String?
        var listed: [String: String] = [:]
        var chainEnds: [String: (sequence: Int64, digest: [UInt8])] = [:]
        var verifiers: [String: AuditChainVerifier] = [:]
        for (index, digest) in digests.enumerated() {
            var unsigned = digest.json
            unsigned["digestSignature"] = nil
            guard let signature = Data(base64Encoded: digest.signature),
                key.isValidSignature(Array(signature), for: JSONValue.object(unsigned).canonicalBytes)
            else {
                return fail("\(digest.path): the signature does not verify with the audit public key (altered or forged)")
            }
            if digest.serial != index + 1 || digest.json["previousDigestSignature"]?.stringValue != previousSignature {
                return fail("\(digest.path) does not follow the digest before it: a digest file is missing or was replaced")
            }
            previousSignature = digest.signature
            guard case .array(let logFiles)? = digest.json["logFiles"], case .array(let chains)? = digest.json["chains"] else {
                return fail("\(digest.path) lists no log files")
            }
            // The events of this digest's log files, checked chain by chain in sequence order.
            var events: [String: [(sequence: Int64, bytes: [UInt8])]] = [:]
            for file in logFiles {
                guard let path = file[member: "s3Object"]?.stringValue, let hash = file[member: "hashValue"]?.stringValue else {
                    return fail("\(digest.path) has a malformed log file entry")
                }
                listed[path] = hash
                let content: [UInt8]
                do { content = try read(path) } catch { return fail("\(path), listed in \(digest.path), is missing") }
                guard case .array(let records)? = JSONValue.parse(bytes: content)?[member: "Records"] else {
                    return fail("\(path) is not a CloudTrail log file")
                }
                result.logFiles += 1
                for record in records {
                    let bytes = record.canonicalBytes
                    guard let links = AuditChain.links(of: record) else {
                        return fail("\(path): event \(record[member: "eventID"]?.stringValue ?? "?") carries no chain links (inserted)")
                    }
                    events[links.chain, default: []].append((links.sequence, bytes))
                }
            }
            for range in chains {
                guard let chain = range[member: "chain"]?.stringValue, case .number(let first)? = range[member: "firstSequence"],
                    case .number(let last)? = range[member: "lastSequence"],
                    let previous = range[member: "previousDigest"]?.stringValue.flatMap(Hex.decode),
                    let lastDigest = range[member: "lastDigest"]?.stringValue.flatMap(Hex.decode)
                else { return fail("\(digest.path) has a malformed chain entry") }
                if let end = chainEnds[chain], end.sequence != Int64(first) - 1 || end.digest != previous {
                    return fail(
                        "chain \(chain): \(digest.path) starts at sequence \(Int64(first)), which does not continue the previous digest's end at \(end.sequence)"
                    )
                }
                var verifier = verifiers[chain] ?? AuditChainVerifier(chain: chain, baseSequence: Int64(first) - 1, baseDigest: previous)
                for event in (events[chain] ?? []).sorted(by: { $0.sequence < $1.sequence }) {
                    if let problem = verifier.consume(event.bytes, storedSequence: nil) {
                        result.problem = problem
                        return result
                    }
                    result.events += 1
                }
                if verifier.lastSequence != Int64(last) || verifier.lastDigest != lastDigest {
                    return fail(
                        "chain \(chain): \(digest.path) attests events through sequence \(Int64(last)), but its log files end at \(verifier.lastSequence) or differ (events removed or altered)"
                    )
                }
                verifiers[chain] = verifier
                chainEnds[chain] = (Int64(last), lastDigest)
                events[chain] = nil
            }
            if let stray = events.keys.sorted().first {
                return fail("\(digest.path): its log files hold events of chain \(stray), which it does not attest (inserted)")
            }
        }
        // Last, each file byte for byte: this is what catches records reordered within a file.
        for (path, hash) in listed.sorted(by: { $0.key < $1.key }) {
            guard let content = try? read(path), Hex.encode(Array(SHA256.hash(data: content))) == hash else {
                return fail("\(path): its content does not match the SHA-256 its digest lists (altered, reordered, removed or inserted records)")
            }
        }
        if let stray = files(containing: "_CloudTrail_").first(where: { listed[$0] == nil }) {
            return fail("\(stray) is listed in no digest file (inserted)")
        }
        return result
    }
}
