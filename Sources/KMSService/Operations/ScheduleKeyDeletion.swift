import Foundation
import KMSStorage

extension KeyManagementService {
    /// Puts the key in `PendingDeletion`; `deleteKeysDueForDeletion` deletes it when the window
    /// ends. A multi-Region primary with replicas goes `PendingReplicaDeletion` instead, without
    /// a deletion date: its window starts when its last replica is deleted.
    ///
    /// - Parameter pendingWindowInDays: 7–30, default 30.
    public func scheduleKeyDeletion(keyID: String, pendingWindowInDays: Int?, _ context: RequestContext) async throws(KMSError) -> KMSKey {
        let days = pendingWindowInDays ?? 30
        guard (7...30).contains(days) else {
            let bound = days < 7 ? "greater than or equal to 7" : "less than or equal to 30"
            throw KMSError.validation(
                "1 validation error detected: Value '\(days)' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value \(bound)")
        }
        let action = KMSAction.scheduleKeyDeletion
        return try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action, conditions: ["kms:ScheduleKeyDeletionPendingWindowInDays": [String(days)]]), key: key)
            try KeyLifecycle.check(action, on: key)
            let hasReplicas = key.isPrimary ? !(try await relatedKeys(of: key)).isEmpty : false
            var updated = key
            updated.pendingWindowInDays = days
            updated.state = try KeyLifecycle.state(after: .scheduleDeletion(hasReplicas: hasReplicas), of: key)
            // In PendingReplicaDeletion the window starts when the last replica is deleted.
            updated.deletionDate = updated.state == .pendingDeletion ? clock.now().addingTimeInterval(Double(days) * 86_400) : nil
            var elements: [String: JSONValue] = [
                "keyId": .string(key.arn), "keyState": .string(updated.state.rawValue), "pendingWindowInDays": .number(Double(days)),
            ]
            if let date = updated.deletionDate { elements["deletionDate"] = .string(AuditTime.responseDate(date)) }
            context.audit.setResponseElements(elements)
            return ([.updateKey(updated)], updated)
        }
    }
}
