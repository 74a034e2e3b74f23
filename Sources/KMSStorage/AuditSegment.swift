import CompressNIO
import Foundation
import KMSCore
import NIOCore

/// An audit event with the fields lookups filter on, as the hot table holds it and as a
/// segment keeps it.
public struct AuditSegmentEntry: Sendable, Equatable {
    public var sequence: Int64
    public var eventTime: Date
    public var eventName: String
    public var account: String?
    public var region: String?
    public var userName: String?
    public var accessKeyID: String?
    public var readOnly: Bool
    public var errorCode: String?
    /// IDs of the KMS keys in the record's `resources`.
    public var keyIDs: [String]
    /// The sealed record, byte for byte.
    public var bytes: [UInt8]

    public init(
        sequence: Int64, eventTime: Date, eventName: String, account: String?, region: String?, userName: String?, accessKeyID: String?,
        readOnly: Bool, errorCode: String?, keyIDs: [String], bytes: [UInt8]
    ) {
        self.sequence = sequence
        self.eventTime = eventTime
        self.eventName = eventName
        self.account = account
        self.region = region
        self.userName = userName
        self.accessKeyID = accessKeyID
        self.readOnly = readOnly
        self.errorCode = errorCode
        self.keyIDs = keyIDs
        self.bytes = bytes
    }

    func stored(chain: String) -> StoredAuditEvent {
        StoredAuditEvent(chain: chain, sequence: sequence, eventTime: eventTime, bytes: bytes, userName: userName)
    }
}

/// Consecutive events of one chain, moved out of the hot table into one compressed row.
///
/// Events are appended one row each (that is what makes each durable before its answer);
/// once a chain has enough of them, the oldest are sealed into a segment: about 100 bytes per
/// Encrypt event instead of 1,400. The sealed bytes inside are the ones the chain links, so
/// verification and export read a segment exactly as they read the hot rows.
public struct AuditSegment: Sendable, Equatable {
    public var chain: String
    public var firstSequence: Int64
    public var lastSequence: Int64
    public var firstTime: Date
    public var lastTime: Date
    /// The digest of the last event's sealed bytes: what a chain's base becomes when the
    /// segment is pruned.
    public var lastDigest: [UInt8]
    /// Every key ID the segment's events name, once each (lookups by key skip the others).
    public var keyIDs: [String]
    /// What lookups by user or by event name look for, once each (`AuditSegment.term`): a
    /// lookup skips the segments without its term.
    public var terms: [String]
    /// The entries, framed and compressed (zlib: deflate with an Adler-32 checksum).
    public var compressed: [UInt8]

    public init(
        chain: String, firstSequence: Int64, lastSequence: Int64, firstTime: Date, lastTime: Date, lastDigest: [UInt8], keyIDs: [String],
        terms: [String], compressed: [UInt8]
    ) {
        self.chain = chain
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.lastDigest = lastDigest
        self.keyIDs = keyIDs
        self.terms = terms
        self.compressed = compressed
    }

    /// Events per segment unless `serve --audit-segment-size` says otherwise: 256 events
    /// deflate to about 100 bytes each, and take about 2 ms to compress.
    public static let defaultSize = 256

    /// A segment of `entries`, which must be consecutive events of `chain`, oldest first.
    public init(chain: String, entries: [AuditSegmentEntry]) throws(StoreError) {
        guard let first = entries.first, let last = entries.last,
            zip(entries, entries.dropFirst()).allSatisfy({ $0.sequence + 1 == $1.sequence })
        else { throw .conflict }
        var writer = Writer()
        writer.byte(Self.formatVersion)
        for entry in entries { writer.entry(entry) }
        var input = ByteBuffer(bytes: writer.bytes)
        guard var output = try? input.compress(with: .zlib()) else { throw .unavailable }
        self.init(
            chain: chain, firstSequence: first.sequence, lastSequence: last.sequence, firstTime: entries.map(\.eventTime).min()!,
            lastTime: entries.map(\.eventTime).max()!, lastDigest: AuditChain.digest(last.bytes),
            keyIDs: Array(Set(entries.flatMap(\.keyIDs))).sorted(), terms: Array(Set(entries.flatMap(Self.terms))).sorted(),
            compressed: output.readBytes(length: output.readableBytes) ?? [])
    }

    /// `user:NAME` and `event:NAME`: the terms an event is found by.
    static func terms(_ entry: AuditSegmentEntry) -> [String] {
        [term(event: entry.eventName)] + (entry.userName.map { [term(user: $0)] } ?? [])
    }
    public static func term(user: String) -> String { "user:" + user }
    public static func term(event: String) -> String { "event:" + event }

    static let formatVersion: UInt8 = 1
    /// A segment's entries inflate to at most this: a damaged row cannot exhaust memory.
    static let maximumInflatedSize = 64 << 20

    /// The segment's events, oldest first. `StoreError.unavailable` when the row is damaged
    /// (it does not inflate, or does not hold exactly the events its sequence range names).
    public func entries() throws(StoreError) -> [AuditSegmentEntry] {
        var input = ByteBuffer(bytes: compressed)
        guard var output = try? input.decompress(with: .zlib(), maxSize: Self.maximumInflatedSize),
            let inflated = output.readBytes(length: output.readableBytes)
        else { throw .unavailable }
        var reader = Reader(bytes: inflated)
        guard reader.byte() == Self.formatVersion else { throw .unavailable }
        var entries: [AuditSegmentEntry] = []
        var sequence = firstSequence
        while !reader.atEnd {
            guard let entry = reader.entry(sequence: sequence) else { throw .unavailable }
            entries.append(entry)
            sequence += 1
        }
        guard sequence == lastSequence + 1 else { throw .unavailable }
        return entries
    }

    /// Length-prefixed fields, big-endian: `nil` strings are the length `UInt32.max`.
    struct Writer {
        var bytes: [UInt8] = []
        mutating func byte(_ value: UInt8) { bytes.append(value) }
        mutating func integer<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        mutating func data(_ value: [UInt8]) {
            integer(UInt32(value.count))
            bytes.append(contentsOf: value)
        }
        mutating func string(_ value: String?) {
            guard let value else { return integer(UInt32.max) }
            data(Array(value.utf8))
        }
        mutating func entry(_ entry: AuditSegmentEntry) {
            integer(entry.eventTime.millis)
            byte(entry.readOnly ? 1 : 0)
            for field in [entry.eventName, entry.account, entry.region, entry.userName, entry.accessKeyID, entry.errorCode] { string(field) }
            integer(UInt32(entry.keyIDs.count))
            for keyID in entry.keyIDs { string(keyID) }
            data(entry.bytes)
        }
    }

    /// Reads what `Writer` wrote; nil at the first field that does not fit.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }
        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard bytes.count - offset >= size else { return nil }
            defer { offset += size }
            return bytes[offset..<offset + size].reduce(T.zero) { $0 << 8 | T($1) }
        }
        mutating func data() -> [UInt8]? {
            guard let count = integer(UInt32.self), count != .max, bytes.count - offset >= Int(count) else { return nil }
            defer { offset += Int(count) }
            return Array(bytes[offset..<offset + Int(count)])
        }
        /// `.some(nil)` for a nil string; nil when the field does not fit.
        mutating func string() -> String?? {
            let start = offset
            if integer(UInt32.self) == .max { return .some(nil) }
            offset = start
            return data().map { String(decoding: $0, as: UTF8.self) }
        }
        mutating func entry(sequence: Int64) -> AuditSegmentEntry? {
            guard let millis = integer(Int64.self), let readOnly = byte(), let eventName = string() ?? nil,
                let account = string(), let region = string(), let userName = string(), let accessKeyID = string(), let errorCode = string(),
                let keyCount = integer(UInt32.self), keyCount <= 1 << 16
            else { return nil }
            var keyIDs: [String] = []
            for _ in 0..<keyCount {
                guard let keyID = string() ?? nil else { return nil }
                keyIDs.append(keyID)
            }
            guard let record = data() else { return nil }
            return AuditSegmentEntry(
                sequence: sequence, eventTime: Date(millis: millis), eventName: eventName, account: account, region: region,
                userName: userName, accessKeyID: accessKeyID, readOnly: readOnly == 1, errorCode: errorCode, keyIDs: keyIDs, bytes: record)
        }
    }
}

/// Where a segment stands, without its events: what a search reads to choose segments.
public struct AuditSegmentSummary: Sendable {
    public var chain: String
    public var firstSequence: Int64
    public var firstTime: Date
    public var lastTime: Date

    public init(chain: String, firstSequence: Int64, firstTime: Date, lastTime: Date) {
        self.chain = chain
        self.firstSequence = firstSequence
        self.firstTime = firstTime
        self.lastTime = lastTime
    }
}

extension AuditQuery {
    /// Whether the event is one the query asks for (what the stores' SQL filters on hot rows).
    public func matches(_ entry: AuditSegmentEntry, chain: String) -> Bool {
        if let after, !comesAfter(after, AuditCursor(millis: entry.eventTime.millis, chain: chain, sequence: entry.sequence)) { return false }
        if let startTime, entry.eventTime.millis < startTime.millis { return false }
        if let endTime, entry.eventTime.millis >= endTime.millis { return false }
        if let eventName, entry.eventName != eventName { return false }
        if let eventNames, !eventNames.contains(entry.eventName) { return false }
        if let userName, entry.userName != userName { return false }
        if let keyID, !entry.keyIDs.contains(keyID) { return false }
        if let region, entry.region != region { return false }
        if let accessKeyID, entry.accessKeyID != accessKeyID { return false }
        if let readOnly, entry.readOnly != readOnly { return false }
        if errorsOnly, entry.errorCode == nil { return false }
        if succeededOnly, entry.errorCode != nil { return false }
        if let account, entry.account != account { return false }
        if let recordContains, !Self.bytes(entry.bytes, contain: recordContains) { return false }
        return true
    }

    /// Whether `needle` occurs in `haystack`: `memchr` to each candidate first byte, then
    /// `memcmp` (the search runs over every record a lookup without an index reads).
    static func bytes(_ haystack: [UInt8], contain needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pattern in
                guard let start = hay.baseAddress else { return false }
                let lastStart = hay.count - pattern.count
                var offset = 0
                while offset <= lastStart {
                    guard let found = memchr(start + offset, Int32(first), lastStart - offset + 1) else { return false }
                    offset = start.distance(to: UnsafeRawPointer(found))
                    if memcmp(start + offset, pattern.baseAddress!, pattern.count) == 0 { return true }
                    offset += 1
                }
                return false
            }
        }
    }

    /// Whether the query's order puts `place` after `cursor`.
    public func comesAfter(_ cursor: AuditCursor, _ place: AuditCursor) -> Bool {
        if place.millis != cursor.millis { return oldestFirst ? place.millis > cursor.millis : place.millis < cursor.millis }
        if place.chain != cursor.chain { return place.chain > cursor.chain }
        return oldestFirst ? place.sequence > cursor.sequence : place.sequence < cursor.sequence
    }

    /// Whether `a` comes before `b` in the query's order (newest first unless `oldestFirst`;
    /// equal times by chain, then sequence).
    public func precedes(_ a: StoredAuditEvent, _ b: StoredAuditEvent) -> Bool {
        let (x, y) = (a.eventTime.millis, b.eventTime.millis)
        if x != y { return oldestFirst ? x < y : x > y }
        if a.chain != b.chain { return a.chain < b.chain }
        return oldestFirst ? a.sequence < b.sequence : a.sequence > b.sequence
    }

    /// The query's answer from the hot rows' answer and the segments that may hold more. Past
    /// `segmentBudget` segments, it is the events no unread segment can come before, and where
    /// to go on from.
    ///
    /// - Parameters:
    ///   - hot: the hot rows' answer (at most `limit`, in the query's order).
    ///   - segments: the segments whose time range meets the query's (and that name the key,
    ///     when it asks for one), in the query's order of their newest (or oldest) event.
    ///   - load: the events of one segment.
    public func merge(
        hot: [StoredAuditEvent], segments: [AuditSegmentSummary], load: (AuditSegmentSummary) async throws(StoreError) -> AuditSegment?
    ) async throws(StoreError) -> AuditPage {
        var found = hot
        // Over a database without snapshots an event moved into a segment after the hot read
        // is in both answers.
        struct Place: Hashable {
            var chain: String
            var sequence: Int64
        }
        var seen = Set(hot.map { Place(chain: $0.chain, sequence: $0.sequence) })
        for (read, summary) in segments.enumerated() {
            if found.count >= limit {
                found.sort(by: precedes)
                found.removeLast(found.count - limit)
                // No event of this segment (nor of the later ones) can come before the last kept.
                let bound = found[limit - 1].eventTime.millis
                if oldestFirst ? summary.firstTime.millis > bound : summary.lastTime.millis < bound { break }
            }
            // This segment and the later ones may hold events from its edge on: only the events
            // before that millisecond are final. The search stops there only when the edge is
            // past where it started, so that the next one starts further on.
            let edge = oldestFirst ? summary.firstTime.millis : summary.lastTime.millis
            let progresses = after.map { oldestFirst ? edge > $0.millis : edge < $0.millis } ?? true
            if let segmentBudget, read >= segmentBudget, progresses {
                let final = found.filter { oldestFirst ? $0.eventTime.millis < edge : $0.eventTime.millis > edge }.sorted(by: precedes)
                if final.count >= limit { return AuditPage(events: Array(final.prefix(limit))) }
                return AuditPage(events: final, resume: .before(millis: edge))
            }
            guard let segment = try await load(summary) else { continue }  // pruned meanwhile
            for entry in try segment.entries()
            where matches(entry, chain: segment.chain) && seen.insert(Place(chain: segment.chain, sequence: entry.sequence)).inserted {
                found.append(entry.stored(chain: segment.chain))
            }
        }
        found.sort(by: precedes)
        return AuditPage(events: Array(found.prefix(limit)))
    }
}
