import Foundation
import Synchronization

/// Who a request's audit event names in `userIdentity`: the authenticated principal, or, for a
/// request refused at authentication, what it claimed to be.
public enum AuditIdentity: Sendable {
    /// `invokedBy`: the service principal that made the request on the principal's behalf.
    case principal(Principal, accessKeyID: String, invokedBy: String? = nil)
    /// Signed with an access key this server does not know, or not signed at all.
    case unknown(accessKeyID: String?)

    var principal: Principal? {
        if case .principal(let p, _, _) = self { p } else { nil }
    }

    var accessKeyID: String? {
        switch self {
        case .principal(_, let id, _): id
        case .unknown(let id): id
        }
    }

    /// CloudTrail's `userIdentity` for the principal.
    var userIdentity: JSONValue {
        guard case .principal(let p, let accessKeyID, let invokedBy) = self else {
            var identity: [String: JSONValue] = ["type": .string("Unknown")]
            if let accessKeyID = self.accessKeyID { identity["accessKeyId"] = .string(accessKeyID) }
            return .object(identity)
        }
        var identity: [String: JSONValue] = ["accountId": .string(p.account), "accessKeyId": .string(accessKeyID)]
        switch p.kind {
        case .root:
            identity["type"] = .string("Root")
            identity["principalId"] = .string(p.account)
            identity["arn"] = .string(p.arn)
        case .user:
            identity["type"] = .string("IAMUser")
            identity["principalId"] = .string(p.uniqueID)
            identity["arn"] = .string(p.arn)
            identity["userName"] = .string(p.name)
        case .role:
            identity["type"] = .string("AssumedRole")
            identity["principalId"] = .string(p.uniqueID)
            identity["arn"] = .string(p.arn)
            identity["sessionContext"] = .object([
                "sessionIssuer": .object([
                    "type": .string("Role"), "principalId": .string(String(p.uniqueID.prefix { $0 != ":" })),
                    "arn": .string(p.arn), "accountId": .string(p.account), "userName": .string(p.name),
                ])
            ])
        case .service:
            identity["type"] = .string("AWSService")
            identity["invokedBy"] = .string(p.name)
        }
        if let invokedBy { identity["invokedBy"] = .string(invokedBy) }
        return .object(identity)
    }

    /// What `audit lookup --username` matches: `root`, or the user, role or service name.
    var userName: String? {
        guard let p = principal else { return nil }
        return p.isRoot ? "root" : p.name
    }
}

/// What one request's audit event will say, gathered while the request runs: the request
/// itself (set before the operation), then the keys it touched and, for a management
/// operation that changed something, its `responseElements`.
///
/// The event is recorded exactly once: in the transaction of the change it reports (see
/// `ServiceStore.commit(_:recording:)`), or else, allowed or refused, when the request ends.
public final class AuditRecorder: Sendable {
    public struct Request: Sendable {
        public var eventName: String
        public var eventTime: Date
        public var identity: AuditIdentity
        public var region: String?
        public var sourceIP: String?
        public var userAgent: String?
        /// CloudTrail's `requestParameters`: the request without its blobs, secrets and grant tokens.
        public var requestParameters: JSONValue
        public var requestID: String
        public var readOnly: Bool
        /// `kms.amazonaws.com`, or `cloudtrail.amazonaws.com` for LookupEvents.
        public var eventSource = "kms.amazonaws.com"

        public init(
            eventName: String, eventTime: Date, identity: AuditIdentity, region: String?, sourceIP: String?, userAgent: String?,
            requestParameters: JSONValue, requestID: String, readOnly: Bool
        ) {
            self.eventName = eventName
            self.eventTime = eventTime
            self.identity = identity
            self.region = region
            self.sourceIP = sourceIP
            self.userAgent = userAgent
            self.requestParameters = requestParameters
            self.requestID = requestID
            self.readOnly = readOnly
        }
    }

    private struct State {
        var keys: [KMSKey] = []
        var responseElements: JSONValue = .null
        var additionalEventData: [String: JSONValue]?
        var recorded = false
        /// Made with the first event, and kept: a commit retried after a conflict builds its
        /// event again, with the same ID.
        var eventID: String?
    }

    public let request: Request
    private let state = Mutex(State())

    public init(_ request: Request) {
        self.request = request
    }

    /// Records that the request acted on `key` (its `resources`).
    func noteKey(_ key: KMSKey) {
        state.withLock { state in
            if !state.keys.contains(where: { $0.id == key.id }) { state.keys.append(key) }
        }
    }

    /// `responseElements` of a management operation that changed something.
    func setResponseElements(_ elements: [String: JSONValue]) {
        state.withLock { $0.responseElements = .object(elements) }
    }

    /// `additionalEventData.recipient` of a request for a Nitro enclave, as AWS records it:
    /// the enclave's module ID and image digest (PCR0).
    func noteRecipient(_ recipient: RecipientAttestation) {
        var fields: [String: JSONValue] = ["attestationDocumentModuleId": .string(recipient.moduleID)]
        if let image = recipient.pcrs[0] { fields["attestationDocumentEnclaveImageDigest"] = .string(Hex.encode(image)) }
        state.withLock { $0.additionalEventData = ["recipient": .object(fields)] }
    }

    func markRecorded() {
        state.withLock { $0.recorded = true }
    }

    public var isRecorded: Bool { state.withLock { $0.recorded } }

    /// The event, successful (`error` nil) or not.
    public func event(chain: String, error: KMSError?) -> AuditEvent {
        let (keys, responseElements, additionalEventData, eventID) = state.withLock { state in
            let id = state.eventID ?? UUID.timeOrderedLowercased(millis: request.eventTime.millis)
            state.eventID = id
            return (state.keys, state.responseElements, state.additionalEventData, id)
        }
        let account = keys.first?.account ?? request.identity.principal?.account
        var record = CloudTrailRecord(
            eventType: .apiCall, userIdentity: request.identity.userIdentity, eventTime: request.eventTime,
            eventName: request.eventName, readOnly: request.readOnly)
        record.eventSource = request.eventSource
        record.awsRegion = request.region
        record.sourceIPAddress = request.sourceIP
        record.userAgent = request.userAgent
        record.requestParameters = request.requestParameters
        record.responseElements = error == nil && !request.readOnly ? responseElements : .null
        record.requestID = request.requestID
        record.eventID = eventID
        record.resources = keys.map(CloudTrailRecord.Resource.key)
        record.keyIDs = keys.map(\.id)
        record.recipientAccountID = account
        record.errorCode = error?.code.rawValue
        record.errorMessage = error?.message
        record.additionalEventData = additionalEventData
        record.userName = request.identity.userName
        record.accessKeyID = request.identity.accessKeyID
        return AuditEvent(chain: chain, record)
    }

    /// The operations CloudTrail marks `readOnly`: reads, and every cryptographic operation.
    public static func isReadOnly(_ operation: String) -> Bool {
        operation.hasPrefix("Describe") || operation.hasPrefix("Get") || operation.hasPrefix("List") || operation.hasPrefix("Lookup")
            || [
                "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
                "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom", "GenerateMac", "VerifyMac", "Sign", "Verify", "DeriveSharedSecret",
            ].contains(operation)
    }
}
