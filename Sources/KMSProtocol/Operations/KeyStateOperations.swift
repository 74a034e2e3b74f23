import Foundation
import KMSService

/// Requests that name only a key.
struct KeyIdRequest: Decodable {
    var keyId: String
}

extension OperationHandler {
    static let enableKey = OperationHandler { (r: KeyIdRequest, service, context) throws(KMSError) in
        try await service.enableKey(keyID: r.keyId, context)
        return NoOutput()
    }

    static let disableKey = OperationHandler { (r: KeyIdRequest, service, context) throws(KMSError) in
        try await service.disableKey(keyID: r.keyId, context)
        return NoOutput()
    }

    struct UpdateKeyDescriptionRequest: Decodable {
        var keyId: String
        var description: String
    }

    static let updateKeyDescription = OperationHandler { (r: UpdateKeyDescriptionRequest, service, context) throws(KMSError) in
        try await service.updateKeyDescription(keyID: r.keyId, description: r.description, context)
        return NoOutput()
    }

    struct ScheduleKeyDeletionRequest: Decodable {
        var keyId: String
        var pendingWindowInDays: Int?
    }

    struct ScheduleKeyDeletionResponse: Encodable {
        var keyId: String
        var deletionDate: Date?
        var keyState: String
        var pendingWindowInDays: Int?
    }

    static let scheduleKeyDeletion = OperationHandler { (r: ScheduleKeyDeletionRequest, service, context) throws(KMSError) in
        let key = try await service.scheduleKeyDeletion(keyID: r.keyId, pendingWindowInDays: r.pendingWindowInDays, context)
        return ScheduleKeyDeletionResponse(
            keyId: key.arn, deletionDate: key.deletionDate, keyState: key.state.rawValue,
            pendingWindowInDays: key.pendingWindowInDays)
    }

    struct CancelKeyDeletionResponse: Encodable {
        var keyId: String
    }

    static let cancelKeyDeletion = OperationHandler { (r: KeyIdRequest, service, context) throws(KMSError) in
        CancelKeyDeletionResponse(keyId: try await service.cancelKeyDeletion(keyID: r.keyId, context).arn)
    }
}
