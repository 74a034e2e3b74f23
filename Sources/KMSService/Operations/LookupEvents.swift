import Foundation
import KMSStorage

/// CloudTrail's LookupEvents, answered from the audit trail: the events of the caller's
/// account in the request's region, newest first, as CloudTrail's API returns them.
public struct LookupEventsRequest: Sendable {
    /// At most one (CloudTrail's rule); `AttributeKey` is one of the model's eight.
    public var attributes: [(key: String, value: String)] = []
    /// Inclusive, to the second the records show.
    public var startTime: Date?
    public var endTime: Date?
    /// `insight` asks for CloudTrail Insights events, which this trail has none of.
    public var eventCategory: String?
    public var maxResults: Int?
    public var nextToken: String?

    public init() {}
}

/// One event of a LookupEvents answer.
public struct LookedUpEvent: Sendable {
    public var eventID: String?
    public var eventName: String?
    /// `true` or `false`, as CloudTrail's API spells it.
    public var readOnly: String?
    public var accessKeyID: String?
    /// To the second, as the record's `eventTime`.
    public var eventTime: Date
    public var eventSource: String?
    public var username: String?
    public var resources: [(type: String?, name: String?)]
    /// The record as stored, chain links included: byte for byte what `audit verify` checks.
    public var cloudTrailEvent: String
}

extension KeyManagementService {
    /// How many audit segments one lookup may inflate before it answers with what it has and
    /// a `NextToken` to go on (a lookup that matches little of a large trail costs a bounded
    /// amount per request; CloudTrail's clients follow the token).
    static let lookupSegmentBudget = 64

    public func lookupEvents(
        _ request: LookupEventsRequest, _ context: RequestContext
    ) async throws(KMSError) -> (
        events: [LookedUpEvent], nextToken: String?
    ) {
        try await authorizeAccountAction(context, AccessRequest(.lookupEvents))
        let lookup = try EventLookup(request, context)
        if request.eventCategory == "insight" { return ([], nil) }
        let maxResults = request.maxResults ?? 50
        var query = lookup.query
        query.limit = maxResults + 1
        query.segmentBudget = Self.lookupSegmentBudget
        query.after = try request.nextToken.map { token throws(KMSError) in try lookup.cursor(from: token) }
        let page = try await store.auditEvents(matching: query)
        let examined = page.events.prefix(maxResults)
        var found: [LookedUpEvent] = []
        for event in examined {
            if let shown = lookup.shown(event) { found.append(shown) }
        }
        // Past the page's last examined event, if more may follow: the one after it was found,
        // or the search stopped at its budget.
        let next: AuditCursor? =
            page.events.count > maxResults ? examined.last.map(AuditCursor.init) : page.resume
        return (found, next.map(lookup.token))
    }
}

/// One LookupEvents request as a store query, the check of each candidate against the
/// attribute (the query narrows, this decides), and its paging tokens.
struct EventLookup {
    var query: AuditQuery
    /// The attribute, checked on each record (nil: the query alone decides).
    private var attribute: (key: String, value: String)?
    /// What a token carries of the request it continues: the same parameters must come with it.
    private let fingerprint: String

    init(_ request: LookupEventsRequest, _ context: RequestContext) throws(KMSError) {
        guard request.attributes.count <= 1 else {
            throw KMSError(.invalidLookupAttributes, "You cannot specify more than one lookup attribute.")
        }
        if let start = request.startTime, let end = request.endTime, start > end {
            throw KMSError(.invalidTimeRange, "The start time must not be after the end time.")
        }
        query = AuditQuery(startTime: request.startTime, region: context.region, limit: 50)
        query.account = context.account
        // CloudTrail's end is inclusive, to the second the records show.
        query.endTime = request.endTime.map { Date(timeIntervalSince1970: $0.timeIntervalSince1970.rounded(.down) + 1) }
        let parameters = [
            request.attributes.first.map { "\($0.key)=\($0.value)" } ?? "-", request.startTime.map { "\($0.millis)" } ?? "-",
            request.endTime.map { "\($0.millis)" } ?? "-", request.eventCategory ?? "-",
        ]
        fingerprint = Self.fnv1a(parameters.joined(separator: "\n"))
        attribute = request.attributes.first
        if let (key, value) = attribute { try narrow(key: key, value: value, context) }
    }

    /// Narrows the query to what the attribute can match: by an indexed column where there is
    /// one, else by the bytes the record must hold.
    private mutating func narrow(key: String, value: String, _ context: RequestContext) throws(KMSError) {
        switch key {
        case "EventName": query.eventName = value
        case "Username": query.userName = value
        case "AccessKeyId": query.accessKeyID = value
        case "ReadOnly":
            guard value == "true" || value == "false" else {
                throw KMSError(.invalidLookupAttributes, "The value of the ReadOnly lookup attribute must be true or false.")
            }
            query.readOnly = value == "true"
            attribute = nil
        case "EventId":
            // A time-ordered ID names its millisecond; an older random one is searched for.
            if let millis = UUID.timeOrderedMillis(value) {
                query.startTime = max(query.startTime ?? .distantPast, Date(millis: millis))
                query.endTime = min(query.endTime ?? .distantFuture, Date(millis: millis + 1))
            }
            query.recordContains = Self.member("eventID", value)
        case "ResourceName":
            let prefix = ResourceName.keyARN(region: context.region, account: context.account, keyID: "")
            if ResourceName.isWellFormedKeyID(value) {
                query.keyID = value
            } else if value.hasPrefix(prefix), ResourceName.isWellFormedKeyID(String(value.dropFirst(prefix.count))) {
                query.keyID = String(value.dropFirst(prefix.count))
                attribute = nil
            } else {
                query.recordContains = Self.member("ARN", value)
            }
        case "ResourceType": query.recordContains = Self.member("type", value)
        case "EventSource": query.recordContains = Self.member("eventSource", value)
        default:
            throw KMSError(.invalidLookupAttributes, "\(key) is not a lookup attribute.")
        }
    }

    /// `"NAME":"VALUE"` as canonical JSON writes it, when the value needs no escaping there
    /// (no quote, backslash or control character; else nil: each record is checked alone).
    private static func member(_ name: String, _ value: String) -> [UInt8]? {
        let plain = value.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        return plain ? Array("\"\(name)\":\"\(value)\"".utf8) : nil
    }

    /// The event as LookupEvents shows it, if the attribute matches its record.
    func shown(_ event: StoredAuditEvent) -> LookedUpEvent? {
        guard let record = JSONValue.parse(bytes: event.bytes) else { return nil }
        let resources: [(type: String?, name: String?)] =
            record[member: "resources"]?.arrayValue?.map { ($0[member: "type"]?.stringValue, $0[member: "ARN"]?.stringValue) } ?? []
        if let (key, value) = attribute {
            let matches =
                switch key {
                case "EventId": record[member: "eventID"]?.stringValue == value
                case "EventSource": record[member: "eventSource"]?.stringValue == value
                case "ResourceType": resources.contains { $0.type == value }
                case "ResourceName": resources.contains { $0.name == value || $0.name?.hasSuffix(":key/" + value) == true }
                default: true  // decided by the query's column
                }
            guard matches else { return nil }
        }
        return LookedUpEvent(
            eventID: record[member: "eventID"]?.stringValue, eventName: record[member: "eventName"]?.stringValue,
            readOnly: record[member: "readOnly"]?.boolValue.map { $0 ? "true" : "false" },
            accessKeyID: record[member: "userIdentity"]?[member: "accessKeyId"]?.stringValue,
            eventTime: Date(timeIntervalSince1970: event.eventTime.timeIntervalSince1970.rounded(.down)),
            eventSource: record[member: "eventSource"]?.stringValue, username: event.userName, resources: resources,
            cloudTrailEvent: String(decoding: event.bytes, as: UTF8.self))
    }

    /// `NextToken`: where the next page starts, and which request it continues.
    func token(_ cursor: AuditCursor) -> String {
        Data("1\n\(cursor.millis)\n\(cursor.sequence)\n\(fingerprint)\n\(cursor.chain)".utf8).base64EncodedString()
    }

    func cursor(from token: String) throws(KMSError) -> AuditCursor {
        let invalid = KMSError(.invalidNextToken, "Invalid NextToken: use one from a response to the same request.")
        guard token.utf8.count <= 4096, let bytes = Base64.decodeStrict(token) else { throw invalid }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "\n", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "1", let millis = Int64(parts[1]), let sequence = Int64(parts[2]), parts[3] == fingerprint
        else { throw invalid }
        return AuditCursor(millis: millis, chain: String(parts[4]), sequence: sequence)
    }

    /// FNV-1a, 64 bits, in hex: the same on every node and every run (unlike `Hasher`).
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
