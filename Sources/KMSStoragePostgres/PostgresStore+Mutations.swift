import Foundation
import KMSCore
import KMSStorage
import Logging
import PostgresNIO

extension String {
    /// Free text a user gave (a description, a tag) is stored as its UTF-8 bytes: PostgreSQL's
    /// TEXT cannot hold the NUL character, which AWS accepts there.
    var bytes: Data { Data(utf8) }
}

/// How each `Mutation` is written, inside the transaction of its commit. Values are bound
/// through postgres-nio's query interpolation, never pasted into the SQL text.
extension PostgresStore {
    static func apply(_ mutation: Mutation, _ heads: inout AuditChainHeads, _ db: PostgresConnection, _ logger: Logger) async throws {
        func run(_ query: PostgresQuery) async throws { try await db.execute(query, logger) }
        func touched(_ query: PostgresQuery) async throws -> Int { try await db.count(query, logger) }
        if let rows = try await insertedRows(mutation, &heads, db, logger) {
            for row in rows { try await run(try InsertionStatement.query(row)) }
            return
        }
        switch mutation {
        case .insertKey, .insertKeyMaterial, .insertImportParameters, .insertAlias, .putTags, .insertPrincipal, .insertAccessKey,
            .putIdentityPolicy, .putPrincipalTags, .insertGrant, .appendAuditEvent:
            return  // written above
        case .updateKey(let k):
            let count = try await touched(
                """
                UPDATE kms_key SET description = \(k.description.bytes), usage = \(k.usage.rawValue), spec = \(k.spec.rawValue),
                    origin = \(k.origin.rawValue), state = \(k.state.rawValue), deletion_ms = \(k.deletionDate?.millis),
                    pending_window_days = \(k.pendingWindowInDays), policy = \(k.policy),
                    current_material_version = \(Int64(k.currentMaterialVersion)), rotation_period_days = \(k.automaticRotation?.periodInDays),
                    next_rotation_ms = \(k.automaticRotation?.nextDate.millis), material_valid_to_ms = \(k.materialValidTo?.millis),
                    primary_region = \(k.primaryRegion), revision = revision + 1
                WHERE id = \(k.id) AND region = \(k.region) AND revision = \(k.revision) RETURNING 1
                """)
            guard count == 1 else { throw StoreError.conflict }
        case .deleteKey(let id, let region, let revision):
            try await run("DELETE FROM alias WHERE target_key_id = \(id) AND region = \(region)")
            try await run("DELETE FROM key_tag WHERE key_id = \(id) AND region = \(region)")
            try await run("DELETE FROM key_grant WHERE key_id = \(id) AND region = \(region)")
            try await run("DELETE FROM key_material WHERE key_id = \(id) AND region = \(region)")
            try await run("DELETE FROM import_parameters WHERE key_id = \(id) AND region = \(region)")
            let count = try await touched("DELETE FROM kms_key WHERE id = \(id) AND region = \(region) AND revision = \(revision) RETURNING 1")
            guard count == 1 else { throw StoreError.conflict }
        case .replaceKeyMaterial(let m):
            let count = try await touched(
                """
                UPDATE key_material SET wrapped = \(Data(m.wrapped)), description = \(m.description), rotation_type = \(m.rotationType?.rawValue),
                    creation_ms = \(m.creationDate.millis), valid_to_ms = \(m.validTo?.millis)
                WHERE key_id = \(m.keyID) AND region = \(m.region) AND version = \(Int64(m.version)) RETURNING 1
                """)
            guard count == 1 else { throw StoreError.notFound }
        case .deleteImportParameters(let date):
            try await run("DELETE FROM import_parameters WHERE valid_to_ms <= \(date.millis)")
        case .insertCustomKeyStore(let c):
            try await run(
                """
                INSERT INTO custom_key_store (id, account, region, name, type, creation_ms, connection_state, connection_error, cluster_id,
                    trust_anchor, sealed_password, revision, xks_uri_endpoint, xks_uri_path, xks_connectivity, xks_access_key_id)
                VALUES (\(c.id), \(c.account), \(c.region), \(c.name), \(c.type.rawValue), \(c.creationDate.millis), \(c.connectionState.rawValue),
                    \(c.connectionErrorCode?.rawValue), \(c.cloudHSMClusterID), \(c.trustAnchorCertificate), \(Data(c.sealedPassword)), \(c.revision),
                    \(c.xksProxy?.uriEndpoint), \(c.xksProxy?.uriPath), \(c.xksProxy?.connectivity), \(c.xksProxy?.accessKeyID))
                """)
        case .updateCustomKeyStore(let c):
            let count = try await touched(
                """
                UPDATE custom_key_store SET name = \(c.name), connection_state = \(c.connectionState.rawValue),
                    connection_error = \(c.connectionErrorCode?.rawValue), cluster_id = \(c.cloudHSMClusterID),
                    trust_anchor = \(c.trustAnchorCertificate), sealed_password = \(Data(c.sealedPassword)),
                    xks_uri_endpoint = \(c.xksProxy?.uriEndpoint), xks_uri_path = \(c.xksProxy?.uriPath),
                    xks_connectivity = \(c.xksProxy?.connectivity), xks_access_key_id = \(c.xksProxy?.accessKeyID), revision = revision + 1
                WHERE id = \(c.id) AND revision = \(c.revision) RETURNING 1
                """)
            guard count == 1 else { throw StoreError.conflict }
        case .deleteCustomKeyStore(let id, let revision):
            let count = try await touched("DELETE FROM custom_key_store WHERE id = \(id) AND revision = \(revision) RETURNING 1")
            guard count == 1 else { throw StoreError.conflict }
        case .insertHSMCluster(let h):
            try await run(
                """
                INSERT INTO hsm_cluster (id, module_path, token_label, trust_anchor, creation_ms)
                VALUES (\(h.id), \(h.modulePath), \(h.tokenLabel), \(h.trustAnchorCertificate), \(h.creationDate.millis))
                """)
        case .updateAlias(let a):
            let count = try await touched(
                """
                UPDATE alias SET target_key_id = \(a.targetKeyID), updated_ms = \(a.lastUpdatedDate.millis)
                WHERE account = \(a.account) AND region = \(a.region) AND name = \(a.name) RETURNING 1
                """)
            guard count == 1 else { throw StoreError.notFound }
        case .deleteAlias(let account, let region, let name):
            let count = try await touched("DELETE FROM alias WHERE account = \(account) AND region = \(region) AND name = \(name) RETURNING 1")
            guard count == 1 else { throw StoreError.notFound }
        case .removeTags(let keyID, let region, let tagKeys):
            for tagKey in tagKeys {
                try await run("DELETE FROM key_tag WHERE key_id = \(keyID) AND region = \(region) AND tag_key = \(tagKey.bytes)")
            }
        case .deleteAccessKey(let id):
            let count = try await touched("DELETE FROM access_key WHERE id = \(id) RETURNING 1")
            guard count == 1 else { throw StoreError.notFound }
        case .deletePrincipal(let p):
            try await run("DELETE FROM access_key WHERE account = \(p.account) AND name = \(p.path)")
            try await run("DELETE FROM identity_policy WHERE account = \(p.account) AND principal = \(p.path)")
            try await run("DELETE FROM principal_tag WHERE account = \(p.account) AND principal = \(p.path)")
            let count = try await touched("DELETE FROM principal WHERE account = \(p.account) AND name = \(p.path) RETURNING 1")
            guard count == 1 else { throw StoreError.notFound }
        case .deleteIdentityPolicy(let p, let name):
            let count = try await touched(
                """
                DELETE FROM identity_policy WHERE account = \(p.account) AND principal = \(p.path) AND name = \(name) RETURNING 1
                """)
            guard count == 1 else { throw StoreError.notFound }
        case .removePrincipalTags(let p, let tagKeys):
            for tagKey in tagKeys {
                try await run("DELETE FROM principal_tag WHERE account = \(p.account) AND principal = \(p.path) AND tag_key = \(tagKey.bytes)")
            }
        case .deleteGrant(let id, _, _):
            let count = try await touched("DELETE FROM key_grant WHERE id = \(id) RETURNING 1")
            guard count == 1 else { throw StoreError.notFound }
        case .insertAuditCheckpoint(let checkpoint, let date, let follows):
            // Serializes checkpoints: a second writer waits, then reads the first one's.
            try await run("SELECT pg_advisory_xact_lock(\(PostgresSchema.checkpointLock))")
            let last = try await db.query("SELECT signature FROM audit_checkpoint ORDER BY id DESC LIMIT 1", logger: logger).collect().first
            guard try last.map({ Array(try $0.decode(Data.self)) }) == follows else { throw StoreError.conflict }
            try await run(
                """
                INSERT INTO audit_checkpoint (creation_ms, statement, signature)
                VALUES (\(date.millis), \(Data(checkpoint.statement)), \(Data(checkpoint.signature)))
                """)
        case .takeJobLease(let job, let holder, let until, let now):
            let count = try await touched(
                """
                INSERT INTO job_lease (job, holder, until_ms) VALUES (\(job), \(holder), \(until.millis))
                ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
                WHERE job_lease.until_ms <= \(now.millis) OR job_lease.holder = excluded.holder
                RETURNING 1
                """)
            guard count == 1 else { throw StoreError.conflict }
        case .insertAuditSigningKey(let wrapped, let publicKey, let date):
            try await run(
                """
                INSERT INTO audit_signing_key (id, wrapped, public_key, creation_ms) VALUES (1, \(Data(wrapped)), \(Data(publicKey)), \(date.millis))
                """)
        case .pruneAuditEvents(let through):
            try await heads.write(db, logger)
            for state in try await auditChains(db, logger) {
                guard let lastPruned = through[state.chain], lastPruned > state.baseSequence else { continue }
                guard lastPruned <= state.headSequence else { throw StoreError.conflict }
                // A segment that straddles the boundary stays whole: the base stops before it.
                var boundary = lastPruned
                if let straddling = try await db.query(
                    """
                    SELECT first_seq FROM audit_segment WHERE chain = \(state.chain) AND first_seq <= \(lastPruned) AND last_seq > \(lastPruned)
                    """, logger: logger
                ).collect().first {
                    boundary = try straddling.decode(Int64.self) - 1
                    guard boundary > state.baseSequence else { continue }
                }
                let digest: [UInt8]
                if let row = try await db.query(
                    "SELECT last_digest FROM audit_segment WHERE chain = \(state.chain) AND last_seq = \(boundary)", logger: logger
                ).collect().first {
                    digest = Array(try row.decode(Data.self))
                } else if let row = try await db.query(
                    "SELECT record FROM audit_event WHERE chain = \(state.chain) AND seq = \(boundary)", logger: logger
                ).collect().first {
                    digest = AuditChain.digest(Array(try row.decode(Data.self)))
                } else {
                    throw StoreError.conflict
                }
                try await run("DELETE FROM audit_event WHERE chain = \(state.chain) AND seq <= \(boundary)")
                try await run("DELETE FROM audit_resource WHERE chain = \(state.chain) AND seq <= \(boundary)")
                try await run("DELETE FROM audit_segment WHERE chain = \(state.chain) AND first_seq <= \(boundary)")
                try await run("DELETE FROM audit_segment_key WHERE chain = \(state.chain) AND first_seq <= \(boundary)")
                try await run("DELETE FROM audit_segment_term WHERE chain = \(state.chain) AND first_seq <= \(boundary)")
                try await run("UPDATE audit_chain SET base_seq = \(boundary), base_digest = \(Data(digest)) WHERE name = \(state.chain)")
            }
        case .insertAuditSegment(let segment):
            let moved = try await touched(
                """
                DELETE FROM audit_event WHERE chain = \(segment.chain) AND seq BETWEEN \(segment.firstSequence) AND \(segment.lastSequence)
                RETURNING 1
                """)
            guard moved == segment.lastSequence - segment.firstSequence + 1 else { throw StoreError.conflict }
            try await run(
                """
                DELETE FROM audit_resource WHERE chain = \(segment.chain) AND seq BETWEEN \(segment.firstSequence) AND \(segment.lastSequence)
                """)
            try await run(
                """
                INSERT INTO audit_segment (chain, first_seq, last_seq, first_ms, last_ms, last_digest, events, terms_indexed)
                VALUES (\(segment.chain), \(segment.firstSequence), \(segment.lastSequence), \(segment.firstTime.millis),
                        \(segment.lastTime.millis), \(Data(segment.lastDigest)), \(Data(segment.compressed)), true)
                """)
            for keyID in segment.keyIDs {
                try await run(
                    "INSERT INTO audit_segment_key (key_id, chain, first_seq) VALUES (\(keyID), \(segment.chain), \(segment.firstSequence))")
            }
            for term in segment.terms {
                try await run(
                    "INSERT INTO audit_segment_term (term, chain, first_seq) VALUES (\(term), \(segment.chain), \(segment.firstSequence))")
            }
        }
    }

    static func auditChains(_ db: PostgresConnection, _ logger: Logger) async throws -> [AuditChainState] {
        try await db.query("SELECT name, base_seq, base_digest, head_seq, head_digest FROM audit_chain ORDER BY name", logger: logger)
            .collect().map(auditChainState)
    }

    static func auditChainState(_ row: PostgresRow) throws -> AuditChainState {
        let (name, baseSequence, baseDigest, headSequence, headDigest) = try row.decode((String, Int64, Data, Int64, Data).self)
        return AuditChainState(
            chain: name, baseSequence: baseSequence, baseDigest: Array(baseDigest), headSequence: headSequence,
            headDigest: Array(headDigest))
    }
}

/// Where the audit chains a transaction appends to stand: each head read once, from the
/// database (locked, `FOR UPDATE`: nodes appending to one chain wait for each other) or from
/// what the store knows it wrote last, advanced in memory by every event the transaction
/// appends, and written back once before the transaction commits.
struct AuditChainHeads {
    struct Head {
        var sequence: Int64
        var digest: [UInt8]
    }

    /// Each chain's head as this transaction has it.
    private(set) var current: [String: Head]
    /// Each chain's head sequence where this transaction found it.
    private var found: [String: Int64]
    private var movedChains: Set<String> = []

    /// - Parameter known: heads believed current, not read again: `InsertionStatement` writes
    ///   them back only if the database's are still there.
    init(known: [String: Head] = [:]) {
        current = known
        found = known.mapValues(\.sequence)
    }

    mutating func head(of chain: String, _ db: PostgresConnection, _ logger: Logger) async throws -> Head {
        if let head = current[chain] { return head }
        func locked() async throws -> Head? {
            let row = try await db.query("SELECT head_seq, head_digest FROM audit_chain WHERE name = \(chain) FOR UPDATE", logger: logger)
                .collect().first
            return try row.map { row in
                let (sequence, digest) = try row.decode((Int64, Data).self)
                return Head(sequence: sequence, digest: Array(digest))
            }
        }
        // A chain is created once: after that, one round trip.
        var head = try await locked()
        if head == nil {
            try await db.execute(
                """
                INSERT INTO audit_chain (name, base_seq, base_digest, head_seq, head_digest)
                VALUES (\(chain), 0, \(Data(AuditChain.genesisDigest)), 0, \(Data(AuditChain.genesisDigest)))
                ON CONFLICT (name) DO NOTHING
                """, logger)
            head = try await locked()
        }
        guard let head else { throw StoreError.unavailable }
        current[chain] = head
        found[chain] = head.sequence
        return head
    }

    mutating func advance(_ chain: String, to head: Head) {
        current[chain] = head
        movedChains.insert(chain)
    }

    /// The heads that moved since they were found or written: where each stands now, and the
    /// sequence it was found at.
    var moved: [(chain: String, head: Head, from: Int64)] {
        movedChains.compactMap { chain in
            guard let head = current[chain], let from = found[chain] else { return nil }
            return (chain, head, from)
        }
    }

    /// Writes the moved heads, which this transaction holds locked.
    mutating func write(_ db: PostgresConnection, _ logger: Logger) async throws {
        for (chain, head, _) in moved {
            try await db.execute(
                """
                UPDATE audit_chain SET head_seq = \(head.sequence), head_digest = \(Data(head.digest)) WHERE name = \(chain)
                """, logger)
            found[chain] = head.sequence
        }
        movedChains.removeAll()
    }
}
