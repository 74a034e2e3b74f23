import Crypto
import Foundation

/// One CloudTrail-format record of a request (or of something the service did by itself),
/// before it takes its place in an audit chain.
///
/// `record` holds the CloudTrail fields; it never holds plaintext, ciphertext, key material,
/// data keys, secrets or the Authorization header (the builders in KMSService leave them out).
/// The other members are copies of record fields that lookups filter on.
public struct AuditEvent: Sendable {
    /// The chain this event is appended to: one per server node (`serve --audit-chain`).
    public var chain: String
    public let record: [String: JSONValue]
    /// The record's canonical JSON, made when the event is (on the request's thread), so that
    /// sealing it in the store's serial writer only splices the links in.
    let unsealed: AuditChain.Unsealed
    public var eventTime: Date
    public var eventName: String
    /// `recipientAccountId`; nil when the request's account is unknown (an unknown access key).
    public var account: String?
    public var region: String?
    /// `userIdentity.userName`, or `root` for an account root (as LookupEvents' Username).
    public var userName: String?
    public var accessKeyID: String?
    public var readOnly: Bool
    public var errorCode: String?
    /// IDs of the KMS keys in `resources`.
    public var keyIDs: [String]

    public init(
        chain: String, record: [String: JSONValue], eventTime: Date, eventName: String, account: String?, region: String?,
        userName: String?, accessKeyID: String?, readOnly: Bool, errorCode: String?, keyIDs: [String]
    ) {
        self.chain = chain
        self.record = record
        self.unsealed = AuditChain.Unsealed(record)
        self.eventTime = eventTime
        self.eventName = eventName
        self.account = account
        self.region = region
        self.userName = userName
        self.accessKeyID = accessKeyID
        self.readOnly = readOnly
        self.errorCode = errorCode
        self.keyIDs = keyIDs
    }
}

/// An event as stored: its place in its chain and its sealed record bytes.
public struct StoredAuditEvent: Sendable, Equatable {
    public var chain: String
    public var sequence: Int64
    public var eventTime: Date
    /// `AuditChain.seal` output: canonical JSON of the record, links included.
    public var bytes: [UInt8]
    /// The event's `userName` lookup column; set by lookups only (`Store.auditEvents(matching:)`).
    public var userName: String?

    public init(chain: String, sequence: Int64, eventTime: Date, bytes: [UInt8], userName: String? = nil) {
        self.chain = chain
        self.sequence = sequence
        self.eventTime = eventTime
        self.bytes = bytes
        self.userName = userName
    }

    public var digest: [UInt8] { AuditChain.digest(bytes) }
}

/// Where a chain stands: events up to `baseSequence` were pruned (their last digest is
/// `baseDigest`; 0 and the genesis digest when nothing was), and `headSequence` is the last.
public struct AuditChainState: Sendable, Equatable, Codable {
    public var chain: String
    public var baseSequence: Int64
    public var baseDigest: [UInt8]
    public var headSequence: Int64
    public var headDigest: [UInt8]

    public init(chain: String, baseSequence: Int64, baseDigest: [UInt8], headSequence: Int64, headDigest: [UInt8]) {
        self.chain = chain
        self.baseSequence = baseSequence
        self.baseDigest = baseDigest
        self.headSequence = headSequence
        self.headDigest = headDigest
    }
}

/// The hash chain of audit events. Each sealed record carries, in `additionalEventData`,
/// its chain, its sequence number (1, 2, 3, … without gaps) and the SHA-256 digest of its
/// predecessor's sealed bytes (32 zero bytes for the first), so that removing, reordering,
/// altering or inserting an event breaks a link:
///
///     additionalEventData.auditChain          "node-1"
///     additionalEventData.auditSequence       42
///     additionalEventData.previousEventDigest hex SHA-256 of event 41's sealed bytes
public enum AuditChain {
    public static let genesisDigest = [UInt8](repeating: 0, count: 32)

    /// The record's sealed bytes at `sequence` after `previousDigest`: the canonical JSON of
    /// the record with the links added to its `additionalEventData`.
    public static func seal(_ event: AuditEvent, sequence: Int64, previousDigest: [UInt8]) -> [UInt8] {
        var additional = event.unsealed.additional
        additional["auditChain"] = .string(event.chain)
        additional["auditSequence"] = .number(Double(sequence))
        additional["previousEventDigest"] = .string(Hex.encode(previousDigest))
        let links = JSONValue.object(additional).canonicalBytes
        var sealed: [UInt8] = []
        sealed.reserveCapacity(event.unsealed.head.count + links.count + event.unsealed.tail.count + 24)
        sealed += event.unsealed.head
        sealed += #""additionalEventData":"#.utf8
        sealed += links
        sealed += event.unsealed.tail
        return sealed
    }

    /// A record's canonical JSON in the two parts around its `additionalEventData` member
    /// (members sort by their UTF-8 bytes, so that member's place is known without the links).
    struct Unsealed: Sendable {
        /// `{`, the members that sort before `additionalEventData`, and a comma when there are any.
        let head: [UInt8]
        /// A comma and the members after it when there are any, then `}`.
        let tail: [UInt8]
        /// The record's own `additionalEventData` members, to which the links are added.
        let additional: [String: JSONValue]

        init(_ record: [String: JSONValue]) {
            let name = "additionalEventData"
            if case .object(let existing)? = record[name] { additional = existing } else { additional = [:] }
            var before: [String: JSONValue] = [:]
            var after: [String: JSONValue] = [:]
            for (member, value) in record where member != name {
                if member.utf8.lexicographicallyPrecedes(name.utf8) { before[member] = value } else { after[member] = value }
            }
            var head = JSONValue.object(before).canonicalBytes
            head.removeLast()  // "}"
            if !before.isEmpty { head.append(UInt8(ascii: ",")) }
            self.head = head
            var tail = JSONValue.object(after).canonicalBytes
            if after.isEmpty { tail = [UInt8(ascii: "}")] } else { tail[0] = UInt8(ascii: ",") }
            self.tail = tail
        }
    }

    public static func digest(_ sealed: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: sealed))
    }

    /// The links a sealed record carries; nil when the bytes are not a sealed record.
    public static func links(of record: JSONValue) -> (chain: String, sequence: Int64, previousDigest: [UInt8])? {
        guard let additional = record[member: "additionalEventData"],
            let chain = additional[member: "auditChain"]?.stringValue,
            case .number(let sequence)? = additional[member: "auditSequence"], sequence.rounded() == sequence, sequence >= 1,
            let previous = additional[member: "previousEventDigest"]?.stringValue.flatMap(Hex.decode), previous.count == 32
        else { return nil }
        return (chain, Int64(sequence), previous)
    }
}
