import KMSStorage

extension KeyManagementService {
    /// Turns off automatic rotation; material made by earlier rotations stays and decrypts.
    public func disableKeyRotation(keyID: String, _ context: RequestContext) async throws(KMSError) {
        let action = KMSAction.disableKeyRotation
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            try KeyLifecycle.check(action, on: key)
            try requireRotatable(key)
            try requireNotReplica(key, operation: "DisableKeyRotation")
            guard key.automaticRotation != nil else { return ([], ()) }
            var updated = key
            updated.automaticRotation = nil
            return ([.updateKey(updated)] + sharedUpdates(from: updated, to: try await relatedKeys(of: key)), ())
        }
    }
}
