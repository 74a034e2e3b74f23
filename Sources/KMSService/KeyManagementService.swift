import Foundation
import KMSStorage
import KMSXKSClient
import Logging

/// The KMS operations, one per file in `Operations/`, and the background jobs in `Jobs/`, over
/// one store (reached through `ServiceStore`) and one root key. `KeyAccess.swift` holds how
/// operations find, check and use a key; `KeyLifecycle` (KMSCore) decides key states.
///
/// Every operation resolves the key in the caller's account and region, authorizes the
/// caller, checks the key's state and usage, then does the work; a state change is durable
/// in the store before the operation returns.
public final class KeyManagementService: Sendable {
    let store: ServiceStore
    let rootKey: RootKey
    public let clock: any KMSClock
    let logger: Logger
    let quotas: Quotas
    /// Where events of requests that changed nothing go (group commit).
    public let audit: AuditTrail
    let throttle: RequestThrottle?
    /// Unwrapped material and its `KeyMaterialId` by `materialCacheKey`. Generated material
    /// of a version never changes, and a deleted key is refused by the key lookup that always
    /// precedes a material lookup. Imported material can be deleted (or expire) while its key
    /// stays usable: every such deletion bumps the key's revision, which is in its cache key.
    /// Room for 100,000 versions, so that a workload cycling through 10,000 keys of every
    /// kind does not empty it over and over.
    private let materialCache = BoundedCache<String, (material: any KeyMaterial, materialID: String)>(limit: 100_000)
    /// Parsed key policies by their text: keys created without a policy share one document.
    let policyCache = BoundedCache<String, PolicyDocument>(limit: 10_000)
    /// This process's sessions on the HSM tokens of CloudHSM key stores.
    let hsm = HSMConnections()
    /// The calls to external key stores' XKS proxies.
    let xks: XKSClient
    /// The certificate (PEM or DER) Nitro Enclaves attestation documents must chain to; nil:
    /// requests with a `Recipient` are refused.
    let attestationRoot: [UInt8]?

    /// Resource quotas, AWS's defaults unless configured.
    public struct Quotas: Sendable {
        /// Grants on one key (AWS: 50,000).
        public var grantsPerKey = 50_000
        /// Bytes of a key policy (AWS: 32 KiB).
        public var keyPolicySize = 32_768
        /// Keys of one account in one region (AWS: 100,000).
        public var keysPerRegion = 100_000
        /// Aliases pointing to one key (AWS: 50).
        public var aliasesPerKey = 50
        /// Custom key stores of one account in one region (AWS: 10).
        public var customKeyStoresPerRegion = 10
        /// Request-rate quotas; nil (the default here) applies none.
        public var requestRates: RequestRates?

        public init(
            grantsPerKey: Int = 50_000, keyPolicySize: Int = 32_768, keysPerRegion: Int = 100_000, aliasesPerKey: Int = 50,
            customKeyStoresPerRegion: Int = 10, requestRates: RequestRates? = nil
        ) {
            self.grantsPerKey = grantsPerKey
            self.keyPolicySize = keyPolicySize
            self.keysPerRegion = keysPerRegion
            self.aliasesPerKey = aliasesPerKey
            self.customKeyStoresPerRegion = customKeyStoresPerRegion
            self.requestRates = requestRates
        }
    }

    /// - Parameter auditChain: the audit chain this process appends to; give each process
    ///   over a shared database its own, so that they don't wait on one another.
    public init(
        store: any Store, rootKey: RootKey, clock: any KMSClock = SystemClock(), quotas: Quotas = Quotas(),
        auditChain: String = "main", xks: XKSClient = XKSClient(caBundlePath: nil), attestationRoot: [UInt8]? = nil,
        logger: Logger = Logger(label: "swiftkms.service")
    ) {
        self.xks = xks
        self.attestationRoot = attestationRoot
        self.quotas = quotas
        audit = AuditTrail(store: store, chain: auditChain, logger: logger)
        throttle = quotas.requestRates.map { RequestThrottle(rates: $0, clock: clock) }
        self.store = ServiceStore(store, auditChain: audit.chain, logger: logger)
        self.rootKey = rootKey
        self.clock = clock
        self.logger = logger
    }

    // MARK: Material

    /// The material of one version of a key, unwrapped as `type` (which the caller chose from
    /// the key's spec). `nil` when that version doesn't exist, or its imported material was deleted.
    func material<Material: KeyMaterial>(of key: KMSKey, version: UInt32, as type: Material.Type) async throws(KMSError) -> Material? {
        try await cachedMaterial(of: key, version: version, as: type)?.material
    }

    /// The material of a version with its `KeyMaterialId`, from the cache or unwrapped into it.
    private func cachedMaterial<Material: KeyMaterial>(
        of key: KMSKey, version: UInt32, as type: Material.Type
    ) async throws(KMSError) -> (material: Material, materialID: String)? {
        let cacheKey = Self.materialCacheKey(key, version)
        if let cached = materialCache[cacheKey] {
            guard let typed = cached.material as? Material else { throw KMSError.internalFailure() }
            return (typed, cached.materialID)
        }
        guard let record = try await store.keyMaterial(keyID: key.id, region: key.region, version: version),
            !record.isDeleted
        else { return nil }
        let material = try rootKey.unwrapKeyMaterial(record.wrapped, as: type, keyARN: key.arn, version: version)
        materialCache.set((material, record.materialID), for: cacheKey)
        return (material, record.materialID)
    }

    /// Caches material just committed, which is what its stored row unwraps to.
    func remember(_ material: any KeyMaterial, materialID: String, of key: KMSKey, version: UInt32) {
        materialCache.set((material, materialID), for: Self.materialCacheKey(key, version))
    }

    private static func materialCacheKey(_ key: KMSKey, _ version: UInt32) -> String {
        key.origin == .external ? "\(key.arn)#\(version)#\(key.revision)" : "\(key.arn)#\(version)"
    }

    /// The `KeyMaterialId` of one version of a symmetric key's material, through the material
    /// cache, so that repeated requests (DescribeKey included) read the store once; for deleted
    /// imported material, from its stored row. Nil when the version doesn't exist.
    func materialID(of key: KMSKey, version: UInt32) async throws(KMSError) -> String? {
        if let cached = try await cachedMaterial(of: key, version: version, as: SymmetricKeyMaterial.self) { return cached.materialID }
        return try await store.keyMaterial(keyID: key.id, region: key.region, version: version)?.materialID
    }

    /// `CurrentKeyMaterialId` of DescribeKey: for symmetric encryption keys that have material.
    public func currentMaterialID(of key: KMSKey) async throws(KMSError) -> String? {
        guard key.spec == .symmetricDefault, key.currentMaterialVersion > 0 else { return nil }
        return try await materialID(of: key, version: key.currentMaterialVersion)
    }

    /// The key's current material version; a missing one is `KMSInternalException` (logged):
    /// a key's current version is written with the key.
    func currentMaterial<Material: KeyMaterial>(of key: KMSKey, as type: Material.Type) async throws(KMSError) -> Material {
        guard let material = try await material(of: key, version: key.currentMaterialVersion, as: type) else {
            logger.error("current key material missing", metadata: ["keyId": "\(key.id)"])
            throw KMSError.internalFailure()
        }
        return material
    }

    // MARK: Changes

    /// Records the audit event of a request that ends here, unless it was committed with
    /// the change the request made; returns once it is durable.
    public func finishAudit(_ context: RequestContext, error: KMSError?) async throws(KMSError) {
        guard !context.audit.isRecorded else { return }
        try await audit.record(context.audit.event(chain: audit.chain, error: error))
    }

    /// Reads a key, builds mutations from it and commits them with the request's audit event;
    /// when the key changed in between (a revision conflict), reads it again and retries.
    func updatingKey<T>(
        _ keyIdText: String, _ context: RequestContext, action: KMSAction,
        _ body: (KMSKey) async throws(KMSError) -> (mutations: [Mutation], result: T)
    ) async throws(KMSError) -> T {
        try await store.commitRetrying(recording: context) { () throws(KMSError) in
            let key = try await resolveKey(keyIdText, context, allowAlias: false, action: action)
            let (mutations, result) = try await body(key)
            return ServiceStore.Change(mutations, result)
        }
    }
}
