import Foundation
import KMSStorage

extension KeyManagementService {
    public struct CreateKeyInput: Sendable {
        public var policy: String?
        public var description: String?
        public var keyUsage: KeyUsage?
        public var keySpec: KeySpec?
        public var customerMasterKeySpec: KeySpec?
        public var origin: KeyOrigin?
        public var customKeyStoreID: String?
        public var tags: [Tag]
        public var multiRegion: Bool?
        public var xksKeyID: String?
        public var bypassPolicyLockoutSafetyCheck: Bool?

        public init(
            policy: String? = nil, description: String? = nil, keyUsage: KeyUsage? = nil, keySpec: KeySpec? = nil,
            customerMasterKeySpec: KeySpec? = nil, origin: KeyOrigin? = nil, customKeyStoreID: String? = nil,
            tags: [Tag] = [], multiRegion: Bool? = nil, xksKeyID: String? = nil, bypassPolicyLockoutSafetyCheck: Bool? = nil
        ) {
            self.bypassPolicyLockoutSafetyCheck = bypassPolicyLockoutSafetyCheck
            self.policy = policy
            self.description = description
            self.keyUsage = keyUsage
            self.keySpec = keySpec
            self.customerMasterKeySpec = customerMasterKeySpec
            self.origin = origin
            self.customKeyStoreID = customKeyStoreID
            self.tags = tags
            self.multiRegion = multiRegion
            self.xksKeyID = xksKeyID
        }
    }

    /// Creates a customer managed key with fresh material (version 1), enabled, of any key spec
    /// with a usage AWS allows for it (SM2 in China Regions only). With `multiRegion`, the key
    /// is the primary of a multi-Region key (ReplicateKey copies it to other regions).
    public func createKey(_ input: CreateKeyInput, _ context: RequestContext) async throws(KMSError) -> KMSKey {
        if input.keySpec != nil, input.customerMasterKeySpec != nil {
            throw KMSError.validation("You cannot specify both KeySpec and CustomerMasterKeySpec. Use KeySpec.")
        }
        let spec = input.keySpec ?? input.customerMasterKeySpec ?? .symmetricDefault
        // As AWS: only a symmetric encryption key may leave KeyUsage out.
        guard let usage = input.keyUsage ?? (spec == .symmetricDefault ? .encryptDecrypt : nil) else {
            throw KMSError.validation("You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
        }
        guard spec.allowedUsages.contains(usage) else {
            throw KMSError.validation("KeyUsage \(usage.rawValue) is not compatible with KeySpec \(spec.rawValue).")
        }
        try Self.requireOffered(spec, context, member: "KeySpec")
        let origin = try Self.origin(of: input)
        let multiRegion = input.multiRegion == true
        if origin == .awsCloudHSM || origin == .externalKeyStore {
            guard spec == .symmetricDefault, usage == .encryptDecrypt else {
                throw KMSError(.unsupportedOperation, "A custom key store holds only symmetric encryption keys (SYMMETRIC_DEFAULT).")
            }
            if multiRegion { throw KMSError(.unsupportedOperation, "Multi-Region keys cannot be created in a custom key store.") }
        }
        try Tag.validate(input.tags)
        try Tag.checkCount(input.tags)
        var conditions = Self.requestTagConditions(input.tags)
        conditions["kms:KeySpec"] = [spec.rawValue]
        conditions["kms:KeyUsage"] = [usage.rawValue]
        conditions["kms:KeyOrigin"] = [origin.rawValue]
        conditions["kms:MultiRegion"] = [input.multiRegion == true ? "true" : "false"]
        conditions["kms:BypassPolicyLockoutSafetyCheck"] = [input.bypassPolicyLockoutSafetyCheck == true ? "true" : "false"]
        try await authorizeAccountAction(context, AccessRequest(.createKey, conditions: conditions))

        var keyStore: CustomKeyStore?
        if let id = input.customKeyStoreID {
            let found = try await customKeyStore(id: id, context)
            _ = try CustomKeyStoreLifecycle.check(.createKey, in: found.connectionState, store: id)
            guard (found.type == .external) == (origin == .externalKeyStore) else {
                throw KMSError.validation(
                    found.type == .external
                        ? "Origin must be EXTERNAL_KEY_STORE, with an XksKeyId, for a key in an external key store."
                        : "Origin must be AWS_CLOUDHSM for a key in a CloudHSM key store.")
            }
            if let xksKeyID = input.xksKeyID { try await checkExternalKey(xksKeyID, in: found, context) }
            keyStore = found
        }

        let now = clock.now()
        // A key for imported material (EXTERNAL) has none until ImportKeyMaterial: version 0.
        // A multi-Region key's ID is `mrk-` and 32 hex digits; its replicas will share it.
        var key = KMSKey(
            id: multiRegion ? "mrk-" + Hex.encode(SecureRandom.bytes(16)) : UUID.randomLowercased(), account: context.account, region: context.region,
            creationDate: now,
            description: input.description ?? "", usage: usage, spec: spec, origin: origin, state: KeyLifecycle.initialState(origin: origin),
            policy: Self.defaultPolicy(account: context.account), currentMaterialVersion: origin == .external ? 0 : 1,
            primaryRegion: multiRegion ? context.region : nil, customKeyStoreID: keyStore?.id, xksKeyID: input.xksKeyID)
        if let policy = input.policy {
            key.policy = try await checkedPolicy(policy, for: key, context, bypassLockoutCheck: input.bypassPolicyLockoutSafetyCheck == true)
        }
        // Checked before the insert, not in its transaction: concurrent creations at the quota
        // can pass it together, as with AWS's eventually consistent count.
        let existing = try await store.keyCount(account: context.account, region: context.region)
        guard existing < quotas.keysPerRegion else {
            throw KMSError(.limitExceeded, "Account \(context.account) already has \(quotas.keysPerRegion) KMS keys in \(context.region).")
        }
        var mutations: [Mutation] = [.insertKey(key)]
        let materialID = Self.newMaterialID()
        var created: (any KeyMaterial)?
        // A key in an external key store has material of its own too: its ciphertexts are sealed twice.
        if origin == .awsKMS || origin == .externalKeyStore {
            let generate: @Sendable () throws(KMSError) -> (material: any KeyMaterial, wrapped: [UInt8]) = { [rootKey, key] () throws(KMSError) in
                try Self.newMaterial(for: key, rootKey: rootKey)
            }
            // Only key pairs take long enough to be worth a thread hop; AES and HMAC keys take microseconds.
            let (material, wrapped) = AsymmetricKeyMaterial.specs.contains(spec) ? try await KeyGeneration.offloaded(generate) : try generate()
            created = material
            mutations.append(
                .insertKeyMaterial(
                    KeyMaterialRecord(keyID: key.id, region: key.region, version: 1, wrapped: wrapped, creationDate: now, materialID: materialID)))
        }
        if !input.tags.isEmpty { mutations.append(.putTags(keyID: key.id, region: key.region, tags: input.tags)) }
        if let keyStore {
            // The store's row rewritten as it was read: a Disconnect (or Delete) committed since
            // makes this commit conflict, so that no key lands in a store that is no longer connected.
            mutations.append(.updateCustomKeyStore(keyStore))
            if origin == .awsCloudHSM { try await generateInHSM(key, keyStore) }
        }
        context.audit.noteKey(key)
        context.audit.setResponseElements(["keyMetadata": key.auditMetadata])
        do {
            try await store.commit(
                mutations, recording: context,
                ifExists: KMSError(
                    .xksKeyAlreadyInUse, "The external key \(input.xksKeyID ?? "") is already associated with a KMS key in this external key store."))
        } catch {
            if origin == .awsCloudHSM { await destroyInHSM(key) }
            throw error
        }
        // The response's CurrentKeyMaterialId and the key's first use then need no read of it.
        if let created { remember(created, materialID: materialID, of: key, version: 1) }
        logger.info("key created", metadata: ["keyId": "\(key.id)", "requestId": "\(context.requestID)"])
        return key
    }

    /// The key's origin: `Origin`, or the kind of the custom key store named. AWS_CLOUDHSM needs
    /// a `CustomKeyStoreId`, and a `CustomKeyStoreId` needs its store's origin.
    static func origin(of input: CreateKeyInput) throws(KMSError) -> KeyOrigin {
        if input.xksKeyID != nil || input.origin == .externalKeyStore {
            guard input.origin == .externalKeyStore, input.xksKeyID != nil, input.customKeyStoreID != nil else {
                throw KMSError.validation(
                    "Origin EXTERNAL_KEY_STORE, CustomKeyStoreId and XksKeyId go together: a key in an external key store needs all three.")
            }
            return .externalKeyStore
        }
        guard input.customKeyStoreID != nil else {
            if input.origin == .awsCloudHSM {
                throw KMSError.validation("CustomKeyStoreId is required when Origin is AWS_CLOUDHSM.")
            }
            return input.origin ?? .awsKMS
        }
        guard input.origin == nil || input.origin == .awsCloudHSM else {
            throw KMSError.validation("Origin must be AWS_CLOUDHSM for a key in a CloudHSM key store.")
        }
        return .awsCloudHSM
    }

    /// SM2 exists only in China Regions; elsewhere AWS answers UnsupportedOperationException.
    static func requireOffered(_ spec: KeySpec, _ context: RequestContext, member: String) throws(KMSError) {
        if spec == .sm2, !ResourceName.offersSM2(region: context.region) {
            throw KMSError(.unsupportedOperation, "\(member) SM2 is not supported in this Region")
        }
    }

    /// Fresh material (version 1) for `key`'s spec, and the same wrapped under the root key.
    static func newMaterial(for key: KMSKey, rootKey: RootKey) throws(KMSError) -> (material: any KeyMaterial, wrapped: [UInt8]) {
        let material = try freshMaterial(for: key.spec)
        return (material, try rootKey.wrapKeyMaterial(material, keyARN: key.arn, version: 1))
    }

    /// Fresh material of a spec, not yet wrapped.
    static func freshMaterial(for spec: KeySpec) throws(KMSError) -> any KeyMaterial {
        if let algorithm = spec.macAlgorithm { return HMACKeyMaterial.generate(for: algorithm) }
        if AsymmetricKeyMaterial.specs.contains(spec) { return try AsymmetricKeyMaterial.generate(spec) }
        return SymmetricKeyMaterial.generate()
    }

    /// A fresh `KeyMaterialId`: 32 random bytes in hex (it tells nothing about the material).
    static func newMaterialID() -> String {
        Hex.encode(SecureRandom.bytes(32))
    }

    /// The policy AWS gives a key created without one: the account may do everything.
    static func defaultPolicy(account: String) -> String {
        """
        {
          "Version" : "2012-10-17",
          "Id" : "key-default-1",
          "Statement" : [ {
            "Sid" : "Enable IAM User Permissions",
            "Effect" : "Allow",
            "Principal" : {
              "AWS" : "arn:aws:iam::\(account):root"
            },
            "Action" : "kms:*",
            "Resource" : "*"
          } ]
        }
        """
    }
}
