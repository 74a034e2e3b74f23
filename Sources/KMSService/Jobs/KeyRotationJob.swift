import Foundation
import KMSStorage

extension KeyManagementService {
    /// Rotates every `Enabled` key whose automatic rotation is due, each in one transaction
    /// with a `RotateKey` service event, and schedules its next rotation one period later.
    /// Several processes may run this at once: each due rotation happens once (a key rotated
    /// meanwhile is a revision conflict, and is skipped).
    ///
    /// - Returns: the IDs of the keys rotated.
    @discardableResult
    public func rotateKeysDueForRotation() async throws(KMSError) -> [String] {
        let now = clock.now()
        let due = try await store.keysDueForRotation(at: now)
        var rotatedIDs: [String] = []
        for key in due {
            guard let schedule = key.automaticRotation else { continue }
            // The next date follows the schedule; one missed while the key was disabled or the
            // server down is not made up several times over.
            var next = schedule.nextDate
            while next <= now { next += Double(schedule.periodInDays) * 86_400 }
            var rescheduled = key
            rescheduled.automaticRotation = AutomaticRotation(periodInDays: schedule.periodInDays, nextDate: next)
            let replicas = try await relatedKeys(of: key)
            let (rotated, mutations) = try rotation(of: rescheduled, replicas: replicas, .automatic, at: now)
            let event = AuditEvent.serviceEvent(
                "RotateKey", key: key, chain: audit.chain, at: now,
                details: ["rotationType": .string(RotationType.automatic.rawValue)])
            guard try await store.commitUnlessChanged(mutations + [.appendAuditEvent(event)]) else { continue }
            rotatedIDs.append(key.id)
            logger.info("key rotated", metadata: ["keyId": "\(key.id)", "version": "\(rotated.currentMaterialVersion)"])
        }
        return rotatedIDs
    }
}
