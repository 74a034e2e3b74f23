import Foundation
import KMSStorage
import Logging

/// The audit trail as a whole, for those who keep and check it: the signing key and its
/// checkpoints, verification of the stored chains, lookups, and pruning.
public struct AuditLedger: Sendable {
    let store: ServiceStore
    /// Needed only to sign (checkpoints, exports); verification and lookups work without it.
    let rootKey: RootKey?
    let clock: any KMSClock

    public init(store: any Store, rootKey: RootKey?, clock: any KMSClock = SystemClock()) {
        self.store = ServiceStore(store, auditChain: "")
        self.rootKey = rootKey
        self.clock = clock
    }

    // MARK: Signing

    /// The trail's signing key, created (and stored wrapped by the root key) on first use.
    public func signingKey() async throws(KMSError) -> AuditSigningKey {
        guard let rootKey else { throw KMSError(.internalFailure, "Signing the audit trail needs the root key.") }
        if let stored = try await store.auditSigningKey() {
            return try rootKey.openAuditSigningKey(stored.wrapped)
        }
        let key = AuditSigningKey()
        let wrapped = try rootKey.sealAuditSigningKey(key)
        do {
            try await store.commit(
                [.insertAuditSigningKey(wrapped: wrapped, publicKey: key.publicKeyDER, creationDate: clock.now())],
                ifExists: KMSError(.alreadyExists, "The audit trail has a signing key."))
            return key
        } catch  where error.code == .alreadyExists {
            return try await signingKey()  // another process created it first
        }
    }

    /// The public key verifiers need (no root key required).
    public func verifyingKey() async throws(KMSError) -> AuditVerifyingKey? {
        guard let stored = try await store.auditSigningKey() else { return nil }
        return AuditVerifyingKey(der: stored.publicKey)
    }

    /// Signs where every chain stands now, unless nothing changed since the last checkpoint.
    ///
    /// - Returns: the new checkpoint, or nil when none was needed.
    @discardableResult
    public func checkpoint() async throws(KMSError) -> AuditCheckpoint? {
        let key = try await signingKey()
        let chains = try await store.auditChains()
        let previous = try await store.lastAuditCheckpoint()
        if let previous, let statement = AuditCheckpoint(statement: previous.statement), statement.chains == chains { return nil }
        if previous == nil, chains.isEmpty { return nil }
        let verifying = AuditVerifyingKey(der: key.publicKeyDER)
        let checkpoint = AuditCheckpoint(
            time: clock.now(), chains: chains, publicKeyFingerprint: verifying?.fingerprint ?? "",
            previousSignature: previous?.signature)
        let signed = SignedAuditCheckpoint(statement: checkpoint.statement, signature: try key.sign(checkpoint.statement))
        // False when another process (a node over the same database) signed one meanwhile.
        guard try await store.commitUnlessChanged([.insertAuditCheckpoint(signed, creationDate: clock.now(), follows: previous?.signature)])
        else { return nil }
        return checkpoint
    }

    /// Takes the lease of `job` for `holder` for `duration`; false while another holder's runs.
    /// Nodes over one database run a job such as retention this way, one at a time.
    public func takeLease(of job: String, holder: String, for duration: Duration) async throws(KMSError) -> Bool {
        let now = clock.now()
        return try await store.commitUnlessChanged([
            .takeJobLease(job: job, holder: holder, until: now + Double(duration.components.seconds), now: now)
        ])
    }

    // MARK: Verification

    public struct Verification: Sendable {
        public var events = 0
        public var chains = 0
        public var checkpoints = 0
        /// The first thing found wrong; nil when the trail verifies.
        public var problem: AuditProblem?
    }

    /// Checks every chain event by event, then the checkpoints against the chains.
    /// Stops at the first broken link. Needs no root key: only the stored public key,
    /// or `key` when given (a copy kept elsewhere, so that a replaced key is caught too).
    public func verify(key given: AuditVerifyingKey? = nil) async throws(KMSError) -> Verification {
        var result = Verification()
        // Checkpoints before chains: chains only grow, so no checkpoint read here attests more
        // than the chains read after it hold.
        let signed = try await store.auditCheckpoints()
        var checkpoints: [AuditCheckpoint] = []
        if !signed.isEmpty {
            var key = given
            if key == nil { key = try await verifyingKey() }
            guard let key else {
                result.problem = AuditProblem("there are checkpoints but no audit signing key")
                return result
            }
            switch verifyAuditCheckpoints(signed, key: key) {
            case .success(let verified): checkpoints = verified
            case .failure(let problem):
                result.problem = problem
                return result
            }
        }
        result.checkpoints = checkpoints.count
        var wanted: [String: Set<Int64>] = [:]
        for checkpoint in checkpoints {
            for chain in checkpoint.chains { wanted[chain.chain, default: []].insert(chain.headSequence) }
        }
        let chains = try await store.auditChains()
        result.chains = chains.count
        var digests: [String: [Int64: [UInt8]]] = [:]
        for state in chains {
            var verifier = AuditChainVerifier(
                chain: state.chain, baseSequence: state.baseSequence, baseDigest: state.baseDigest,
                digestsWanted: wanted[state.chain] ?? [])
            // Up to the head read above: a running server appends meanwhile.
            while verifier.lastSequence < state.headSequence {
                let page = try await store.auditEvents(
                    chain: state.chain, afterSequence: verifier.lastSequence,
                    limit: Int(min(1000, state.headSequence - verifier.lastSequence)))
                if page.isEmpty { break }
                for event in page {
                    if let problem = verifier.consume(event.bytes, storedSequence: event.sequence) {
                        result.problem = problem
                        return result
                    }
                    result.events += 1
                }
            }
            if verifier.lastSequence != state.headSequence || verifier.lastDigest != state.headDigest {
                result.problem = AuditProblem(
                    "chain \(state.chain): it ends at sequence \(verifier.lastSequence), but its head is recorded at \(state.headSequence) (events removed from its end, or its last event altered)"
                )
                return result
            }
            digests[state.chain] = verifier.digests
        }
        result.problem = verifyAuditChains(chains, against: checkpoints, digests: digests)
        return result
    }

    // MARK: Reading

    /// Events matching `query`, newest first, as CloudTrail records.
    public func lookup(_ query: AuditQuery) async throws(KMSError) -> [JSONValue] {
        try await store.auditEvents(matching: query).events.compactMap { JSONValue.parse(bytes: $0.bytes) }
    }

    /// Every stored event of every chain, in sequence order, a page at a time.
    public func events(chain: String, afterSequence: Int64, limit: Int) async throws(KMSError) -> [StoredAuditEvent] {
        try await store.auditEvents(chain: chain, afterSequence: afterSequence, limit: limit)
    }

    public func chains() async throws(KMSError) -> [AuditChainState] {
        try await store.auditChains()
    }

    // MARK: Segments

    /// Seals the oldest events of `chain` into segments of `size` events, as long as it has
    /// more than `size` others left in the hot table (lookups of recent events stay cheap).
    /// Compression happens here, outside the store's writer; the writer only moves rows.
    ///
    /// - Returns: how many events were sealed (fewer when another process sealed or pruned
    ///   the same events first: each event is sealed once).
    @discardableResult
    public func sealSegments(chain: String, size: Int) async throws(KMSError) -> Int {
        var sealed = 0
        while true {
            guard let head = try await store.auditChains().first(where: { $0.chain == chain })?.headSequence else { return sealed }
            let hot = try await store.hotAuditEvents(chain: chain, limit: size)
            guard hot.count == size, let last = hot.last, head - last.sequence >= size else { return sealed }
            let segment: AuditSegment
            do {
                segment = try AuditSegment(chain: chain, entries: hot)
            } catch {
                throw KMSError.internalFailure()
            }
            guard try await store.commitUnlessRaced([.insertAuditSegment(segment)]) else { return sealed }
            sealed += size
        }
    }

    // MARK: Retention

    /// Per chain, the last sequence number of the events recorded before `date` that start
    /// the chain (pruning keeps each chain a contiguous run); chains with none are left out.
    public func pruneBoundary(before date: Date) async throws(KMSError) -> [String: Int64] {
        var boundary: [String: Int64] = [:]
        for state in try await chains() {
            var last = state.baseSequence
            scan: while true {
                let page = try await events(chain: state.chain, afterSequence: last, limit: 1000)
                if page.isEmpty { break }
                for event in page {
                    guard event.eventTime < date else { break scan }
                    last = event.sequence
                }
            }
            if last > state.baseSequence { boundary[state.chain] = last }
        }
        return boundary
    }

    /// Deletes the events up to `boundary` (which the caller has exported), then signs a
    /// checkpoint that attests each chain's new start.
    public func prune(through boundary: [String: Int64]) async throws(KMSError) {
        guard !boundary.isEmpty else { return }
        try await store.commit([.pruneAuditEvents(through: boundary)])
        try await checkpoint()
    }
}
