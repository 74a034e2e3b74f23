import Foundation
import KMSStorage

extension KeyManagementService {
    /// Makes the replica in `primaryRegion` the primary of its multi-Region key, and the current
    /// primary a replica, in one commit (AWS shows both `Updating` for a while; here the change
    /// is complete when this returns). Called on the current primary.
    ///
    /// Authorization: `kms:UpdatePrimaryRegion` on the current primary and on the replica,
    /// each by its own key policy.
    public func updatePrimaryRegion(keyID: String, primaryRegion: String, _ context: RequestContext) async throws(KMSError) {
        let action = KMSAction.updatePrimaryRegion
        let request = AccessRequest(action, conditions: ["kms:PrimaryRegion": [primaryRegion]])
        try await updatingKey(keyID, context, action: action) { primary throws(KMSError) in
            try await authorize(context, request, key: primary)
            guard primary.isMultiRegion else {
                throw KMSError(.unsupportedOperation, "\(primary.arn) is not a multi-Region key.")
            }
            try requireNotReplica(primary, operation: "UpdatePrimaryRegion")
            guard primaryRegion != primary.region else { return ([], ()) }
            let related = try await relatedKeys(of: primary)
            guard let newPrimary = related.first(where: { $0.region == primaryRegion }) else {
                throw KMSError.keyNotFound(ResourceName.keyARN(region: primaryRegion, account: primary.account, keyID: primary.id))
            }
            var replicaContext = context
            replicaContext.region = primaryRegion
            try await authorize(replicaContext, request, key: newPrimary)
            for key in [primary, newPrimary] {
                try KeyLifecycle.check(action, on: key)
            }
            var updated = primary
            updated.primaryRegion = primaryRegion
            return ([.updateKey(updated)] + sharedUpdates(from: updated, to: related), ())
        }
    }
}
