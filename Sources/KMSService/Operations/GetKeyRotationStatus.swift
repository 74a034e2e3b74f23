import Foundation
import KMSStorage

extension KeyManagementService {
    public struct KeyRotationStatus: Sendable {
        public var keyARN: String
        /// False while the key is pending deletion, as on AWS (the schedule returns if deletion is cancelled).
        public var enabled: Bool
        public var periodInDays: Int?
        public var nextRotationDate: Date?
    }

    /// Whether automatic rotation is on, its period and next date. On-demand rotations finish
    /// before RotateKeyOnDemand returns, so none is ever in progress (no `OnDemandRotationStartDate`).
    public func getKeyRotationStatus(keyID: String, _ context: RequestContext) async throws(KMSError) -> KeyRotationStatus {
        let key = try await resolveKey(keyID, context, allowAlias: false, action: .getKeyRotationStatus, crossAccount: true)
        try await authorize(context, AccessRequest(.getKeyRotationStatus), key: key)
        try requireRotatable(key, imported: true)
        let schedule = KeyLifecycle.isPendingDeletion(key.state) ? nil : key.automaticRotation
        return KeyRotationStatus(
            keyARN: key.arn, enabled: schedule != nil, periodInDays: schedule?.periodInDays, nextRotationDate: schedule?.nextDate)
    }
}
