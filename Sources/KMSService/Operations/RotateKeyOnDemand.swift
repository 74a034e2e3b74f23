import Foundation
import KMSStorage

extension KeyManagementService {
    /// Rotates the key's material now: new encryptions use the new version, ciphertexts made
    /// under earlier versions still decrypt. At most 25 times per key (`LimitExceededException`).
    /// The automatic schedule, if any, is not moved. A multi-Region key rotates on its primary,
    /// and the new material reaches every replica in the same commit.
    ///
    /// - Returns: the key ARN.
    public func rotateKeyOnDemand(keyID: String, _ context: RequestContext) async throws(KMSError) -> String {
        let action = "kms:RotateKeyOnDemand"
        return try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            try requireEnabled(key)
            try requireRotatable(key)
            try requireNotReplica(key, operation: "RotateKeyOnDemand")
            let materials = try await storeCall { () throws(StoreError) in try await store.keyMaterials(keyID: key.id, region: key.region) }
            guard materials.count(where: { $0.rotationType == .onDemand }) < Self.onDemandRotationLimit else {
                throw KMSError(.limitExceeded, "\(key.arn) has been rotated on demand \(Self.onDemandRotationLimit) times, the most allowed.")
            }
            let (_, mutations) = try rotation(of: key, replicas: try await relatedKeys(of: key), .onDemand, at: clock.now())
            context.audit.setResponseElements(["keyId": .string(key.arn)])
            return (mutations, key.arn)
        }
    }
}
