import Foundation

/// One CloudTrail record, typed: every audit event (request, service event, administration,
/// authentication-failure summary) is built as one of these, so that the fields CloudTrail
/// always has are always there, and the lookup columns of `AuditEvent` are derived from it.
///
/// It never holds plaintext, ciphertext, key material, data keys, secrets or the
/// Authorization header: `requestParameters` and `responseElements` are built by the
/// operations from what CloudTrail shows, never from a request body.
public struct CloudTrailRecord: Sendable {
    /// `eventType`.
    public enum EventType: String, Sendable {
        /// A request a caller made.
        case apiCall = "AwsApiCall"
        /// Something the service did by itself (a key deleted at the end of its window).
        case serviceEvent = "AwsServiceEvent"
    }

    /// A resource of `resources`.
    public struct Resource: Sendable {
        public var accountID: String
        /// `AWS::KMS::Key`, `AWS::IAM::Principal`.
        public var type: String
        public var arn: String

        public init(accountID: String, type: String, arn: String) {
            self.accountID = accountID
            self.type = type
            self.arn = arn
        }

        /// A KMS key as a resource; its key ID goes to the event's lookup column.
        public static func key(_ key: KMSKey) -> Resource { Resource(accountID: key.account, type: "AWS::KMS::Key", arn: key.arn) }
    }

    public var eventType: EventType
    public var userIdentity: JSONValue
    public var eventTime: Date
    /// `kms.amazonaws.com`, or `iam.amazonaws.com` for administration.
    public var eventSource = "kms.amazonaws.com"
    public var eventName: String
    public var awsRegion: String?
    public var sourceIPAddress: String?
    public var userAgent: String?
    public var requestParameters: JSONValue = .null
    public var responseElements: JSONValue = .null
    /// Requests only: the `x-amzn-RequestId` the caller saw.
    public var requestID: String?
    /// Time-ordered: names the event's millisecond (`UUID.timeOrderedLowercased`).
    public var eventID: String
    public var readOnly: Bool
    public var resources: [Resource] = []
    public var recipientAccountID: String?
    public var errorCode: String?
    public var errorMessage: String?
    /// Service events only.
    public var serviceEventDetails: [String: JSONValue]?
    /// What AWS adds of some requests (a Nitro enclave recipient's); the chain's links are
    /// added to it when the event is sealed.
    public var additionalEventData: [String: JSONValue]?
    /// Lookup columns, not record fields: the caller's user name and access key.
    public var userName: String?
    public var accessKeyID: String?
    /// IDs of the KMS keys in `resources`, for lookups by key.
    public var keyIDs: [String] = []

    public init(eventType: EventType, userIdentity: JSONValue, eventTime: Date, eventName: String, readOnly: Bool) {
        self.eventType = eventType
        self.userIdentity = userIdentity
        self.eventTime = eventTime
        self.eventName = eventName
        self.readOnly = readOnly
        eventID = UUID.timeOrderedLowercased(millis: eventTime.millis)
    }

    /// The record's JSON members: those CloudTrail always writes (null when unknown), then
    /// `requestID`, `errorCode`, `errorMessage` and `serviceEventDetails` when they apply.
    public var fields: [String: JSONValue] {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        var fields: [String: JSONValue] = [
            "eventVersion": .string("1.08"),
            "userIdentity": userIdentity,
            "eventTime": .string(AuditTime.iso8601(eventTime)),
            "eventSource": .string(eventSource),
            "eventName": .string(eventName),
            "awsRegion": optional(awsRegion),
            "sourceIPAddress": optional(sourceIPAddress),
            "userAgent": optional(userAgent),
            "requestParameters": requestParameters,
            "responseElements": responseElements,
            "eventID": .string(eventID),
            "readOnly": .bool(readOnly),
            "resources": .array(resources.map { .object(["accountId": .string($0.accountID), "type": .string($0.type), "ARN": .string($0.arn)]) }),
            "eventType": .string(eventType.rawValue),
            "managementEvent": .bool(true),
            "eventCategory": .string("Management"),
            "recipientAccountId": optional(recipientAccountID),
        ]
        if let requestID { fields["requestID"] = .string(requestID) }
        if let errorCode { fields["errorCode"] = .string(errorCode) }
        if let errorMessage { fields["errorMessage"] = .string(errorMessage) }
        if let serviceEventDetails { fields["serviceEventDetails"] = .object(serviceEventDetails) }
        if let additionalEventData { fields["additionalEventData"] = .object(additionalEventData) }
        return fields
    }
}

extension AuditEvent {
    /// The event of `record`, for `chain`, with its lookup columns taken from the record.
    public init(chain: String, _ record: CloudTrailRecord) {
        self.init(
            chain: chain, record: record.fields, eventTime: record.eventTime, eventName: record.eventName,
            account: record.recipientAccountID, region: record.awsRegion, userName: record.userName,
            accessKeyID: record.accessKeyID, readOnly: record.readOnly, errorCode: record.errorCode, keyIDs: record.keyIDs)
    }
}
