import Foundation

extension AuditEvent {
    /// An event for something the service did by itself (`eventType` `AwsServiceEvent`), such
    /// as deleting a key at the end of its waiting window, as CloudTrail records them.
    static func serviceEvent(_ name: String, key: KMSKey, chain: String, at time: Date, details: [String: JSONValue] = [:]) -> AuditEvent {
        var serviceEventDetails = details
        serviceEventDetails["keyId"] = .string(key.id)
        var record = CloudTrailRecord(
            eventType: .serviceEvent, userIdentity: .object(["accountId": .string(key.account), "invokedBy": .string("kms.amazonaws.com")]),
            eventTime: time, eventName: name, readOnly: false)
        record.awsRegion = key.region
        record.sourceIPAddress = "kms.amazonaws.com"
        record.userAgent = "kms.amazonaws.com"
        record.resources = [.key(key)]
        record.keyIDs = [key.id]
        record.recipientAccountID = key.account
        record.serviceEventDetails = serviceEventDetails
        return AuditEvent(chain: chain, record)
    }
}

extension AuditEvent {
    /// An event for a change the local administrator made with `swiftkms admin` (principals,
    /// access keys, identity policies, tags), recorded as IAM records it (`iam.amazonaws.com`).
    /// `userIdentity` is `{"type": "LocalAdministrator", "invokedBy": "swiftkms admin"}`: the
    /// change came from someone with the data directory and the root key, not from a signed request.
    static func administration(
        _ name: String, principal: Principal, parameters: [String: JSONValue], response: [String: JSONValue]?,
        chain: String, at time: Date
    ) -> AuditEvent {
        var requestParameters = parameters
        if principal.kind != .root {
            requestParameters[principal.kind == .role ? "roleName" : principal.kind == .service ? "serviceName" : "userName"] = .string(
                principal.name)
        }
        var record = CloudTrailRecord(
            eventType: .apiCall,
            userIdentity: .object([
                "type": .string("LocalAdministrator"), "accountId": .string(principal.account),
                "invokedBy": .string("swiftkms admin"),
            ]),
            eventTime: time, eventName: name, readOnly: false)
        record.eventSource = "iam.amazonaws.com"
        record.awsRegion = "us-east-1"
        record.sourceIPAddress = "localhost"
        record.userAgent = "swiftkms admin"
        record.requestParameters = .object(requestParameters)
        record.responseElements = response.map(JSONValue.object) ?? .null
        record.resources = [CloudTrailRecord.Resource(accountID: principal.account, type: "AWS::IAM::Principal", arn: principal.arn)]
        record.recipientAccountID = principal.account
        record.userName = "swiftkms-admin"
        return AuditEvent(chain: chain, record)
    }
}

extension KMSKey {
    /// `keyMetadata` as CloudTrail shows it in `responseElements`: lowerCamelCase members,
    /// dates as `Nov 22, 2026, 10:00:00 AM`.
    var auditMetadata: JSONValue {
        var metadata: [String: JSONValue] = [
            "aWSAccountId": .string(account), "keyId": .string(id), "arn": .string(arn),
            "creationDate": .string(AuditTime.responseDate(creationDate)), "enabled": .bool(enabled),
            "description": .string(description), "keyUsage": .string(usage.rawValue), "keyState": .string(displayedState.rawValue),
            "origin": .string(origin.rawValue), "keyManager": .string(keyManager.rawValue), "customerMasterKeySpec": .string(spec.rawValue),
            "keySpec": .string(spec.rawValue), "multiRegion": .bool(isMultiRegion),
        ]
        if let customKeyStoreID { metadata["customKeyStoreId"] = .string(customKeyStoreID) }
        if let deletionDate { metadata["deletionDate"] = .string(AuditTime.responseDate(deletionDate)) }
        if let pendingWindowInDays { metadata["pendingDeletionWindowInDays"] = .number(Double(pendingWindowInDays)) }
        if let expirationModel { metadata["expirationModel"] = .string(expirationModel.rawValue) }
        if let primaryRegion, let keyType = multiRegionKeyType {
            let primary: JSONValue = .object([
                "arn": .string(ResourceName.keyARN(region: primaryRegion, account: account, keyID: id)),
                "region": .string(primaryRegion),
            ])
            metadata["multiRegionConfiguration"] = .object(["multiRegionKeyType": .string(keyType), "primaryKey": primary])
        }
        let lists: [(String, [String])] = [
            ("encryptionAlgorithms", encryptionAlgorithms.map(\.rawValue)), ("signingAlgorithms", signingAlgorithms.map(\.rawValue)),
            ("keyAgreementAlgorithms", keyAgreementAlgorithms.map(\.rawValue)), ("macAlgorithms", macAlgorithms.map(\.rawValue)),
        ]
        for (name, values) in lists where !values.isEmpty { metadata[name] = .array(values.map(JSONValue.string)) }
        return .object(metadata)
    }
}
