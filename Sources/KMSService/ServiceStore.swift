import Foundation
import KMSStorage
import Logging

/// The store as the service layer reaches it, and the only way it does.
///
/// Reads forward to `Store` and throw `KMSError`: a storage failure is logged here, once, and
/// answered `KMSInternalException` (its detail never reaches a caller). Writes go through
/// `commit`, `commitRetrying` or `commitUnlessChanged`, which say what a refused mutation
/// means to the caller (a name taken, a row gone, a revision changed underneath).
struct ServiceStore: Sendable {
    let base: any Store
    /// The audit chain that request events committed with a change go to.
    let auditChain: String
    let logger: Logger

    init(_ base: any Store, auditChain: String, logger: Logger = Logger(label: "swiftkms.store")) {
        self.base = base
        self.auditChain = auditChain
        self.logger = logger
    }

    /// One attempt of a change: mutations built from what was just read, the result to return
    /// once they are durable, and the errors to answer when the store refuses them.
    struct Change<Result> {
        var mutations: [Mutation]
        var result: Result
        /// Answered for `StoreError.alreadyExists` (an alias or principal name taken).
        var ifExists: KMSError?
        /// Answered for `StoreError.notFound` (the row to change or delete is gone).
        var ifMissing: KMSError?

        init(_ mutations: [Mutation], _ result: Result, ifExists: KMSError? = nil, ifMissing: KMSError? = nil) {
            self.mutations = mutations
            self.result = result
            self.ifExists = ifExists
            self.ifMissing = ifMissing
        }
    }

    // MARK: Writes

    /// Commits `mutations` atomically, with the request's audit event when `context` is given
    /// and its event not yet recorded, and returns once they are durable. A revision conflict
    /// here is unexpected (the caller read nothing it relies on): `KMSInternalException`.
    func commit(
        _ mutations: [Mutation], recording context: RequestContext? = nil,
        ifExists: KMSError? = nil, ifMissing: KMSError? = nil
    ) async throws(KMSError) {
        guard try await apply(Change(mutations, (), ifExists: ifExists, ifMissing: ifMissing), recording: context) else {
            logger.error("store failure", metadata: ["error": "unexpected revision conflict"])
            throw KMSError.internalFailure()
        }
    }

    /// Builds a change from fresh reads and commits it; when a revision changed in between (a
    /// concurrent request changed the same key), builds it again from what is stored now.
    func commitRetrying<Result>(
        recording context: RequestContext? = nil,
        _ build: () async throws(KMSError) -> Change<Result>
    ) async throws(KMSError) -> Result {
        for _ in 0..<8 {
            let change = try await build()
            if try await apply(change, recording: context) { return change.result }
        }
        logger.error("store failure", metadata: ["error": "revision conflicts on eight attempts"])
        throw KMSError.internalFailure()
    }

    /// A background job's commit: false when a revision changed since the job read the row
    /// (a user acted meanwhile); the job leaves that row to its next run.
    func commitUnlessChanged(_ mutations: [Mutation]) async throws(KMSError) -> Bool {
        try await apply(Change(mutations, ()), recording: nil)
    }

    /// A commit that may race another process making the same change (a seed that several
    /// nodes apply as they start): false on a revision conflict or a row made meanwhile, for
    /// the caller to plan again from fresh reads.
    func commitUnlessRaced(_ mutations: [Mutation]) async throws(KMSError) -> Bool {
        do {
            try await base.commit(mutations)
            return true
        } catch .conflict, .alreadyExists {
            return false
        } catch {
            logger.error("store failure", metadata: ["error": "\(error)"])
            throw KMSError.internalFailure()
        }
    }

    /// True when committed, false on a revision conflict.
    private func apply<Result>(_ change: Change<Result>, recording context: RequestContext?) async throws(KMSError) -> Bool {
        // The request's event goes with its first change only.
        let recording = context.flatMap { $0.audit.isRecorded ? nil : $0 }
        var mutations = change.mutations
        if let recording { mutations.append(.appendAuditEvent(recording.audit.event(chain: auditChain, error: nil))) }
        do {
            try await base.commit(mutations)
        } catch {
            switch (error, change.ifExists, change.ifMissing) {
            case (.conflict, _, _): return false
            case (.alreadyExists, let answer?, _), (.notFound, _, let answer?): throw answer
            default:
                logger.error("store failure", metadata: ["error": "\(error)"])
                throw KMSError.internalFailure()
            }
        }
        recording?.audit.markRecorded()
        return true
    }

    // MARK: Reads

    /// A read's failure is logged unless the task was cancelled (a job stopped by shutdown).
    private func read<T>(_ body: () async throws(StoreError) -> T) async throws(KMSError) -> T {
        do {
            return try await body()
        } catch {
            if !Task.isCancelled { logger.error("store failure", metadata: ["error": "\(error)"]) }
            throw KMSError.internalFailure()
        }
    }

    func key(id: String, region: String) async throws(KMSError) -> KMSKey? {
        try await read { () throws(StoreError) in try await base.key(id: id, region: region) }
    }
    func relatedKeys(id: String) async throws(KMSError) -> [KMSKey] {
        try await read { () throws(StoreError) in try await base.relatedKeys(id: id) }
    }
    func keys(account: String, region: String, afterID: String?, limit: Int) async throws(KMSError) -> [KMSKey] {
        try await read { () throws(StoreError) in try await base.keys(account: account, region: region, afterID: afterID, limit: limit) }
    }
    func keyCount(account: String, region: String) async throws(KMSError) -> Int {
        try await read { () throws(StoreError) in try await base.keyCount(account: account, region: region) }
    }
    func keyCensus() async throws(KMSError) -> [KeyCensusEntry] {
        try await read { () throws(StoreError) in try await base.keyCensus() }
    }
    func keysDueForDeletion(at date: Date) async throws(KMSError) -> [KMSKey] {
        try await read { () throws(StoreError) in try await base.keysDueForDeletion(at: date) }
    }
    func keysDueForRotation(at date: Date) async throws(KMSError) -> [KMSKey] {
        try await read { () throws(StoreError) in try await base.keysDueForRotation(at: date) }
    }
    func keys(withPolicyMentioning text: String) async throws(KMSError) -> [KMSKey] {
        try await read { () throws(StoreError) in try await base.keys(withPolicyMentioning: text) }
    }
    func customKeyStore(id: String) async throws(KMSError) -> CustomKeyStore? {
        try await read { () throws(StoreError) in try await base.customKeyStore(id: id) }
    }
    func customKeyStores(account: String, region: String) async throws(KMSError) -> [CustomKeyStore] {
        try await read { () throws(StoreError) in try await base.customKeyStores(account: account, region: region) }
    }
    func keyCount(customKeyStoreID: String) async throws(KMSError) -> Int {
        try await read { () throws(StoreError) in try await base.keyCount(customKeyStoreID: customKeyStoreID) }
    }
    func hsmCluster(id: String) async throws(KMSError) -> HSMCluster? {
        try await read { () throws(StoreError) in try await base.hsmCluster(id: id) }
    }
    func keyMaterial(keyID: String, region: String, version: UInt32) async throws(KMSError) -> KeyMaterialRecord? {
        try await read { () throws(StoreError) in try await base.keyMaterial(keyID: keyID, region: region, version: version) }
    }
    func keyMaterials(keyID: String, region: String) async throws(KMSError) -> [KeyMaterialRecord] {
        try await read { () throws(StoreError) in try await base.keyMaterials(keyID: keyID, region: region) }
    }
    func expiredKeyMaterials(by date: Date) async throws(KMSError) -> [KeyMaterialRecord] {
        try await read { () throws(StoreError) in try await base.expiredKeyMaterials(by: date) }
    }
    func importParameters(id: String) async throws(KMSError) -> ImportParameters? {
        try await read { () throws(StoreError) in try await base.importParameters(id: id) }
    }
    func alias(account: String, region: String, name: String) async throws(KMSError) -> Alias? {
        try await read { () throws(StoreError) in try await base.alias(account: account, region: region, name: name) }
    }
    func aliases(account: String, region: String, targetKeyID: String?, afterName: String?, limit: Int) async throws(KMSError) -> [Alias] {
        try await read { () throws(StoreError) in
            try await base.aliases(account: account, region: region, targetKeyID: targetKeyID, afterName: afterName, limit: limit)
        }
    }
    func tags(keyID: String, region: String) async throws(KMSError) -> [Tag] {
        try await read { () throws(StoreError) in try await base.tags(keyID: keyID, region: region) }
    }
    func principals(account: String) async throws(KMSError) -> [Principal] {
        try await read { () throws(StoreError) in try await base.principals(account: account) }
    }
    func hasPrincipal(_ principal: Principal) async throws(KMSError) -> Bool {
        try await read { () throws(StoreError) in try await base.hasPrincipal(principal) }
    }
    func principalIncarnation(of principal: Principal) async throws(KMSError) -> String? {
        try await read { () throws(StoreError) in try await base.principalIncarnation(of: principal) }
    }
    func accessKey(id: String) async throws(KMSError) -> AccessKey? {
        try await read { () throws(StoreError) in try await base.accessKey(id: id) }
    }
    func accessKeys(of principal: Principal) async throws(KMSError) -> [AccessKey] {
        try await read { () throws(StoreError) in try await base.accessKeys(of: principal) }
    }
    func identityPolicies(of principal: Principal) async throws(KMSError) -> [IdentityPolicy] {
        try await read { () throws(StoreError) in try await base.identityPolicies(of: principal) }
    }
    func principalTags(of principal: Principal) async throws(KMSError) -> [Tag] {
        try await read { () throws(StoreError) in try await base.principalTags(of: principal) }
    }
    func grant(id: String) async throws(KMSError) -> Grant? {
        try await read { () throws(StoreError) in try await base.grant(id: id) }
    }
    func grants(keyID: String, region: String) async throws(KMSError) -> [Grant] {
        try await read { () throws(StoreError) in try await base.grants(keyID: keyID, region: region) }
    }
    func grants(keyID: String, region: String, grantees: [String]) async throws(KMSError) -> [Grant] {
        try await read { () throws(StoreError) in try await base.grants(keyID: keyID, region: region, grantees: grantees) }
    }
    func grants(retiringPrincipal: String, afterID: String?, limit: Int) async throws(KMSError) -> [Grant] {
        try await read { () throws(StoreError) in try await base.grants(retiringPrincipal: retiringPrincipal, afterID: afterID, limit: limit) }
    }
    func grants(naming principal: String) async throws(KMSError) -> [Grant] {
        try await read { () throws(StoreError) in try await base.grants(naming: principal) }
    }
    func auditChains() async throws(KMSError) -> [AuditChainState] {
        try await read { () throws(StoreError) in try await base.auditChains() }
    }
    func auditEvents(chain: String, afterSequence: Int64, limit: Int) async throws(KMSError) -> [StoredAuditEvent] {
        try await read { () throws(StoreError) in try await base.auditEvents(chain: chain, afterSequence: afterSequence, limit: limit) }
    }
    func hotAuditEvents(chain: String, limit: Int) async throws(KMSError) -> [AuditSegmentEntry] {
        try await read { () throws(StoreError) in try await base.hotAuditEvents(chain: chain, limit: limit) }
    }
    func auditEvents(matching query: AuditQuery) async throws(KMSError) -> AuditPage {
        try await read { () throws(StoreError) in try await base.auditEvents(matching: query) }
    }
    func auditCheckpoints() async throws(KMSError) -> [SignedAuditCheckpoint] {
        try await read { () throws(StoreError) in try await base.auditCheckpoints() }
    }
    func lastAuditCheckpoint() async throws(KMSError) -> SignedAuditCheckpoint? {
        try await read { () throws(StoreError) in try await base.lastAuditCheckpoint() }
    }
    func auditSigningKey() async throws(KMSError) -> (wrapped: [UInt8], publicKey: [UInt8])? {
        try await read { () throws(StoreError) in try await base.auditSigningKey() }
    }
}
