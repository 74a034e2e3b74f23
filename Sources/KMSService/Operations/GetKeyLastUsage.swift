import Foundation
import KMSStorage

extension KeyManagementService {
    public struct KeyLastUsage: Sendable {
        public var keyARN: String
        public var keyCreationDate: Date
        /// The key's creation, or the oldest audit event still kept, whichever is later.
        public var trackingStartDate: Date
        /// The last successful cryptographic operation; nil when there was none since tracking began.
        public var operation: String?
        public var timestamp: Date?
        public var cloudTrailEventID: String?
        public var requestID: String?
    }

    /// The operations GetKeyLastUsage reports (`KeyLastUsageTrackingOperation`).
    static let trackedOperations = [
        "Decrypt", "DeriveSharedSecret", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac",
        "ReEncrypt", "Sign", "Verify", "VerifyMac",
    ]

    /// The last successful cryptographic operation with the key, read from the audit trail
    /// (so it names the event's ID and request ID, and goes back as far as the trail does).
    public func getKeyLastUsage(keyID: String, _ context: RequestContext) async throws(KMSError) -> KeyLastUsage {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .getKeyLastUsage)
        try await authorize(context, AccessRequest(.getKeyLastUsage), key: key)
        let last = try await store.auditEvents(
            matching: AuditQuery(keyID: key.id, region: key.region, succeededOnly: true, eventNames: Self.trackedOperations, limit: 1)
        ).events.first
        let oldest = try await store.auditEvents(matching: AuditQuery(oldestFirst: true, limit: 1)).events.first
        var usage = KeyLastUsage(
            keyARN: key.arn, keyCreationDate: key.creationDate,
            trackingStartDate: max(key.creationDate, oldest?.eventTime ?? key.creationDate))
        if let last, let record = JSONValue.parse(bytes: last.bytes) {
            usage.operation = record[member: "eventName"]?.stringValue
            usage.timestamp = last.eventTime
            usage.cloudTrailEventID = record[member: "eventID"]?.stringValue
            usage.requestID = record[member: "requestID"]?.stringValue
        }
        return usage
    }
}
