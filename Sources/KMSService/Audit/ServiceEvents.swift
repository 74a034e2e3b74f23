import Foundation

extension AuditEvent {
    /// An event for something the service did by itself (`eventType` `AwsServiceEvent`), such
    /// as deleting a key at the end of its waiting window, as CloudTrail records them.
    static func serviceEvent(_ name: String, key: KMSKey, chain: String, at time: Date, details: [String: JSONValue] = [:]) -> AuditEvent {
        var serviceEventDetails = details
        serviceEventDetails["keyId"] = .string(key.id)
        let record: [String: JSONValue] = [
            "eventVersion": .string("1.08"),
            "userIdentity": .object(["accountId": .string(key.account), "invokedBy": .string("kms.amazonaws.com")]),
            "eventTime": .string(AuditTime.iso8601(time)),
            "eventSource": .string("kms.amazonaws.com"),
            "eventName": .string(name),
            "awsRegion": .string(key.region),
            "sourceIPAddress": .string("kms.amazonaws.com"),
            "userAgent": .string("kms.amazonaws.com"),
            "requestParameters": .null,
            "responseElements": .null,
            "eventID": .string(UUID.randomLowercased()),
            "readOnly": .bool(false),
            "resources": .array([.object(["accountId": .string(key.account), "type": .string("AWS::KMS::Key"), "ARN": .string(key.arn)])]),
            "eventType": .string("AwsServiceEvent"),
            "managementEvent": .bool(true),
            "eventCategory": .string("Management"),
            "recipientAccountId": .string(key.account),
            "serviceEventDetails": .object(serviceEventDetails),
        ]
        return AuditEvent(chain: chain, record: record, eventTime: time, eventName: name, account: key.account, region: key.region,
                          userName: nil, accessKeyID: nil, readOnly: false, errorCode: nil, keyIDs: [key.id])
    }
}

extension AuditEvent {
    /// An event for a change the local administrator made with `swiftkms admin` (principals,
    /// access keys, identity policies, tags), recorded as IAM records it (`iam.amazonaws.com`).
    /// `userIdentity` is `{"type": "LocalAdministrator", "invokedBy": "swiftkms admin"}`: the
    /// change came from someone with the data directory and the root key, not from a signed request.
    static func administration(_ name: String, principal: Principal, parameters: [String: JSONValue], response: [String: JSONValue]?,
                               chain: String, at time: Date) -> AuditEvent {
        var requestParameters = parameters
        if principal.kind != .root { requestParameters[principal.kind == .role ? "roleName" : principal.kind == .service ? "serviceName" : "userName"] = .string(principal.name) }
        let record: [String: JSONValue] = [
            "eventVersion": .string("1.08"),
            "userIdentity": .object(["type": .string("LocalAdministrator"), "accountId": .string(principal.account),
                                     "invokedBy": .string("swiftkms admin")]),
            "eventTime": .string(AuditTime.iso8601(time)),
            "eventSource": .string("iam.amazonaws.com"),
            "eventName": .string(name),
            "awsRegion": .string("us-east-1"),
            "sourceIPAddress": .string("localhost"),
            "userAgent": .string("swiftkms admin"),
            "requestParameters": .object(requestParameters),
            "responseElements": response.map(JSONValue.object) ?? .null,
            "eventID": .string(UUID.randomLowercased()),
            "readOnly": .bool(false),
            "resources": .array([.object(["accountId": .string(principal.account), "type": .string("AWS::IAM::Principal"),
                                          "ARN": .string(principal.arn)])]),
            "eventType": .string("AwsApiCall"),
            "managementEvent": .bool(true),
            "eventCategory": .string("Management"),
            "recipientAccountId": .string(principal.account),
        ]
        return AuditEvent(chain: chain, record: record, eventTime: time, eventName: name, account: principal.account, region: "us-east-1",
                          userName: "swiftkms-admin", accessKeyID: nil, readOnly: false, errorCode: nil, keyIDs: [])
    }
}

extension KMSKey {
    /// `keyMetadata` as CloudTrail shows it in `responseElements`: lowerCamelCase members,
    /// dates as `Nov 22, 2026, 10:00:00 AM`.
    var auditMetadata: JSONValue {
        var metadata: [String: JSONValue] = [
            "aWSAccountId": .string(account), "keyId": .string(id), "arn": .string(arn),
            "creationDate": .string(AuditTime.responseDate(creationDate)), "enabled": .bool(enabled),
            "description": .string(description), "keyUsage": .string(usage.rawValue), "keyState": .string(state.rawValue),
            "origin": .string(origin.rawValue), "keyManager": .string(keyManager.rawValue), "customerMasterKeySpec": .string(spec.rawValue),
            "keySpec": .string(spec.rawValue), "multiRegion": .bool(isMultiRegion),
        ]
        if let deletionDate { metadata["deletionDate"] = .string(AuditTime.responseDate(deletionDate)) }
        if let pendingWindowInDays { metadata["pendingDeletionWindowInDays"] = .number(Double(pendingWindowInDays)) }
        if let expirationModel { metadata["expirationModel"] = .string(expirationModel.rawValue) }
        if let primaryRegion, let keyType = multiRegionKeyType {
            let primary: JSONValue = .object(["arn": .string(ResourceName.keyARN(region: primaryRegion, account: account, keyID: id)),
                                              "region": .string(primaryRegion)])
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
