import Foundation
import KMSStorage

extension KeyManagementService {
    /// Rotates the key's material now: new encryptions use the new version, ciphertexts made
    /// under earlier versions still decrypt. At most 25 times per key (`LimitExceededException`).
    /// The automatic schedule, if any, is not moved. A multi-Region key rotates on its primary,
    /// and the new material reaches every replica in the same commit. A key with imported
    /// material rotates to the material imported with `NEW_KEY_MATERIAL` (`PENDING_ROTATION`),
    /// which each replica must have imported too.
    ///
    /// - Returns: the key ARN.
    public func rotateKeyOnDemand(keyID: String, _ context: RequestContext) async throws(KMSError) -> String {
        let action = KMSAction.rotateKeyOnDemand
        return try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            try KeyLifecycle.check(action, on: key)
            try requireRotatable(key, imported: true)
            try requireNotReplica(key, operation: "RotateKeyOnDemand")
            let materials = try await store.keyMaterials(keyID: key.id, region: key.region)
            guard materials.count(where: { $0.rotationType == .onDemand }) < Self.onDemandRotationLimit else {
                throw KMSError(.limitExceeded, "\(key.arn) has been rotated on demand \(Self.onDemandRotationLimit) times, the most allowed.")
            }
            let replicas = try await relatedKeys(of: key)
            let mutations =
                key.origin == .external
                ? try await rotationToImported(key, materials, replicas: replicas, at: clock.now())
                : try rotation(of: key, replicas: replicas, .onDemand, at: clock.now()).mutations
            context.audit.setResponseElements(["keyId": .string(key.arn)])
            return (mutations, key.arn)
        }
    }

    /// The mutations that make a key's pending imported material (the version after the
    /// current one) current, in the key and each replica, as an on-demand rotation.
    private func rotationToImported(
        _ key: KMSKey, _ materials: [KeyMaterialRecord], replicas: [KMSKey], at now: Date
    ) async throws(KMSError) -> [Mutation] {
        let version = key.currentMaterialVersion + 1
        guard let pending = materials.first(where: { $0.version == version }), !pending.isDeleted else {
            throw KMSError.invalidState(
                "\(key.arn) has no key material in PENDING_ROTATION state; import new key material with ImportType NEW_KEY_MATERIAL first.")
        }
        var mutations: [Mutation] = []
        for member in [key] + replicas {
            let record: KeyMaterialRecord? =
                member.region == key.region
                ? pending
                : try await store.keyMaterial(keyID: member.id, region: member.region, version: version)
            guard var record, !record.isDeleted else {
                throw KMSError.invalidState(
                    "\(member.arn) has not imported the key material pending rotation (PENDING_MULTI_REGION_IMPORT_AND_ROTATION).")
            }
            record.rotationType = .onDemand
            record.creationDate = now
            var rotated = member
            rotated.currentMaterialVersion = version
            rotated.materialValidTo = record.validTo
            mutations += [.updateKey(rotated), .replaceKeyMaterial(record)]
        }
        return mutations
    }
}
