import Foundation
import KMSStorage

extension KeyManagementService {
    /// Turns on automatic rotation every `rotationPeriodInDays` (90–2560, default 365). The
    /// first rotation is one period from now; changing the period of a key that rotates
    /// already counts from its current material's date (at once when that is past). Set on a
    /// multi-Region primary, it holds for its replicas too.
    public func enableKeyRotation(keyID: String, rotationPeriodInDays: Int?, _ context: RequestContext) async throws(KMSError) {
        let days = rotationPeriodInDays ?? AutomaticRotation.defaultPeriodInDays
        let action = KMSAction.enableKeyRotation
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action, conditions: ["kms:RotationPeriodInDays": [String(days)]]), key: key)
            try KeyLifecycle.check(action, on: key)
            try requireRotatable(key)
            try requireNotReplica(key, operation: "EnableKeyRotation")
            let now = clock.now()
            var next = now + Double(days) * 86_400
            if key.automaticRotation != nil,
                let current = try await store.keyMaterial(keyID: key.id, region: key.region, version: key.currentMaterialVersion)
            {
                next = max(now, current.creationDate + Double(days) * 86_400)
            }
            var updated = key
            updated.automaticRotation = AutomaticRotation(periodInDays: days, nextDate: next)
            return ([.updateKey(updated)] + sharedUpdates(from: updated, to: try await relatedKeys(of: key)), ())
        }
    }
}
