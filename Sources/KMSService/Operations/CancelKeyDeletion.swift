import KMSStorage
extension KeyManagementService {
    /// Takes a key out of `PendingDeletion`. As in AWS KMS, it comes back `Disabled`.
    public func cancelKeyDeletion(keyID: String, _ context: RequestContext) async throws(KMSError) -> KMSKey {
        let action = "kms:CancelKeyDeletion"
        return try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            guard key.state == .pendingDeletion else {
                throw KMSError.invalidState("\(key.arn) is not pending deletion.")
            }
            var updated = key
            updated.state = .disabled
            updated.deletionDate = nil
            updated.pendingWindowInDays = nil
            context.audit.setResponseElements(["keyId": .string(key.arn)])
            return ([.updateKey(updated)], updated)
        }
    }
}
