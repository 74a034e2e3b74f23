import Foundation
import KMSService

/// The AWS JSON 1.1 face of the service: takes an authenticated request's `X-Amz-Target`
/// and body, and returns the status and body to send.
public struct KMSAPI: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        /// The AWS error name, when the response is an error.
        public var errorCode: String?
    }

    let service: KeyManagementService
    /// Which refusals at authentication get an event of their own.
    public let authenticationFailures: AuthenticationFailureLog
    private static let validator = RequestValidator(model: .kms)
    /// CloudTrail names an error for each member LookupEvents can get wrong.
    private static let cloudTrailValidator = RequestValidator(
        model: .cloudTrail,
        memberErrors: ["lookupAttributes": .invalidLookupAttributes, "maxResults": .invalidMaxResults, "eventCategory": .invalidEventCategory])

    public init(service: KeyManagementService, authenticationFailureLimits: AuthenticationFailureLog.Limits = .init()) {
        self.service = service
        authenticationFailures = AuthenticationFailureLog(limits: authenticationFailureLimits, now: service.clock.now())
    }

    /// SwiftKMS's own operation beside AWS's (`X-Amz-Target: SwiftKMS.CreateForwardAccessToken`):
    /// see `ForwardAccessToken`.
    static let forwardAccessTokenTarget = "SwiftKMS.CreateForwardAccessToken"
    /// Operations of `handlers` that are SwiftKMS's own, outside AWS's model.
    static let extensionOperations: Set<String> = ["CreateForwardAccessToken"]
    /// The target prefix of CloudTrail's operations, of which LookupEvents is served here (over
    /// the audit trail), signed for the `cloudtrail` service.
    static let cloudTrailTargetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."

    static let handlers: [String: OperationHandler] = [
        "CancelKeyDeletion": .cancelKeyDeletion,
        "ConnectCustomKeyStore": .connectCustomKeyStore,
        "CreateAlias": .createAlias,
        "CreateCustomKeyStore": .createCustomKeyStore,
        "CreateGrant": .createGrant,
        "CreateKey": .createKey,
        "Decrypt": .decrypt,
        "DeleteAlias": .deleteAlias,
        "DeleteCustomKeyStore": .deleteCustomKeyStore,
        "DeleteImportedKeyMaterial": .deleteImportedKeyMaterial,
        "DeriveSharedSecret": .deriveSharedSecret,
        "DescribeCustomKeyStores": .describeCustomKeyStores,
        "DescribeKey": .describeKey,
        "DisableKey": .disableKey,
        "DisableKeyRotation": .disableKeyRotation,
        "DisconnectCustomKeyStore": .disconnectCustomKeyStore,
        "EnableKey": .enableKey,
        "EnableKeyRotation": .enableKeyRotation,
        "Encrypt": .encrypt,
        "GenerateDataKey": .generateDataKey,
        "GenerateDataKeyPair": .generateDataKeyPair,
        "GenerateDataKeyPairWithoutPlaintext": .generateDataKeyPairWithoutPlaintext,
        "GenerateDataKeyWithoutPlaintext": .generateDataKeyWithoutPlaintext,
        "GenerateMac": .generateMac,
        "GenerateRandom": .generateRandom,
        "GetKeyLastUsage": .getKeyLastUsage,
        "GetKeyPolicy": .getKeyPolicy,
        "GetParametersForImport": .getParametersForImport,
        "GetKeyRotationStatus": .getKeyRotationStatus,
        "GetPublicKey": .getPublicKey,
        "ImportKeyMaterial": .importKeyMaterial,
        "ListAliases": .listAliases,
        "ListGrants": .listGrants,
        "ListKeyPolicies": .listKeyPolicies,
        "ListKeyRotations": .listKeyRotations,
        "ListKeys": .listKeys,
        "ListResourceTags": .listResourceTags,
        "ListRetirableGrants": .listRetirableGrants,
        "PutKeyPolicy": .putKeyPolicy,
        "ReEncrypt": .reEncrypt,
        "ReplicateKey": .replicateKey,
        "RetireGrant": .retireGrant,
        "RevokeGrant": .revokeGrant,
        "RotateKeyOnDemand": .rotateKeyOnDemand,
        "ScheduleKeyDeletion": .scheduleKeyDeletion,
        "Sign": .sign,
        "TagResource": .tagResource,
        "UntagResource": .untagResource,
        "UpdateAlias": .updateAlias,
        "UpdateCustomKeyStore": .updateCustomKeyStore,
        "UpdateKeyDescription": .updateKeyDescription,
        "UpdatePrimaryRegion": .updatePrimaryRegion,
        "Verify": .verify,
        "VerifyMac": .verifyMac,
        "CreateForwardAccessToken": .createForwardAccessToken,
        "LookupEvents": .lookupEvents,
    ]

    /// The service a request for `target` must be signed for (SigV4's credential scope).
    public static func signingName(target: String?) -> String {
        target?.hasPrefix(cloudTrailTargetPrefix) == true ? "cloudtrail" : "kms"
    }

    /// The model that has `operation`, and the validator of its requests.
    private static func model(of operation: String) -> (ServiceModel, RequestValidator) {
        ServiceModel.cloudTrail.operations.keys.contains(operation) ? (.cloudTrail, cloudTrailValidator) : (.kms, validator)
    }

    /// The operation an `X-Amz-Target` header names, if it is one of the model's.
    public static func operationName(target: String?) -> String? {
        if target == forwardAccessTokenTarget { return "CreateForwardAccessToken" }
        if let target, target.hasPrefix(cloudTrailTargetPrefix) {
            let name = String(target.dropFirst(cloudTrailTargetPrefix.count))
            return ServiceModel.cloudTrail.operations.keys.contains(name) ? name : nil
        }
        guard let target, target.hasPrefix("TrentService.") else { return nil }
        let name = String(target.dropFirst("TrentService.".count))
        return ServiceModel.kms.operations.keys.contains(name) ? name : nil
    }

    /// Runs one operation and records its audit event, allowed or refused. Never throws:
    /// every failure becomes an AWS error response. The response is returned only once the
    /// event is durable; when it cannot be stored, the response is `KMSInternalException`.
    public func handle(target: String?, body: Data, context: RequestContext) async -> Response {
        var context = context
        let name = Self.operationName(target: target)
        // Parsed once: for the audit event, for validation, and for the operation's typed request.
        let input = Self.input(of: name, body)
        context.beginAudit(
            operation: name ?? Self.auditName(target: target), requestParameters: Self.auditParameters(name, input),
            eventSource: Self.eventSource(target: target), at: service.clock.now())
        var response: Response
        var failure: KMSError?
        do {
            response = Response(status: 200, body: try await run(operation: name, input: input, context: context))
        } catch {
            failure = error
            response = Self.errorResponse(error)
        }
        do {
            try await service.finishAudit(context, error: failure)
        } catch {
            return Self.errorResponse(error)
        }
        return response
    }

    /// Refuses an authenticated request before its operation runs (a forward access token that
    /// does not hold): recorded as the caller's, without its body, once the event is durable.
    public func refuse(target: String?, error: KMSError, context: RequestContext) async -> Response {
        var context = context
        context.beginAudit(
            operation: Self.operationName(target: target) ?? Self.auditName(target: target), requestParameters: .null,
            eventSource: Self.eventSource(target: target), at: service.clock.now())
        do {
            try await service.finishAudit(context, error: error)
            return Self.errorResponse(error)
        } catch {
            return Self.errorResponse(error)
        }
    }

    /// Records the event of a request refused at authentication, when `authenticationFailures`
    /// lets it have one, and returns the refusal once the event is durable. The event names no
    /// principal (the request proved no identity; `claimedAccessKeyID` is only what it said)
    /// and holds nothing of the body; its free-text fields are cut short.
    public func refuseUnauthenticated(
        target: String?, error: KMSError, claimedAccessKeyID: String?, region: String?,
        requestID: String, sourceIP: String?, userAgent: String?
    ) async -> Response {
        let now = service.clock.now()
        let (record, summary) = authenticationFailures.admit(source: sourceIP, now: now)
        var events: [AuditEvent] = []
        if let summary { events.append(service.audit.authenticationFailureSummary(summary)) }
        if record {
            let name = Self.operationName(target: target)
            var request = AuditRecorder.Request(
                eventName: name ?? Self.auditName(target: target), eventTime: now,
                identity: .unknown(accessKeyID: claimedAccessKeyID.map { String($0.prefix(128)) }), region: region,
                sourceIP: sourceIP, userAgent: userAgent.map { String($0.prefix(256)) }, requestParameters: .null, requestID: requestID,
                readOnly: name.map(AuditRecorder.isReadOnly) ?? true)
            request.eventSource = Self.eventSource(target: target)
            let recorder = AuditRecorder(request)
            events.append(recorder.event(chain: service.audit.chain, error: error))
        }
        do {
            for event in events { try await service.audit.record(event) }
            return Self.errorResponse(error)
        } catch {
            return Self.errorResponse(error)  // the event could not be stored: KMSInternalException
        }
    }

    /// Records the summary of refusals at authentication of a window that has ended, if any
    /// were suppressed (run periodically, so the last window of an attack is not left unsaid);
    /// with `endingWindow`, of the current window too (at shutdown).
    public func flushAuthenticationFailures(endingWindow: Bool = false) async throws(KMSError) {
        guard let summary = authenticationFailures.flush(now: service.clock.now(), endingWindow: endingWindow) else { return }
        try await service.audit.record(service.audit.authenticationFailureSummary(summary))
    }

    /// The body of a request for `operation` as JSON (an empty body is an empty object, as AWS
    /// takes it); nil when it is not JSON, or names no operation (then nothing reads it).
    static func input(of operation: String?, _ body: Data) -> JSONValue? {
        guard operation != nil else { return nil }
        return body.isEmpty ? .object([:]) : WireCoding.parse(body)
    }

    static func auditParameters(_ operation: String?, _ input: JSONValue?) -> JSONValue {
        guard let operation else { return .null }
        return model(of: operation).0.auditParameters(operation: operation, body: input)
    }

    /// The event name of a request for no operation of the model: what its target named, cut short.
    private static func auditName(target: String?) -> String {
        guard let target, !target.isEmpty else { return "(no operation)" }
        let name = target.hasPrefix(cloudTrailTargetPrefix) ? String(target.dropFirst(cloudTrailTargetPrefix.count)) : target
        return String(name.replacingOccurrences(of: "TrentService.", with: "").prefix(64))
    }

    /// The `eventSource` of a request's event: the service its target names.
    static func eventSource(target: String?) -> String {
        signingName(target: target) == "cloudtrail" ? "cloudtrail.amazonaws.com" : "kms.amazonaws.com"
    }

    private func run(operation name: String?, input: JSONValue?, context: RequestContext) async throws(KMSError) -> Data {
        guard let name else {
            throw KMSError(.unknownOperation, "")
        }
        try service.admit(operation: name, context)
        guard let input else { throw WireCoding.unreadable(JSONValue.self) }
        var context = context
        // Validated first, as AWS does, also for the operations this server does not answer.
        if let tokens = try Self.validate(input, operation: name) {
            context.grantTokens = tokens
        }
        guard let handler = Self.handlers[name] else {
            throw KMSError(.unsupportedOperation, "\(name) is not supported by this server yet.")
        }
        return try await handler.run(input, service, context)
    }

    /// Checks a request's JSON against its operation's input shape in the model. Returns the
    /// grant tokens it carries, if any: they matter to authorization only, whatever the operation.
    static func validate(_ input: JSONValue, operation name: String) throws(KMSError) -> [String]? {
        let (model, validator) = model(of: name)
        guard let inputShape = model.operations[name] ?? nil else { return nil }
        try validator.validate(input, shape: inputShape)
        guard case .object(let members) = input, case .array(let tokens)? = members["GrantTokens"] else { return nil }
        return tokens.compactMap { if case .string(let token) = $0 { token } else { nil } }
    }

    /// The response AWS sends for an error: `{"__type": ..., "message": ...}`, status 400,
    /// except 500 for `KMSInternalException` and 503 for `DependencyTimeoutException`. An error
    /// without a message (`InvalidCiphertextException`, …) has no `message` member, as AWS's.
    public static func errorResponse(_ error: KMSError) -> Response {
        var members = ["__type": error.code.rawValue]
        if !error.message.isEmpty { members["message"] = error.message }
        let body = try? JSONSerialization.data(withJSONObject: members, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: httpStatus(error.code), body: body ?? Data(), errorCode: error.code.rawValue)
    }

    public static func httpStatus(_ code: KMSError.Code) -> Int {
        switch code {
        case .internalFailure: 500
        case .dependencyTimeout: 503
        default: 400
        }
    }
}
