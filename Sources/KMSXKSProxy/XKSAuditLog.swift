import Crypto
import Foundation
import KMSCore
import Synchronization

/// The proxy's own audit log: one JSON object per line per request, each carrying the SHA-256
/// (hex) of the line before it, so that a line changed, removed or inserted breaks the chain
/// (`swiftkms xks-proxy verify-audit-log`). Records hold the request metadata, the outcome and
/// the duration; never a plaintext, ciphertext, key or secret.
final class XKSAuditLog: Sendable {
    struct Record: Encodable {
        var sequence: Int = 0
        var previousHash: String = ""
        var time: String
        var xksOperation: String
        var uriPath: String?
        var externalKeyId: String?
        var accessKeyId: String?
        var sourceIp: String?
        var kmsRequestId: String?
        var kmsOperation: String?
        var kmsKeyArn: String?
        var awsPrincipalArn: String?
        var kmsViaService: String?
        var httpStatus: Int
        var errorName: String?
        var errorMessage: String?
        var durationMs: Double
    }

    static let genesis = String(repeating: "0", count: 64)

    private let file: FileHandle
    private let chain: Mutex<(sequence: Int, hash: String)>

    /// Opens `path` for appending (created owner-only), continuing the chain of its last line.
    init(path: String) throws(XKSProxyConfigurationError) {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw XKSProxyConfigurationError("Cannot create the audit log \(path).")
            }
        }
        guard let handle = FileHandle(forUpdatingAtPath: path), let existing = try? handle.readToEnd() ?? Data() else {
            throw XKSProxyConfigurationError("Cannot open the audit log \(path) to append to it.")
        }
        let lines = existing.split(separator: UInt8(ascii: "\n"))
        var state = (sequence: 0, hash: Self.genesis)
        if let last = lines.last {
            struct Head: Decodable { var sequence: Int }
            guard let head = try? JSONDecoder().decode(Head.self, from: Data(last)) else {
                throw XKSProxyConfigurationError("The last line of the audit log \(path) is not an audit record.")
            }
            state = (head.sequence, Hex.encode(SHA256.hash(data: last)))
        }
        file = handle
        chain = Mutex(state)
    }

    /// Appends `record` as the next line (one `write`, so a killed process leaves whole lines).
    func append(_ record: Record) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        chain.withLock { state in
            var record = record
            record.sequence = state.sequence + 1
            record.previousHash = state.hash
            guard let line = try? encoder.encode(record) else { return }
            file.write(line + Data([UInt8(ascii: "\n")]))
            state = (record.sequence, Hex.encode(SHA256.hash(data: line)))
        }
    }

    /// Checks the chain of the log at `path`: nil when intact, else the first broken line.
    static func verify(path: String) throws(XKSProxyConfigurationError) -> (lines: Int, brokenAt: Int?) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw XKSProxyConfigurationError("Cannot read the audit log \(path).")
        }
        struct Link: Decodable {
            var sequence: Int
            var previousHash: String
        }
        var previous = genesis
        let lines = data.split(separator: UInt8(ascii: "\n"))
        for (index, line) in lines.enumerated() {
            guard let link = try? JSONDecoder().decode(Link.self, from: Data(line)), link.sequence == index + 1,
                ConstantTime.equals(link.previousHash, previous)
            else { return (lines.count, index + 1) }
            previous = Hex.encode(SHA256.hash(data: line))
        }
        return (lines.count, nil)
    }
}
