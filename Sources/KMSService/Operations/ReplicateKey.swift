import Foundation
import KMSStorage

extension KeyManagementService {
    public struct ReplicateKeyInput: Sendable {
        public var keyID: String
        public var replicaRegion: String
        public var policy: String?
        public var bypassPolicyLockoutSafetyCheck: Bool?
        public var description: String?
        public var tags: [Tag]

        public init(
            keyID: String, replicaRegion: String, policy: String? = nil, bypassPolicyLockoutSafetyCheck: Bool? = nil,
            description: String? = nil, tags: [Tag] = []
        ) {
            self.keyID = keyID
            self.replicaRegion = replicaRegion
            self.policy = policy
            self.bypassPolicyLockoutSafetyCheck = bypassPolicyLockoutSafetyCheck
            self.description = description
            self.tags = tags
        }
    }

    /// Creates a replica of a multi-Region primary key in another region of the same
    /// partition: same key ID, material versions, spec, usage, origin and rotation; its own
    /// policy (default: the default key policy), description and tags. The replica is
    /// `Enabled` when this returns (AWS passes through `Creating` for a few seconds), or
    /// `PendingImport` for imported material, which must then be imported into it too.
    ///
    /// Authorization: `kms:ReplicateKey` on the primary; `kms:CreateKey` (and, with tags,
    /// `kms:TagResource`) by the caller's identity policies in the replica region.
    ///
    /// - Returns: the replica and its tags.
    public func replicateKey(_ input: ReplicateKeyInput, _ context: RequestContext) async throws(KMSError) -> (replica: KMSKey, tags: [Tag]) {
        let action = KMSAction.replicateKey
        try Tag.validate(input.tags)
        try Tag.checkCount(input.tags)
        let replica = try await store.commitRetrying(recording: context) { () throws(KMSError) in
            let primary = try await resolveKey(input.keyID, context, allowAlias: false, action: action)
            try await authorize(context, AccessRequest(action, conditions: ["kms:ReplicaRegion": [input.replicaRegion]]), key: primary)
            guard primary.isMultiRegion else {
                throw KMSError(.unsupportedOperation, "\(primary.arn) is not a multi-Region key; only multi-Region primary keys can be replicated.")
            }
            try requireNotReplica(primary, operation: "ReplicateKey")
            try KeyLifecycle.check(action, on: primary)
            if primary.origin == .external, primary.currentMaterialVersion == 0 {
                throw KMSError.invalidState("Import key material into \(primary.arn) before replicating it.")
            }
            guard ResourceName.partition(region: input.replicaRegion) == ResourceName.partition(region: primary.region) else {
                throw KMSError.validation("The replica Region \(input.replicaRegion) is not in the partition of \(primary.arn).")
            }
            let related = try await relatedKeys(of: primary)
            if input.replicaRegion == primary.region || related.contains(where: { $0.region == input.replicaRegion }) {
                throw KMSError(
                    .alreadyExists, "\(ResourceName.keyARN(region: input.replicaRegion, account: primary.account, keyID: primary.id)) already exists."
                )
            }

            // The caller creates a key in the replica region: its identity policies there decide.
            var replicaContext = context
            replicaContext.region = input.replicaRegion
            var conditions = Self.requestTagConditions(input.tags)
            conditions["kms:KeySpec"] = [primary.spec.rawValue]
            conditions["kms:KeyUsage"] = [primary.usage.rawValue]
            conditions["kms:KeyOrigin"] = [primary.origin.rawValue]
            conditions["kms:MultiRegion"] = ["true"]
            conditions["kms:MultiRegionKeyType"] = ["REPLICA"]
            try await authorizeAccountAction(replicaContext, AccessRequest(.createKey, conditions: conditions))
            if !input.tags.isEmpty {
                try await authorizeAccountAction(replicaContext, AccessRequest(.tagResource, conditions: Self.requestTagConditions(input.tags)))
            }
            let count = try await store.keyCount(account: primary.account, region: input.replicaRegion)
            guard count < quotas.keysPerRegion else {
                throw KMSError(.limitExceeded, "Account \(primary.account) already has \(quotas.keysPerRegion) KMS keys in \(input.replicaRegion).")
            }

            let now = clock.now()
            var replica = KMSKey(
                id: primary.id, account: primary.account, region: input.replicaRegion, creationDate: now, description: input.description ?? "",
                usage: primary.usage, spec: primary.spec, origin: primary.origin, state: KeyLifecycle.initialState(origin: primary.origin),
                policy: Self.defaultPolicy(account: primary.account), currentMaterialVersion: primary.currentMaterialVersion,
                automaticRotation: primary.automaticRotation, primaryRegion: primary.region)
            if let policy = input.policy {
                replica.policy = try await checkedPolicy(
                    policy, for: replica, replicaContext, bypassLockoutCheck: input.bypassPolicyLockoutSafetyCheck == true)
            }
            // Every material version, rewrapped for the replica's ARN. Imported material is not
            // copied: the replica gets the versions' IDs, and takes the same material only.
            let materials = try await store.keyMaterials(keyID: primary.id, region: primary.region)
            var mutations: [Mutation] = [.updateKey(primary), .insertKey(replica)]
            for var record in materials {
                record.region = replica.region
                if primary.origin == .external || record.isDeleted {
                    record.wrapped = []
                } else {
                    record.wrapped = try rootKey.rewrapKeyMaterial(record.wrapped, from: primary.arn, to: replica.arn, version: record.version)
                }
                mutations.append(.insertKeyMaterial(record))
            }
            if !input.tags.isEmpty { mutations.append(.putTags(keyID: replica.id, region: replica.region, tags: input.tags)) }
            context.audit.noteKey(replica)
            context.audit.setResponseElements(["replicaKeyMetadata": replica.auditMetadata])
            return ServiceStore.Change(mutations, replica, ifExists: KMSError(.alreadyExists, "\(replica.arn) already exists."))
        }
        logger.info("key replicated", metadata: ["keyId": "\(replica.id)", "region": "\(replica.region)", "requestId": "\(context.requestID)"])
        return (replica, input.tags.sorted { $0.key < $1.key })
    }
}
