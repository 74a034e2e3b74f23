import Foundation
@_exported import KMSCore

/// One version of a key's material, as stored: wrapped under the root key, never in the clear.
public struct KeyMaterialRecord: Sendable, Equatable {
    public var keyID: String
    /// The key's region: each key of a multi-Region set holds its own copy, wrapped for its ARN.
    public var region: String
    public var version: UInt32
    /// `RootKey.wrapKeyMaterial` output, bound to the key ARN and version.
    public var wrapped: [UInt8]
    /// When the version was made: the key's creation, or the rotation (`RotationDate`).
    public var creationDate: Date
    /// `KeyMaterialId`: 64 lowercase hex characters, random, naming the version (not derived from it).
    public var materialID: String
    /// nil for the first version; how a later one was made.
    public var rotationType: RotationType?
    /// `KeyMaterialDescription` of imported material.
    public var description: String?
    /// When imported material expires (`ValidTo`); nil when it does not.
    public var validTo: Date?

    /// Imported material that expired or was deleted: the row stays (its `materialID`
    /// recognizes a reimport of the same material), without the material.
    public var isDeleted: Bool { wrapped.isEmpty }

    public init(
        keyID: String, region: String, version: UInt32, wrapped: [UInt8], creationDate: Date, materialID: String,
        rotationType: RotationType? = nil, description: String? = nil, validTo: Date? = nil
    ) {
        self.description = description
        self.validTo = validTo
        self.keyID = keyID
        self.region = region
        self.version = version
        self.wrapped = wrapped
        self.creationDate = creationDate
        self.materialID = materialID
        self.rotationType = rotationType
    }
}

/// A change to the store. A `commit` applies a list of them in one transaction.
public enum Mutation: Sendable {
    case insertKey(KMSKey)
    /// Replaces the key's row. The given `revision` must be the stored one (else
    /// `StoreError.conflict`); the stored revision becomes `revision + 1`.
    case updateKey(KMSKey)
    /// Deletes the key (of that ID in that region) with its material, tags, grants, import
    /// parameters and the aliases that point to it. `revision` must be the stored one.
    case deleteKey(id: String, region: String, revision: Int64)
    case insertKeyMaterial(KeyMaterialRecord)
    /// Replaces a stored version's wrapped material, description, rotation type, date and
    /// expiry (reimport, rotation to imported material, or deletion with an empty `wrapped`);
    /// `StoreError.notFound` when there is none.
    case replaceKeyMaterial(KeyMaterialRecord)
    case insertImportParameters(ImportParameters)
    /// Deletes import parameters whose `validTo` is at or before the date.
    case deleteImportParameters(expiredBy: Date)
    /// `StoreError.alreadyExists` when the name is taken in the alias's account and region.
    case insertAlias(Alias)
    /// Replaces an existing alias; `StoreError.notFound` when there is none.
    case updateAlias(Alias)
    /// `StoreError.notFound` when there is none.
    case deleteAlias(account: String, region: String, name: String)
    /// Adds or overwrites tags of a key.
    case putTags(keyID: String, region: String, tags: [Tag])
    /// Removes tags of a key; absent keys are ignored.
    case removeTags(keyID: String, region: String, tagKeys: [String])
    /// `StoreError.alreadyExists` when the principal exists.
    case insertPrincipal(Principal, creationDate: Date)
    case insertAccessKey(AccessKey, creationDate: Date)
    /// `StoreError.notFound` when there is none.
    case deleteAccessKey(id: String)
    /// Deletes a principal with its access keys, identity policies and tags;
    /// `StoreError.notFound` when there is none.
    case deletePrincipal(Principal)
    /// Adds or replaces the principal's identity policy of that name.
    case putIdentityPolicy(Principal, IdentityPolicy)
    /// `StoreError.notFound` when there is none.
    case deleteIdentityPolicy(Principal, name: String)
    /// Adds or overwrites tags of a principal (`aws:PrincipalTag/*`).
    case putPrincipalTags(Principal, tags: [Tag])
    case removePrincipalTags(Principal, tagKeys: [String])
    case insertGrant(Grant)
    /// `StoreError.notFound` when there is none. The grant's key says which cached grants go.
    case deleteGrant(id: String, keyID: String, region: String)
    /// Seals the event at the next sequence number of its chain, linked to the chain's head.
    case appendAuditEvent(AuditEvent)
    /// `StoreError.conflict` unless the last checkpoint's signature is `follows` (nil: there is
    /// none yet): two writers signing at once must not fork the sequence of checkpoints.
    case insertAuditCheckpoint(SignedAuditCheckpoint, creationDate: Date, follows: [UInt8]?)
    /// `StoreError.alreadyExists` when there is one: a trail has one signing key.
    case insertAuditSigningKey(wrapped: [UInt8], publicKey: [UInt8], creationDate: Date)
    /// Deletes, in each named chain, the events from its start through the given sequence
    /// number, and moves the chain's base past them, so that what remains still verifies.
    /// A segment never reaches into another (a segment that straddles a chain's boundary stays
    /// whole, so the chain's base stops before it: the rest goes at a later pruning).
    case pruneAuditEvents(through: [String: Int64])
    /// Stores the segment and deletes its events from the hot table, which must hold every one
    /// of them (else `StoreError.conflict`: another process sealed or pruned them first).
    case insertAuditSegment(AuditSegment)
    /// `StoreError.alreadyExists` when the name is taken in the store's account and region.
    case insertCustomKeyStore(CustomKeyStore)
    /// Replaces the store's row. The given `revision` must be the stored one (else
    /// `StoreError.conflict`); `StoreError.alreadyExists` when a new name is taken.
    case updateCustomKeyStore(CustomKeyStore)
    /// `revision` must be the stored one (else `StoreError.conflict`).
    case deleteCustomKeyStore(id: String, revision: Int64)
    /// `StoreError.alreadyExists` when that module's token is registered already.
    case insertHSMCluster(HSMCluster)
    /// Takes the lease of a job that one process at a time may run (audit retention), for
    /// `holder` until `until`: `StoreError.conflict` while another holder's lease has not
    /// ended by `now`. The holder may renew its own.
    case takeJobLease(job: String, holder: String, until: Date, now: Date)
}

extension Mutation {
    /// Whether the mutation appends an audit event.
    public var isAuditEvent: Bool {
        if case .appendAuditEvent = self { true } else { false }
    }
}

/// A place in the order of a lookup's answer: a time, then a chain, then a sequence number
/// (`AuditQuery.precedes`).
public struct AuditCursor: Sendable, Equatable {
    public var millis: Int64
    public var chain: String
    public var sequence: Int64

    public init(millis: Int64, chain: String, sequence: Int64) {
        self.millis = millis
        self.chain = chain
        self.sequence = sequence
    }

    /// The place of an event.
    public init(_ event: StoredAuditEvent) {
        self.init(millis: event.eventTime.millis, chain: event.chain, sequence: event.sequence)
    }

    /// Before every event of that millisecond (no chain is named "").
    public static func before(millis: Int64) -> AuditCursor { AuditCursor(millis: millis, chain: "", sequence: 0) }
}

/// A lookup's answer: the events, and where to go on when a segment budget ended the search
/// before `limit` events were found.
public struct AuditPage: Sendable {
    public var events: [StoredAuditEvent]
    /// Set only when events may remain past it: the next query's `after`.
    public var resume: AuditCursor?

    public init(events: [StoredAuditEvent], resume: AuditCursor? = nil) {
        self.events = events
        self.resume = resume
    }
}

/// `swiftkms audit lookup`'s and LookupEvents' filters. Nil matches all.
public struct AuditQuery: Sendable {
    public var startTime: Date?
    /// Exclusive.
    public var endTime: Date?
    public var eventName: String?
    public var userName: String?
    public var keyID: String?
    /// The event's `awsRegion` (the keys of a multi-Region key share their ID).
    public var region: String?
    public var accessKeyID: String?
    public var readOnly: Bool?
    public var errorsOnly = false
    /// Only requests that succeeded (no `errorCode`).
    public var succeededOnly = false
    /// Any of these event names.
    public var eventNames: [String]?
    /// Oldest first instead of newest first.
    public var oldestFirst = false
    public var limit = 50
    /// The event's `recipientAccountId`: whose trail it is.
    public var account: String?
    /// Only the events the query's order puts after this place (the last event of the
    /// previous page, or where a scan stopped).
    public var after: AuditCursor?
    /// Only events whose sealed record holds these bytes (a prefilter: whoever asks checks the
    /// field itself). Nothing indexes it: a store reads every candidate's record.
    public var recordContains: [UInt8]?
    /// How many segments the query may inflate, at most: past them, the answer ends at what is
    /// final so far and says where to go on (`AuditPage.resume`). Nil: as many as it takes.
    public var segmentBudget: Int?

    public init(
        startTime: Date? = nil, endTime: Date? = nil, eventName: String? = nil, userName: String? = nil, keyID: String? = nil,
        region: String? = nil, accessKeyID: String? = nil, readOnly: Bool? = nil, errorsOnly: Bool = false, succeededOnly: Bool = false,
        eventNames: [String]? = nil, oldestFirst: Bool = false, limit: Int = 50
    ) {
        self.succeededOnly = succeededOnly
        self.eventNames = eventNames
        self.oldestFirst = oldestFirst
        self.startTime = startTime
        self.endTime = endTime
        self.eventName = eventName
        self.userName = userName
        self.keyID = keyID
        self.region = region
        self.accessKeyID = accessKeyID
        self.readOnly = readOnly
        self.errorsOnly = errorsOnly
        self.limit = limit
    }
}

/// How many keys have one state and one key spec (`Store.keyCensus`).
public struct KeyCensusEntry: Sendable, Equatable {
    public struct Group: Sendable, Hashable {
        /// `KeyState`'s and `KeySpec`'s raw values, as AWS spells them.
        public var state: String
        public var spec: String
        public init(state: String, spec: String) {
            self.state = state
            self.spec = spec
        }
    }
    public var group: Group
    public var count: Int
    public init(state: String, spec: String, count: Int) {
        group = Group(state: state, spec: spec)
        self.count = count
    }
}

public enum StoreError: Error, Sendable, Equatable {
    /// A precondition of a mutation did not hold (a revision changed underneath).
    case conflict
    case alreadyExists
    case notFound
    /// The database failed; the detail is logged by the store, not carried here.
    case unavailable
}

/// Durable storage for everything SwiftKMS keeps. The one implementation today is the
/// embedded `SQLiteStore`; every implementation must pass `StoreConformance` (in the
/// KMSStoreTesting target), and `CachingStore` wraps any of them.
///
/// Writes go through `commit`, which applies all of its mutations atomically and returns
/// only once they are durable (the caller may then acknowledge them). Reads see committed
/// data only.
public protocol Store: Sendable {
    func commit(_ mutations: [Mutation]) async throws(StoreError)

    /// A number that changes with every commit, by this process or any other, that contains
    /// a mutation with `Mutation.staleScopes`. `CachingStore` reads it before
    /// each cached read, so it must be cheap: no thread hop, one indexed row.
    func changeGeneration() throws(StoreError) -> Int64

    /// What the commits that moved the generation from `generation` to `current` may have
    /// made stale; nil when that is not known whole (a generation without a record of its
    /// scopes, one too old to be kept, a change notification lost), and a cache must drop all.
    /// Synchronous and cheap, as `changeGeneration`.
    func changes(after generation: Int64, through current: Int64) throws(StoreError) -> [CacheScope]?

    /// The key of that ID in that region. (Key IDs are unique, except that the primary and
    /// replicas of a multi-Region key share theirs, one key per region.)
    func key(id: String, region: String) async throws(StoreError) -> KMSKey?
    /// Every key of that ID: a multi-Region key's primary and replicas, ordered by region.
    func relatedKeys(id: String) async throws(StoreError) -> [KMSKey]
    /// Keys of an account in a region, ordered by key ID, starting after `afterID`.
    func keys(account: String, region: String, afterID: String?, limit: Int) async throws(StoreError) -> [KMSKey]
    /// How many keys an account has in a region (any state).
    func keyCount(account: String, region: String) async throws(StoreError) -> Int
    /// How many keys there are of each state and key spec, over every account and Region
    /// (the metrics' `swiftkms_keys`). Pairs without keys are left out.
    func keyCensus() async throws(StoreError) -> [KeyCensusEntry]
    /// Keys in `PendingDeletion` whose deletion date is at or before `date`.
    func keysDueForDeletion(at date: Date) async throws(StoreError) -> [KMSKey]

    func keyMaterial(keyID: String, region: String, version: UInt32) async throws(StoreError) -> KeyMaterialRecord?
    /// Every version of a key's material, oldest first.
    func keyMaterials(keyID: String, region: String) async throws(StoreError) -> [KeyMaterialRecord]
    /// `Enabled` keys with automatic rotation whose next rotation is at or before `date`
    /// (single-Region and primary keys: a replica rotates with its primary).
    func keysDueForRotation(at date: Date) async throws(StoreError) -> [KMSKey]
    /// Versions of imported material, not yet deleted, whose `ValidTo` is at or before `date`.
    func expiredKeyMaterials(by date: Date) async throws(StoreError) -> [KeyMaterialRecord]
    func importParameters(id: String) async throws(StoreError) -> ImportParameters?

    func alias(account: String, region: String, name: String) async throws(StoreError) -> Alias?
    /// Aliases of an account in a region (only those of `targetKeyID` when given),
    /// ordered by name, starting after `afterName`.
    func aliases(account: String, region: String, targetKeyID: String?, afterName: String?, limit: Int) async throws(StoreError) -> [Alias]

    /// Tags of a key, ordered by tag key.
    func tags(keyID: String, region: String) async throws(StoreError) -> [Tag]

    func principals(account: String) async throws(StoreError) -> [Principal]
    func accessKey(id: String) async throws(StoreError) -> AccessKey?
    func accessKeys(of principal: Principal) async throws(StoreError) -> [AccessKey]
    /// The identifier of this incarnation of the principal (random, made when it was
    /// inserted): a principal deleted and created again under the same name has another one.
    /// Nil when the principal does not exist.
    func principalIncarnation(of principal: Principal) async throws(StoreError) -> String?
    /// Identity policies of a principal, ordered by name.
    func identityPolicies(of principal: Principal) async throws(StoreError) -> [IdentityPolicy]
    /// Tags of a principal, ordered by tag key.
    func principalTags(of principal: Principal) async throws(StoreError) -> [Tag]

    func grant(id: String) async throws(StoreError) -> Grant?
    /// Grants of a key, ordered by grant ID.
    func grants(keyID: String, region: String) async throws(StoreError) -> [Grant]
    /// Grants of a key to any of `grantees`, ordered by grant ID.
    func grants(keyID: String, region: String, grantees: [String]) async throws(StoreError) -> [Grant]
    /// Grants in any key whose retiring principal is `retiringPrincipal`, ordered by grant ID,
    /// starting after `afterID`.
    func grants(retiringPrincipal: String, afterID: String?, limit: Int) async throws(StoreError) -> [Grant]
    /// Grants in any key whose grantee or retiring principal is exactly `principal`, ordered by ID.
    func grants(naming principal: String) async throws(StoreError) -> [Grant]
    /// Keys of any account and region whose policy text contains `text`, ordered by ID.
    func keys(withPolicyMentioning text: String) async throws(StoreError) -> [KMSKey]

    /// Every audit chain, ordered by name.
    func auditChains() async throws(StoreError) -> [AuditChainState]
    /// Events of a chain in sequence order, starting after `afterSequence`, from its segments
    /// and its hot rows alike.
    func auditEvents(chain: String, afterSequence: Int64, limit: Int) async throws(StoreError) -> [StoredAuditEvent]
    /// The oldest events of a chain not yet in a segment, oldest first.
    func hotAuditEvents(chain: String, limit: Int) async throws(StoreError) -> [AuditSegmentEntry]
    /// Events matching `query`, in its order, from segments and hot rows alike.
    func auditEvents(matching query: AuditQuery) async throws(StoreError) -> AuditPage
    /// Checkpoints, oldest first.
    func auditCheckpoints() async throws(StoreError) -> [SignedAuditCheckpoint]
    /// The newest checkpoint (what the next one links to), without reading the others.
    func lastAuditCheckpoint() async throws(StoreError) -> SignedAuditCheckpoint?
    func auditSigningKey() async throws(StoreError) -> (wrapped: [UInt8], publicKey: [UInt8])?

    func customKeyStore(id: String) async throws(StoreError) -> CustomKeyStore?
    /// The account's custom key stores in the region, oldest first.
    func customKeyStores(account: String, region: String) async throws(StoreError) -> [CustomKeyStore]
    /// How many keys (of any state) a custom key store holds.
    func keyCount(customKeyStoreID: String) async throws(StoreError) -> Int
    func hsmCluster(id: String) async throws(StoreError) -> HSMCluster?
    func hsmClusters() async throws(StoreError) -> [HSMCluster]
}

extension Store {
    /// Whether the principal exists.
    public func hasPrincipal(_ principal: Principal) async throws(StoreError) -> Bool {
        try await principalIncarnation(of: principal) != nil
    }
}
