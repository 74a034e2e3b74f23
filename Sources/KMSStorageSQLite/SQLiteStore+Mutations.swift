import Foundation
import GRDB
import KMSCore
import KMSStorage

extension String {
    /// Free text a user gave (a description, a tag) is stored as its UTF-8 bytes, a BLOB: a
    /// String is bound as a C string, which would end it at a NUL character (AWS accepts one).
    var bytes: Data { Data(utf8) }
}

/// How each `Mutation` is written, inside the transaction of its commit. Values are bound
/// through GRDB's SQL interpolation, never pasted into the SQL text.
extension SQLiteStore {
    /// The columns of `kms_key` a key's update replaces (all but its identity, creation,
    /// manager and revision), in the order of `keyValues`.
    private static let keyColumns: SQL = """
        description, usage, spec, origin, state, deletion_ms, pending_window_days, policy, current_material_version,
        rotation_period_days, next_rotation_ms, material_valid_to_ms, primary_region
        """

    private static func keyValues(_ key: KMSKey) -> SQL {
        """
        \(key.description.bytes), \(key.usage.rawValue), \(key.spec.rawValue), \(key.origin.rawValue), \(key.state.rawValue),
        \(key.deletionDate?.millis), \(key.pendingWindowInDays), \(key.policy), \(Int64(key.currentMaterialVersion)),
        \(key.automaticRotation?.periodInDays), \(key.automaticRotation?.nextDate.millis), \(key.materialValidTo?.millis),
        \(key.primaryRegion)
        """
    }

    /// The columns of `custom_key_store` an update replaces, in the order of `customKeyStoreValues`.
    private static let customKeyStoreColumns: SQL = """
        name, connection_state, connection_error, cluster_id, trust_anchor, sealed_password, xks_uri_endpoint, xks_uri_path,
        xks_connectivity, xks_access_key_id
        """

    private static func customKeyStoreValues(_ c: CustomKeyStore) -> SQL {
        """
        \(c.name), \(c.connectionState.rawValue), \(c.connectionErrorCode?.rawValue), \(c.cloudHSMClusterID), \(c.trustAnchorCertificate),
        \(Data(c.sealedPassword)), \(c.xksProxy?.uriEndpoint), \(c.xksProxy?.uriPath), \(c.xksProxy?.connectivity), \(c.xksProxy?.accessKeyID)
        """
    }

    static func apply(_ mutation: Mutation, _ heads: inout AuditChainHeads, _ db: Database) throws {
        switch mutation {
        case .insertKey(let key):
            try db.cachedStatement(
                literal: """
                    INSERT INTO kms_key (id, account, region, creation_ms, key_manager, custom_key_store_id, xks_key_id, revision, \(keyColumns))
                    VALUES (\(key.id), \(key.account), \(key.region), \(key.creationDate.millis), \(key.keyManager.rawValue),
                            \(key.customKeyStoreID), \(key.xksKeyID), \(key.revision), \(keyValues(key)))
                    """
            ).execute()
        case .updateKey(let key):
            try db.cachedStatement(
                literal: """
                    UPDATE kms_key SET (\(keyColumns)) = (\(keyValues(key))), revision = revision + 1
                    WHERE id = \(key.id) AND region = \(key.region) AND revision = \(key.revision)
                    """
            ).execute()
            guard db.changesCount == 1 else { throw StoreError.conflict }
        case .deleteKey(let id, let region, let revision):
            try db.cachedStatement(sql: "DELETE FROM alias WHERE target_key_id = ? AND region = ?").execute(arguments: [id, region])
            for table in ["key_tag", "key_grant", "key_material", "import_parameters"] {
                try db.cachedStatement(sql: "DELETE FROM \(table) WHERE key_id = ? AND region = ?").execute(arguments: [id, region])
            }
            try db.cachedStatement(sql: "DELETE FROM kms_key WHERE id = ? AND region = ? AND revision = ?").execute(arguments: [id, region, revision])
            guard db.changesCount == 1 else { throw StoreError.conflict }
        case .insertKeyMaterial(let m):
            try db.cachedStatement(
                literal: """
                    INSERT INTO key_material (key_id, region, version, wrapped, creation_ms, material_id, rotation_type, description, valid_to_ms)
                    VALUES (\(m.keyID), \(m.region), \(Int64(m.version)), \(Data(m.wrapped)), \(m.creationDate.millis), \(m.materialID),
                            \(m.rotationType?.rawValue), \(m.description), \(m.validTo?.millis))
                    """
            ).execute()
        case .replaceKeyMaterial(let m):
            try db.cachedStatement(
                literal: """
                    UPDATE key_material SET wrapped = \(Data(m.wrapped)), description = \(m.description), rotation_type = \(m.rotationType?.rawValue),
                        creation_ms = \(m.creationDate.millis), valid_to_ms = \(m.validTo?.millis)
                    WHERE key_id = \(m.keyID) AND region = \(m.region) AND version = \(Int64(m.version))
                    """
            ).execute()
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .insertImportParameters(let p):
            try db.cachedStatement(
                literal: """
                    INSERT INTO import_parameters (id, key_id, region, algorithm, wrapped_private_key, valid_to_ms)
                    VALUES (\(p.id), \(p.keyID), \(p.region), \(p.algorithm.rawValue), \(Data(p.wrappedPrivateKey)), \(p.validTo.millis))
                    """
            ).execute()
        case .deleteImportParameters(let date):
            try db.cachedStatement(sql: "DELETE FROM import_parameters WHERE valid_to_ms <= ?").execute(arguments: [date.millis])
        case .insertAlias(let a):
            try db.cachedStatement(
                sql: """
                    INSERT INTO alias (account, region, name, target_key_id, creation_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [a.account, a.region, a.name, a.targetKeyID, a.creationDate.millis, a.lastUpdatedDate.millis])
        case .updateAlias(let a):
            try db.cachedStatement(sql: "UPDATE alias SET target_key_id = ?, updated_ms = ? WHERE account = ? AND region = ? AND name = ?").execute(
                arguments: [a.targetKeyID, a.lastUpdatedDate.millis, a.account, a.region, a.name])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .deleteAlias(let account, let region, let name):
            try db.cachedStatement(sql: "DELETE FROM alias WHERE account = ? AND region = ? AND name = ?").execute(arguments: [account, region, name])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .putTags(let keyID, let region, let tags):
            for tag in tags {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO key_tag (key_id, region, tag_key, tag_value) VALUES (?, ?, ?, ?)
                        ON CONFLICT (key_id, region, tag_key) DO UPDATE SET tag_value = excluded.tag_value
                        """
                ).execute(arguments: [keyID, region, tag.key.bytes, tag.value.bytes])
            }
        case .removeTags(let keyID, let region, let tagKeys):
            for tagKey in tagKeys {
                try db.cachedStatement(sql: "DELETE FROM key_tag WHERE key_id = ? AND region = ? AND tag_key = ?").execute(arguments: [
                    keyID, region, tagKey.bytes,
                ])
            }
        case .insertPrincipal(let p, let date):
            try db.cachedStatement(
                sql: "INSERT INTO principal (account, name, creation_ms, incarnation) VALUES (?, ?, ?, lower(hex(randomblob(16))))"
            )
            .execute(arguments: [p.account, p.path, date.millis])
        case .insertAccessKey(let k, let date):
            try db.cachedStatement(sql: "INSERT INTO access_key (id, account, name, sealed_secret, creation_ms) VALUES (?, ?, ?, ?, ?)").execute(
                arguments: [k.id, k.principal.account, k.principal.path, Data(k.sealedSecret), date.millis])
        case .deleteAccessKey(let id):
            try db.cachedStatement(sql: "DELETE FROM access_key WHERE id = ?").execute(arguments: [id])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .deletePrincipal(let p):
            for table in ["access_key", "identity_policy", "principal_tag"] {
                let column = table == "access_key" ? "name" : "principal"
                try db.cachedStatement(sql: "DELETE FROM \(table) WHERE account = ? AND \(column) = ?").execute(arguments: [p.account, p.path])
            }
            try db.cachedStatement(sql: "DELETE FROM principal WHERE account = ? AND name = ?").execute(arguments: [p.account, p.path])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .putIdentityPolicy(let p, let policy):
            try db.cachedStatement(
                sql: """
                    INSERT INTO identity_policy (account, principal, name, document) VALUES (?, ?, ?, ?)
                    ON CONFLICT (account, principal, name) DO UPDATE SET document = excluded.document
                    """
            ).execute(arguments: [p.account, p.path, policy.name, policy.document])
        case .deleteIdentityPolicy(let p, let name):
            try db.cachedStatement(sql: "DELETE FROM identity_policy WHERE account = ? AND principal = ? AND name = ?").execute(arguments: [
                p.account, p.path, name,
            ])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .putPrincipalTags(let p, let tags):
            for tag in tags {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO principal_tag (account, principal, tag_key, tag_value) VALUES (?, ?, ?, ?)
                        ON CONFLICT (account, principal, tag_key) DO UPDATE SET tag_value = excluded.tag_value
                        """
                ).execute(arguments: [p.account, p.path, tag.key.bytes, tag.value.bytes])
            }
        case .removePrincipalTags(let p, let tagKeys):
            for tagKey in tagKeys {
                try db.cachedStatement(sql: "DELETE FROM principal_tag WHERE account = ? AND principal = ? AND tag_key = ?").execute(arguments: [
                    p.account, p.path, tagKey.bytes,
                ])
            }
        case .insertGrant(let g):
            let operations = g.operations.map(\.rawValue).joined(separator: ",")
            let constraints = try g.constraints.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            try db.cachedStatement(
                literal: """
                    INSERT INTO key_grant (id, key_id, region, key_arn, name, grantee, retiring, operations, constraints, issuing_account, creation_ms,
                                           grantee_is_service, retiring_is_service)
                    VALUES (\(g.id), \(g.keyID), \(g.keyRegion), \(g.keyARN), \(g.name), \(g.granteePrincipal), \(g.retiringPrincipal),
                            \(operations), \(constraints), \(g.issuingAccount), \(g.creationDate.millis),
                            \(g.granteeIsServicePrincipal), \(g.retiringIsServicePrincipal))
                    """
            ).execute()
        case .deleteGrant(let id, _, _):
            try db.cachedStatement(sql: "DELETE FROM key_grant WHERE id = ?").execute(arguments: [id])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .appendAuditEvent(let event):
            try appendAuditEvent(event, &heads, db)
        case .insertAuditSegment(let segment):
            try insertAuditSegment(segment, db)
        case .insertAuditCheckpoint(let checkpoint, let date, let follows):
            let last = try Data.fetchOne(db.cachedStatement(sql: "SELECT signature FROM audit_checkpoint ORDER BY id DESC LIMIT 1"))
            guard last.map(Array.init) == follows else { throw StoreError.conflict }
            try db.cachedStatement(sql: "INSERT INTO audit_checkpoint (creation_ms, statement, signature) VALUES (?, ?, ?)").execute(arguments: [
                date.millis, Data(checkpoint.statement), Data(checkpoint.signature),
            ])
        case .takeJobLease(let job, let holder, let until, let now):
            try db.cachedStatement(
                sql: """
                    INSERT INTO job_lease (job, holder, until_ms) VALUES (?, ?, ?)
                    ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
                    WHERE job_lease.until_ms <= ? OR job_lease.holder = excluded.holder
                    """
            ).execute(arguments: [job, holder, until.millis, now.millis])
            guard db.changesCount == 1 else { throw StoreError.conflict }
        case .insertCustomKeyStore(let c):
            try db.cachedStatement(
                literal: """
                    INSERT INTO custom_key_store (id, account, region, creation_ms, type, revision, \(customKeyStoreColumns))
                    VALUES (\(c.id), \(c.account), \(c.region), \(c.creationDate.millis), \(c.type.rawValue), \(c.revision),
                            \(customKeyStoreValues(c)))
                    """
            ).execute()
        case .updateCustomKeyStore(let c):
            try db.cachedStatement(
                literal: """
                    UPDATE custom_key_store SET (\(customKeyStoreColumns)) = (\(customKeyStoreValues(c))), revision = revision + 1
                    WHERE id = \(c.id) AND revision = \(c.revision)
                    """
            ).execute()
            guard db.changesCount == 1 else { throw StoreError.conflict }
        case .deleteCustomKeyStore(let id, let revision):
            try db.cachedStatement(sql: "DELETE FROM custom_key_store WHERE id = ? AND revision = ?").execute(arguments: [id, revision])
            guard db.changesCount == 1 else { throw StoreError.conflict }
        case .insertHSMCluster(let h):
            try db.cachedStatement(
                sql: "INSERT INTO hsm_cluster (id, module_path, token_label, trust_anchor, creation_ms) VALUES (?, ?, ?, ?, ?)"
            ).execute(arguments: [h.id, h.modulePath, h.tokenLabel, h.trustAnchorCertificate, h.creationDate.millis])
        case .insertAuditSigningKey(let wrapped, let publicKey, let date):
            try db.cachedStatement(sql: "INSERT INTO audit_signing_key (id, wrapped, public_key, creation_ms) VALUES (1, ?, ?, ?)").execute(
                arguments: [Data(wrapped), Data(publicKey), date.millis])
        case .pruneAuditEvents(let through):
            try heads.write(db)
            for state in try auditChains(db) {
                guard let lastPruned = through[state.chain], lastPruned > state.baseSequence else { continue }
                guard lastPruned <= state.headSequence else { throw StoreError.conflict }
                var boundary = lastPruned
                if let straddling = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT first_seq FROM audit_segment WHERE chain = ? AND first_seq <= ? AND last_seq > ?"),
                    arguments: [state.chain, lastPruned, lastPruned])
                {
                    boundary = straddling - 1
                    guard boundary > state.baseSequence else { continue }
                }
                let digest: [UInt8]
                if let segmentDigest = try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT last_digest FROM audit_segment WHERE chain = ? AND last_seq = ?"),
                    arguments: [state.chain, boundary])
                {
                    digest = Array(segmentDigest)
                } else if let record = try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT record FROM audit_event WHERE chain = ? AND seq = ?"), arguments: [state.chain, boundary])
                {
                    digest = AuditChain.digest(Array(record))
                } else {
                    throw StoreError.conflict
                }
                for table in ["audit_event", "audit_resource"] {
                    try db.cachedStatement(sql: "DELETE FROM \(table) WHERE chain = ? AND seq <= ?").execute(arguments: [state.chain, boundary])
                }
                for table in ["audit_segment", "audit_segment_key", "audit_segment_term"] {
                    try db.cachedStatement(sql: "DELETE FROM \(table) WHERE chain = ? AND first_seq <= ?").execute(arguments: [state.chain, boundary])
                }
                try db.cachedStatement(sql: "UPDATE audit_chain SET base_seq = ?, base_digest = ? WHERE name = ?").execute(arguments: [
                    boundary, Data(digest), state.chain,
                ])
            }
        }
    }

    /// Seals `event` after its chain's head, in the committing transaction: the writer is
    /// serial, so sequence numbers are gapless and each event links to the one committed
    /// before it in its chain.
    static func appendAuditEvent(_ event: AuditEvent, _ heads: inout AuditChainHeads, _ db: Database) throws {
        let head = try heads.head(of: event.chain, db)
        let sequence = head.sequence + 1
        let sealed = AuditChain.seal(event, sequence: sequence, previousDigest: head.digest)
        try db.cachedStatement(
            literal: """
                INSERT INTO audit_event (chain, seq, event_ms, event_name, account, region, user_name, access_key_id, read_only, error_code, record)
                VALUES (\(event.chain), \(sequence), \(event.eventTime.millis), \(event.eventName), \(event.account), \(event.region),
                        \(event.userName), \(event.accessKeyID), \(event.readOnly), \(event.errorCode), \(Data(sealed)))
                """
        ).execute()
        for keyID in Set(event.keyIDs) {
            try db.cachedStatement(sql: "INSERT INTO audit_resource (key_id, chain, seq) VALUES (?, ?, ?)").execute(arguments: [
                keyID, event.chain, sequence,
            ])
        }
        heads.advance(event.chain, to: .init(sequence: sequence, digest: AuditChain.digest(sealed)))
    }

    /// Moves the segment's events out of the hot table into the segment's row.
    static func insertAuditSegment(_ segment: AuditSegment, _ db: Database) throws {
        let range: StatementArguments = [segment.chain, segment.firstSequence, segment.lastSequence]
        try db.cachedStatement(sql: "DELETE FROM audit_event WHERE chain = ? AND seq BETWEEN ? AND ?").execute(arguments: range)
        guard db.changesCount == segment.lastSequence - segment.firstSequence + 1 else { throw StoreError.conflict }
        try db.cachedStatement(sql: "DELETE FROM audit_resource WHERE chain = ? AND seq BETWEEN ? AND ?").execute(arguments: range)
        try db.cachedStatement(
            literal: """
                INSERT INTO audit_segment (chain, first_seq, last_seq, first_ms, last_ms, last_digest, events, terms_indexed)
                VALUES (\(segment.chain), \(segment.firstSequence), \(segment.lastSequence), \(segment.firstTime.millis),
                        \(segment.lastTime.millis), \(Data(segment.lastDigest)), \(Data(segment.compressed)), 1)
                """
        ).execute()
        for keyID in segment.keyIDs {
            try db.cachedStatement(sql: "INSERT INTO audit_segment_key (key_id, chain, first_seq) VALUES (?, ?, ?)").execute(arguments: [
                keyID, segment.chain, segment.firstSequence,
            ])
        }
        for term in segment.terms {
            try db.cachedStatement(sql: "INSERT INTO audit_segment_term (term, chain, first_seq) VALUES (?, ?, ?)").execute(arguments: [
                term, segment.chain, segment.firstSequence,
            ])
        }
    }

    static func auditChains(_ db: Database) throws -> [AuditChainState] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM audit_chain ORDER BY name")).map { row in
            AuditChainState(
                chain: row["name"], baseSequence: row["base_seq"], baseDigest: Array(row["base_digest"] as Data),
                headSequence: row["head_seq"], headDigest: Array(row["head_digest"] as Data))
        }
    }
}

/// Where the audit chains a transaction appends to stand: each head read once, advanced in
/// memory by every event the transaction appends, and written back once (`write`) before the
/// transaction commits, instead of a read and an update per event. A value: a commit rolled
/// back to its savepoint takes back the heads it advanced by restoring the copy taken before.
struct AuditChainHeads {
    struct Head {
        var sequence: Int64
        var digest: [UInt8]
    }

    private var heads: [String: Head] = [:]
    /// Chains whose head moved since it was read or last written.
    private var moved: Set<String> = []

    /// The head of `chain`, read from the database the first time (a new chain starts at
    /// sequence 0 with the genesis digest).
    mutating func head(of chain: String, _ db: Database) throws -> Head {
        if let head = heads[chain] { return head }
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT head_seq, head_digest FROM audit_chain WHERE name = ?"), arguments: [chain])
        let head =
            row.map { Head(sequence: $0["head_seq"], digest: Array($0["head_digest"] as Data)) }
            ?? Head(sequence: 0, digest: AuditChain.genesisDigest)
        heads[chain] = head
        return head
    }

    mutating func advance(_ chain: String, to head: Head) {
        heads[chain] = head
        moved.insert(chain)
    }

    /// Writes the heads that moved to `audit_chain`. Before anything in the transaction reads
    /// that table, and last.
    mutating func write(_ db: Database) throws {
        for chain in moved {
            guard let head = heads[chain] else { continue }
            try db.cachedStatement(
                sql: """
                    INSERT INTO audit_chain (name, base_seq, base_digest, head_seq, head_digest) VALUES (?, 0, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET head_seq = excluded.head_seq, head_digest = excluded.head_digest
                    """
            ).execute(arguments: [chain, Data(AuditChain.genesisDigest), head.sequence, Data(head.digest)])
        }
        moved.removeAll()
    }
}
