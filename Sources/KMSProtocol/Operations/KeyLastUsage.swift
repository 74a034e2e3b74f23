import Foundation
import KMSService

extension OperationHandler {
    struct KeyLastUsageData: Encodable {
        var operation: String?
        var timestamp: Date?
        var cloudTrailEventId: String?
        var kmsRequestId: String?
    }

    struct GetKeyLastUsageResponse: Encodable {
        var keyId: String
        var keyLastUsage: KeyLastUsageData?
        var trackingStartDate: Date
        var keyCreationDate: Date
    }

    static let getKeyLastUsage = OperationHandler { (r: KeyIdRequest, service, context) throws(KMSError) in
        let usage = try await service.getKeyLastUsage(keyID: r.keyId, context)
        return GetKeyLastUsageResponse(
            keyId: usage.keyARN,
            keyLastUsage: usage.operation.map { _ in
                KeyLastUsageData(
                    operation: usage.operation, timestamp: usage.timestamp, cloudTrailEventId: usage.cloudTrailEventID, kmsRequestId: usage.requestID)
            },
            trackingStartDate: usage.trackingStartDate, keyCreationDate: usage.keyCreationDate)
    }
}
