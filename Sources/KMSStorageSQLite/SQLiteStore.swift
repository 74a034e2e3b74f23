import Foundation
import GRDB
import KMSCore
import KMSStorage
import Logging
import Synchronization

/// The embedded default store: one SQLite database in WAL mode with `synchronous=FULL`,
/// so a committed transaction survives a crash or power loss before `commit` returns.
/// The file is created with mode 0600.
public final class SQLiteStore: Store {
    private let pool: DatabasePool
    /// A connection of its own for `changeGeneration`, read synchronously: the pool's readers
    /// are shared with async reads, and a thread of Swift's small cooperative pool blocked on
    /// one of them could wait for a read that needs that very thread to finish.
    private let generationReader: DatabaseQueue
    private let logger: Logger

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    /// The file is created with mode 0600.
    public init(path: String, logger: Logger = Logger(label: "swiftkms.sqlite")) throws {
        var config = Configuration()
        // Another process may write too (`swiftkms admin` and `audit` while the server runs):
        // wait for its transaction rather than fail.
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let existed = FileManager.default.fileExists(atPath: path)
        if !existed {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError.unavailable
            }
        }
        pool = try DatabasePool(path: path, configuration: config)
        self.logger = logger
        // GRDB sets `synchronous = NORMAL` when it opens a pool in WAL mode, after
        // `prepareDatabase`; a commit is then not durable against power loss. All writes go
        // through the pool's one writer connection, so setting FULL there covers them all.
        let synchronous = try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        guard synchronous == 2 else { throw StoreError.unavailable }
        try Schema.migrator.migrate(pool)
        var readOnly = Configuration()
        readOnly.readonly = true
        readOnly.busyMode = .timeout(10)
        generationReader = try DatabaseQueue(path: path, configuration: readOnly)
    }

    // MARK: Writes

    /// Commits waiting for the writer, and whether a writer task is running.
    private let queue = Mutex<(waiting: [WaitingCommit], writing: Bool)>(([], false))
    /// Commits per transaction at most, so that one transaction stays short.
    private static let batchLimit = 512

    private struct WaitingCommit {
        var mutations: [Mutation]
        var done: CheckedContinuation<Result<Void, StoreError>, Never>
    }

    /// Group commit: a commit waits for the transaction being written, then goes with every
    /// commit that arrived meanwhile in the next one, each in its own savepoint. One sync makes
    /// them all durable; each fails or succeeds on its own (a commit whose mutation throws is
    /// rolled back to its savepoint, the others stay). Returns once the transaction is durable.
    public func commit(_ mutations: [Mutation]) async throws(StoreError) {
        let result = await withCheckedContinuation { continuation in
            let startWriter = queue.withLock { queue in
                queue.waiting.append(WaitingCommit(mutations: mutations, done: continuation))
                defer { queue.writing = true }
                return !queue.writing
            }
            if startWriter { Task { await writeWaitingCommits() } }
        }
        try result.get()
    }

    private func writeWaitingCommits() async {
        while true {
            let batch = queue.withLock { queue in
                let batch = Array(queue.waiting.prefix(Self.batchLimit))
                queue.waiting.removeFirst(batch.count)
                if batch.isEmpty { queue.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            let results = await write(batch.map(\.mutations))
            for (commit, result) in zip(batch, results) { commit.done.resume(returning: result) }
        }
    }

    /// Writes the commits in one transaction, a savepoint each. A failure that is not a
    /// commit's own (`StoreError`, a duplicate row) fails the transaction: each commit is then
    /// written alone, so that none fails for another's sake.
    private func write(_ commits: [[Mutation]]) async -> [Result<Void, StoreError>] {
        do {
            return try await run { [pool] in
                try await pool.write { db in
                    var heads = AuditChainHeads()
                    let results = try commits.map { try Self.apply(commit: $0, alone: commits.count == 1, &heads, db) }
                    try heads.write(db)
                    let changed = zip(commits, results).contains { commit, result in
                        if case .success = result { commit.contains { $0.changesStoredRows } } else { false }
                    }
                    if changed {
                        try db.cachedStatement(sql: "UPDATE change_generation SET value = value + 1 WHERE id = 1").execute()
                    }
                    return results
                }
            }
        } catch {
            guard commits.count > 1 else { return [.failure(error)] }
            var results: [Result<Void, StoreError>] = []
            for mutations in commits { results += await write([mutations]) }
            return results
        }
    }

    /// Applies one commit's mutations. Alone in its transaction, any failure throws (and rolls
    /// the transaction back). Sharing it, the commit gets a savepoint: its own failure rolls back
    /// to it, with the audit chain heads it advanced, and becomes its result; any other failure
    /// throws. A commit of audit events only has no failure of its own, so it needs no savepoint.
    private static func apply(commit mutations: [Mutation], alone: Bool, _ heads: inout AuditChainHeads,
                              _ db: Database) throws -> Result<Void, StoreError> {
        guard !alone, !mutations.allSatisfy(\.isAuditEvent) else {
            for mutation in mutations { try apply(mutation, &heads, db) }
            return .success(())
        }
        let headsBefore = heads
        do {
            try db.inSavepoint {
                for mutation in mutations { try apply(mutation, &heads, db) }
                return .commit
            }
            return .success(())
        } catch let error as StoreError {
            heads = headsBefore
            return .failure(error)
        } catch let error as DatabaseError where isDuplicate(error) {
            heads = headsBefore
            return .failure(.alreadyExists)
        }
    }

    public func changeGeneration() throws(StoreError) -> Int64 {
        do {
            return try readGeneration()
        } catch {
            logger.error("database failure", metadata: ["error": "\(error)"])
            throw .unavailable
        }
    }

    /// Synchronous on purpose: one indexed row, read on the calling thread.
    private func readGeneration() throws -> Int64 {
        try generationReader.inDatabase { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM change_generation WHERE id = 1")) ?? 0
        }
    }

    private static func apply(_ mutation: Mutation, _ heads: inout AuditChainHeads, _ db: Database) throws {
        switch mutation {
        case .insertKey(let key):
            try db.cachedStatement(sql: """
                INSERT INTO kms_key (id, account, region, creation_ms, description, usage, spec, origin, state,
                    deletion_ms, pending_window_days, policy, current_material_version, rotation_period_days, next_rotation_ms,
                    material_valid_to_ms, primary_region, key_manager, revision)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [key.id, key.account, key.region, key.creationDate.millis, key.description,
                                 key.usage.rawValue, key.spec.rawValue, key.origin.rawValue, key.state.rawValue,
                                 key.deletionDate?.millis, key.pendingWindowInDays, key.policy,
                                 Int64(key.currentMaterialVersion), key.automaticRotation?.periodInDays,
                                 key.automaticRotation?.nextDate.millis, key.materialValidTo?.millis, key.primaryRegion,
                                 key.keyManager.rawValue, key.revision])
        case .updateKey(let key):
            try db.cachedStatement(sql: """
                UPDATE kms_key SET description = ?, usage = ?, spec = ?, origin = ?, state = ?, deletion_ms = ?,
                    pending_window_days = ?, policy = ?, current_material_version = ?, rotation_period_days = ?,
                    next_rotation_ms = ?, material_valid_to_ms = ?, primary_region = ?, revision = revision + 1
                WHERE id = ? AND region = ? AND revision = ?
                """).execute(arguments: [key.description, key.usage.rawValue, key.spec.rawValue, key.origin.rawValue,
                                 key.state.rawValue, key.deletionDate?.millis, key.pendingWindowInDays, key.policy,
                                 Int64(key.currentMaterialVersion), key.automaticRotation?.periodInDays,
                                 key.automaticRotation?.nextDate.millis, key.materialValidTo?.millis, key.primaryRegion, key.id, key.region,
                                 key.revision])
            guard db.changesCount == 1 else { throw StoreError.conflict }
        case .deleteKey(let id, let region, let revision):
            try db.cachedStatement(sql: "DELETE FROM alias WHERE target_key_id = ? AND region = ?").execute(arguments: [id, region])
            for table in ["key_tag", "key_grant", "key_material", "import_parameters"] {
                try db.cachedStatement(sql: "DELETE FROM \(table) WHERE key_id = ? AND region = ?").execute(arguments: [id, region])
            }
            try db.cachedStatement(sql: "DELETE FROM kms_key WHERE id = ? AND region = ? AND revision = ?").execute(arguments: [id, region, revision])
            guard db.changesCount == 1 else { throw StoreError.conflict }
        case .insertKeyMaterial(let m):
            try db.cachedStatement(sql: """
                INSERT INTO key_material (key_id, region, version, wrapped, creation_ms, material_id, rotation_type, description, valid_to_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [m.keyID, m.region, Int64(m.version), Data(m.wrapped), m.creationDate.millis, m.materialID, m.rotationType?.rawValue,
                                 m.description, m.validTo?.millis])
        case .replaceKeyMaterial(let m):
            try db.cachedStatement(sql: """
                UPDATE key_material SET wrapped = ?, description = ?, rotation_type = ?, creation_ms = ?, valid_to_ms = ?
                WHERE key_id = ? AND region = ? AND version = ?
                """).execute(arguments: [Data(m.wrapped), m.description, m.rotationType?.rawValue, m.creationDate.millis, m.validTo?.millis,
                                 m.keyID, m.region, Int64(m.version)])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .insertImportParameters(let p):
            try db.cachedStatement(sql: "INSERT INTO import_parameters (id, key_id, region, algorithm, wrapped_private_key, valid_to_ms) VALUES (?, ?, ?, ?, ?, ?)").execute(arguments: [p.id, p.keyID, p.region, p.algorithm.rawValue, Data(p.wrappedPrivateKey), p.validTo.millis])
        case .deleteImportParameters(let date):
            try db.cachedStatement(sql: "DELETE FROM import_parameters WHERE valid_to_ms <= ?").execute(arguments: [date.millis])
        case .insertAlias(let a):
            try db.cachedStatement(sql: """
                INSERT INTO alias (account, region, name, target_key_id, creation_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [a.account, a.region, a.name, a.targetKeyID, a.creationDate.millis, a.lastUpdatedDate.millis])
        case .updateAlias(let a):
            try db.cachedStatement(sql: "UPDATE alias SET target_key_id = ?, updated_ms = ? WHERE account = ? AND region = ? AND name = ?").execute(arguments: [a.targetKeyID, a.lastUpdatedDate.millis, a.account, a.region, a.name])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .deleteAlias(let account, let region, let name):
            try db.cachedStatement(sql: "DELETE FROM alias WHERE account = ? AND region = ? AND name = ?").execute(arguments: [account, region, name])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .putTags(let keyID, let region, let tags):
            for tag in tags {
                try db.cachedStatement(sql: """
                    INSERT INTO key_tag (key_id, region, tag_key, tag_value) VALUES (?, ?, ?, ?)
                    ON CONFLICT (key_id, region, tag_key) DO UPDATE SET tag_value = excluded.tag_value
                    """).execute(arguments: [keyID, region, tag.key, tag.value])
            }
        case .removeTags(let keyID, let region, let tagKeys):
            for tagKey in tagKeys {
                try db.cachedStatement(sql: "DELETE FROM key_tag WHERE key_id = ? AND region = ? AND tag_key = ?").execute(arguments: [keyID, region, tagKey])
            }
        case .insertPrincipal(let p, let date):
            try db.cachedStatement(sql: "INSERT INTO principal (account, name, creation_ms, incarnation) VALUES (?, ?, ?, lower(hex(randomblob(16))))")
                .execute(arguments: [p.account, p.path, date.millis])
        case .insertAccessKey(let k, let date):
            try db.cachedStatement(sql: "INSERT INTO access_key (id, account, name, sealed_secret, creation_ms) VALUES (?, ?, ?, ?, ?)").execute(arguments: [k.id, k.principal.account, k.principal.path, Data(k.sealedSecret), date.millis])
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
            try db.cachedStatement(sql: """
                INSERT INTO identity_policy (account, principal, name, document) VALUES (?, ?, ?, ?)
                ON CONFLICT (account, principal, name) DO UPDATE SET document = excluded.document
                """).execute(arguments: [p.account, p.path, policy.name, policy.document])
        case .deleteIdentityPolicy(let p, let name):
            try db.cachedStatement(sql: "DELETE FROM identity_policy WHERE account = ? AND principal = ? AND name = ?").execute(arguments: [p.account, p.path, name])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .putPrincipalTags(let p, let tags):
            for tag in tags {
                try db.cachedStatement(sql: """
                    INSERT INTO principal_tag (account, principal, tag_key, tag_value) VALUES (?, ?, ?, ?)
                    ON CONFLICT (account, principal, tag_key) DO UPDATE SET tag_value = excluded.tag_value
                    """).execute(arguments: [p.account, p.path, tag.key, tag.value])
            }
        case .removePrincipalTags(let p, let tagKeys):
            for tagKey in tagKeys {
                try db.cachedStatement(sql: "DELETE FROM principal_tag WHERE account = ? AND principal = ? AND tag_key = ?").execute(arguments: [p.account, p.path, tagKey])
            }
        case .insertGrant(let g):
            try db.cachedStatement(sql: """
                INSERT INTO key_grant (id, key_id, region, key_arn, name, grantee, retiring, operations, constraints, issuing_account, creation_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [g.id, g.keyID, g.keyRegion, g.keyARN, g.name, g.granteePrincipal, g.retiringPrincipal,
                                 g.operations.map(\.rawValue).joined(separator: ","),
                                 try g.constraints.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) },
                                 g.issuingAccount, g.creationDate.millis])
        case .deleteGrant(let id):
            try db.cachedStatement(sql: "DELETE FROM key_grant WHERE id = ?").execute(arguments: [id])
            guard db.changesCount == 1 else { throw StoreError.notFound }
        case .appendAuditEvent(let event):
            try appendAuditEvent(event, &heads, db)
        case .insertAuditCheckpoint(let checkpoint, let date):
            try db.cachedStatement(sql: "INSERT INTO audit_checkpoint (creation_ms, statement, signature) VALUES (?, ?, ?)").execute(arguments: [date.millis, Data(checkpoint.statement), Data(checkpoint.signature)])
        case .insertAuditSigningKey(let wrapped, let publicKey, let date):
            try db.cachedStatement(sql: "INSERT INTO audit_signing_key (id, wrapped, public_key, creation_ms) VALUES (1, ?, ?, ?)").execute(arguments: [Data(wrapped), Data(publicKey), date.millis])
        case .pruneAuditEvents(let through):
            try heads.write(db)
            for state in try auditChains(db) {
                guard let lastPruned = through[state.chain], lastPruned > state.baseSequence else { continue }
                guard lastPruned <= state.headSequence else { throw StoreError.conflict }
                guard let record = try Data.fetchOne(db.cachedStatement(sql: "SELECT record FROM audit_event WHERE chain = ? AND seq = ?"),
                                                     arguments: [state.chain, lastPruned]) else { throw StoreError.conflict }
                try db.cachedStatement(sql: "DELETE FROM audit_event WHERE chain = ? AND seq <= ?").execute(arguments: [state.chain, lastPruned])
                try db.cachedStatement(sql: "DELETE FROM audit_resource WHERE chain = ? AND seq <= ?").execute(arguments: [state.chain, lastPruned])
                try db.cachedStatement(sql: "UPDATE audit_chain SET base_seq = ?, base_digest = ? WHERE name = ?").execute(arguments: [lastPruned, Data(AuditChain.digest(Array(record))), state.chain])
            }
        }
    }

    /// Seals `event` after its chain's head, in the committing transaction: the writer is
    /// serial, so sequence numbers are gapless and each event links to the one committed
    /// before it in its chain.
    private static func appendAuditEvent(_ event: AuditEvent, _ heads: inout AuditChainHeads, _ db: Database) throws {
        let head = try heads.head(of: event.chain, db)
        let sequence = head.sequence + 1
        let sealed = AuditChain.seal(event, sequence: sequence, previousDigest: head.digest)
        try db.cachedStatement(sql: """
            INSERT INTO audit_event (chain, seq, event_ms, event_name, account, region, user_name, access_key_id, read_only, error_code, record)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [event.chain, sequence, event.eventTime.millis, event.eventName, event.account, event.region, event.userName,
                             event.accessKeyID, event.readOnly, event.errorCode, Data(sealed)])
        for keyID in Set(event.keyIDs) {
            try db.cachedStatement(sql: "INSERT INTO audit_resource (key_id, chain, seq) VALUES (?, ?, ?)").execute(arguments: [keyID, event.chain, sequence])
        }
        heads.advance(event.chain, to: .init(sequence: sequence, digest: AuditChain.digest(sealed)))
    }

    private static func auditChains(_ db: Database) throws -> [AuditChainState] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM audit_chain ORDER BY name")).map { row in
            AuditChainState(chain: row["name"], baseSequence: row["base_seq"], baseDigest: Array(row["base_digest"] as Data),
                            headSequence: row["head_seq"], headDigest: Array(row["head_digest"] as Data))
        }
    }

    // MARK: Reads

    public func key(id: String, region: String) async throws(StoreError) -> KMSKey? {
        try await read { db in try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM kms_key WHERE id = ? AND region = ?"), arguments: [id, region]).map(Self.key) }
    }

    public func relatedKeys(id: String) async throws(StoreError) -> [KMSKey] {
        try await read { db in try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM kms_key WHERE id = ? ORDER BY region"), arguments: [id]).map(Self.key) }
    }

    public func keys(account: String, region: String, afterID: String?, limit: Int) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM kms_key WHERE account = ? AND region = ? AND id > ? ORDER BY id LIMIT ?
                """), arguments: [account, region, afterID ?? "", limit]).map(Self.key)
        }
    }

    public func keyCount(account: String, region: String) async throws(StoreError) -> Int {
        try await read { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT count FROM key_count WHERE account = ? AND region = ?"), arguments: [account, region]) ?? 0
        }
    }

    public func keysDueForDeletion(at date: Date) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM kms_key WHERE state = ? AND deletion_ms <= ? ORDER BY deletion_ms"),
                             arguments: [KeyState.pendingDeletion.rawValue, date.millis]).map(Self.key)
        }
    }

    public func keyMaterial(keyID: String, region: String, version: UInt32) async throws(StoreError) -> KeyMaterialRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM key_material WHERE key_id = ? AND region = ? AND version = ?"),
                             arguments: [keyID, region, Int64(version)]).map(Self.keyMaterial)
        }
    }

    public func keyMaterials(keyID: String, region: String) async throws(StoreError) -> [KeyMaterialRecord] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM key_material WHERE key_id = ? AND region = ? ORDER BY version"),
                             arguments: [keyID, region]).map(Self.keyMaterial)
        }
    }

    public func keysDueForRotation(at date: Date) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM kms_key WHERE state = ? AND next_rotation_ms <= ? AND (primary_region IS NULL OR primary_region = region)
                ORDER BY next_rotation_ms
                """), arguments: [KeyState.enabled.rawValue, date.millis]).map(Self.key)
        }
    }

    public func expiredKeyMaterials(by date: Date) async throws(StoreError) -> [KeyMaterialRecord] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM key_material WHERE valid_to_ms <= ? AND length(wrapped) > 0 ORDER BY valid_to_ms"),
                             arguments: [date.millis]).map(Self.keyMaterial)
        }
    }

    public func importParameters(id: String) async throws(StoreError) -> ImportParameters? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM import_parameters WHERE id = ?"), arguments: [id]).flatMap { row in
                ImportWrappingAlgorithm(rawValue: row["algorithm"]).map { algorithm in
                    ImportParameters(id: row["id"], keyID: row["key_id"], region: row["region"], algorithm: algorithm,
                                     wrappedPrivateKey: Array(row["wrapped_private_key"] as Data), validTo: Date(millis: row["valid_to_ms"]))
                }
            }
        }
    }

    private static func keyMaterial(_ row: Row) -> KeyMaterialRecord {
        KeyMaterialRecord(keyID: row["key_id"], region: row["region"], version: UInt32(row["version"] as Int64), wrapped: Array(row["wrapped"] as Data),
                          creationDate: Date(millis: row["creation_ms"]), materialID: row["material_id"],
                          rotationType: (row["rotation_type"] as String?).flatMap(RotationType.init(rawValue:)), description: row["description"],
                          validTo: (row["valid_to_ms"] as Int64?).map(Date.init(millis:)))
    }

    public func alias(account: String, region: String, name: String) async throws(StoreError) -> Alias? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM alias WHERE account = ? AND region = ? AND name = ?"),
                             arguments: [account, region, name]).map(Self.alias)
        }
    }

    public func aliases(account: String, region: String, targetKeyID: String?, afterName: String?, limit: Int) async throws(StoreError) -> [Alias] {
        try await read { db in
            if let targetKeyID {
                return try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT * FROM alias WHERE account = ? AND region = ? AND target_key_id = ? AND name > ? ORDER BY name LIMIT ?
                    """), arguments: [account, region, targetKeyID, afterName ?? "", limit]).map(Self.alias)
            }
            return try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM alias WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?
                """), arguments: [account, region, afterName ?? "", limit]).map(Self.alias)
        }
    }

    public func tags(keyID: String, region: String) async throws(StoreError) -> [Tag] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT tag_key, tag_value FROM key_tag WHERE key_id = ? AND region = ? ORDER BY tag_key"), arguments: [keyID, region])
                .map { Tag(key: $0["tag_key"], value: $0["tag_value"]) }
        }
    }

    public func principals(account: String) async throws(StoreError) -> [Principal] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT account, name FROM principal WHERE account = ? ORDER BY name"), arguments: [account])
                .compactMap { Principal(account: $0["account"], path: $0["name"]) }
        }
    }

    public func principalIncarnation(of principal: Principal) async throws(StoreError) -> String? {
        try await read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT incarnation FROM principal WHERE account = ? AND name = ?"),
                                arguments: [principal.account, principal.path])
        }
    }

    public func identityPolicies(of principal: Principal) async throws(StoreError) -> [IdentityPolicy] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT name, document FROM identity_policy WHERE account = ? AND principal = ? ORDER BY name"),
                             arguments: [principal.account, principal.path]).map { IdentityPolicy(name: $0["name"], document: $0["document"]) }
        }
    }

    public func principalTags(of principal: Principal) async throws(StoreError) -> [Tag] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT tag_key, tag_value FROM principal_tag WHERE account = ? AND principal = ? ORDER BY tag_key"),
                             arguments: [principal.account, principal.path]).map { Tag(key: $0["tag_key"], value: $0["tag_value"]) }
        }
    }

    public func grant(id: String) async throws(StoreError) -> Grant? {
        try await read { db in try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM key_grant WHERE id = ?"), arguments: [id]).map(Self.grant) }
    }

    public func grants(keyID: String, region: String) async throws(StoreError) -> [Grant] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM key_grant WHERE key_id = ? AND region = ? ORDER BY id"), arguments: [keyID, region]).map(Self.grant)
        }
    }

    public func grants(keyID: String, region: String, grantees: [String]) async throws(StoreError) -> [Grant] {
        guard !grantees.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: grantees.count).joined(separator: ", ")
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM key_grant WHERE key_id = ? AND region = ? AND grantee IN (\(marks)) ORDER BY id",
                             arguments: StatementArguments([keyID, region] + grantees)).map(Self.grant)
        }
    }

    public func grants(retiringPrincipal: String, afterID: String?, limit: Int) async throws(StoreError) -> [Grant] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM key_grant WHERE retiring = ? AND id > ? ORDER BY id LIMIT ?"),
                             arguments: [retiringPrincipal, afterID ?? "", limit]).map(Self.grant)
        }
    }

    public func grants(naming principal: String) async throws(StoreError) -> [Grant] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM key_grant WHERE grantee = ? OR retiring = ? ORDER BY id"),
                             arguments: [principal, principal]).map(Self.grant)
        }
    }

    public func keys(withPolicyMentioning text: String) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM kms_key WHERE instr(policy, ?) > 0 ORDER BY id, region"),
                             arguments: [text]).map(Self.key)
        }
    }

    public func accessKey(id: String) async throws(StoreError) -> AccessKey? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM access_key WHERE id = ?"), arguments: [id]).map(Self.accessKey)
        }
    }

    public func accessKeys(of principal: Principal) async throws(StoreError) -> [AccessKey] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM access_key WHERE account = ? AND name = ? ORDER BY id"),
                             arguments: [principal.account, principal.path]).map(Self.accessKey)
        }
    }

    public func auditChains() async throws(StoreError) -> [AuditChainState] {
        try await read { db in try Self.auditChains(db) }
    }

    public func auditEvents(chain: String, afterSequence: Int64, limit: Int) async throws(StoreError) -> [StoredAuditEvent] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT chain, seq, event_ms, record FROM audit_event WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?"),
                             arguments: [chain, afterSequence, limit]).map(Self.auditEvent)
        }
    }

    public func auditEvents(matching query: AuditQuery) async throws(StoreError) -> [StoredAuditEvent] {
        var conditions: [String] = []
        var arguments = StatementArguments()
        func add(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            conditions.append(condition)
            arguments += [value]
        }
        add("e.event_ms >= ?", query.startTime?.millis)
        add("e.event_ms < ?", query.endTime?.millis)
        add("e.event_name = ?", query.eventName)
        add("e.user_name = ?", query.userName)
        add("e.access_key_id = ?", query.accessKeyID)
        add("e.region = ?", query.region)
        add("e.read_only = ?", query.readOnly)
        add("EXISTS (SELECT 1 FROM audit_resource r WHERE r.key_id = ? AND r.chain = e.chain AND r.seq = e.seq)", query.keyID)
        if query.errorsOnly { conditions.append("e.error_code IS NOT NULL") }
        if query.succeededOnly { conditions.append("e.error_code IS NULL") }
        if let names = query.eventNames {
            conditions.append("e.event_name IN (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))")
            for name in names { arguments += [name] }
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [query.limit]
        let sql = "SELECT e.chain, e.seq, e.event_ms, e.record FROM audit_event e \(whereClause) ORDER BY e.event_ms \(query.oldestFirst ? "ASC" : "DESC"), e.chain, e.seq \(query.oldestFirst ? "ASC" : "DESC") LIMIT ?"
        let bound = arguments
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: bound).map(Self.auditEvent) }
    }

    public func auditCheckpoints() async throws(StoreError) -> [SignedAuditCheckpoint] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT statement, signature FROM audit_checkpoint ORDER BY id")).map { row in
                SignedAuditCheckpoint(statement: Array(row["statement"] as Data), signature: Array(row["signature"] as Data))
            }
        }
    }

    public func lastAuditCheckpoint() async throws(StoreError) -> SignedAuditCheckpoint? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT statement, signature FROM audit_checkpoint ORDER BY id DESC LIMIT 1")).map { row in
                SignedAuditCheckpoint(statement: Array(row["statement"] as Data), signature: Array(row["signature"] as Data))
            }
        }
    }

    public func auditSigningKey() async throws(StoreError) -> (wrapped: [UInt8], publicKey: [UInt8])? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT wrapped, public_key FROM audit_signing_key WHERE id = 1")).map { row in
                (Array(row["wrapped"] as Data), Array(row["public_key"] as Data))
            }
        }
    }

    // MARK: Plumbing

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        try await run { [pool] in try await pool.read(body) }
    }

    /// Runs a database call, mapping its failures to `StoreError` and logging the detail
    /// (SQL errors hold no secrets: values are bound parameters, never in the SQL text).
    private func run<T>(_ body: () async throws -> T) async throws(StoreError) -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where Self.isDuplicate(error) {
            throw .alreadyExists
        } catch let error as DatabaseError {
            logger.error("database failure", metadata: ["code": "\(error.resultCode)", "message": "\(error.message ?? "")", "sql": "\(error.sql ?? "")"])
            throw .unavailable
        } catch {
            logger.error("database failure", metadata: ["error": "\(type(of: error))"])
            throw .unavailable
        }
    }

    private static func isDuplicate(_ error: DatabaseError) -> Bool {
        error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY || error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
    }

    private static func key(_ row: Row) throws -> KMSKey {
        guard let usage = KeyUsage(rawValue: row["usage"]), let spec = KeySpec(rawValue: row["spec"]),
              let origin = KeyOrigin(rawValue: row["origin"]), let state = KeyState(rawValue: row["state"]),
              let manager = KeyManager(rawValue: row["key_manager"])
        else { throw StoreError.unavailable }
        return KMSKey(
            id: row["id"], account: row["account"], region: row["region"], creationDate: Date(millis: row["creation_ms"]),
            description: row["description"], usage: usage, spec: spec, origin: origin, state: state,
            deletionDate: (row["deletion_ms"] as Int64?).map(Date.init(millis:)), pendingWindowInDays: row["pending_window_days"],
            policy: row["policy"], currentMaterialVersion: UInt32(row["current_material_version"] as Int64),
            automaticRotation: Self.automaticRotation(row), materialValidTo: (row["material_valid_to_ms"] as Int64?).map(Date.init(millis:)),
            primaryRegion: row["primary_region"], keyManager: manager, revision: row["revision"])
    }

    private static func automaticRotation(_ row: Row) -> AutomaticRotation? {
        guard let days = row["rotation_period_days"] as Int?, let next = row["next_rotation_ms"] as Int64? else { return nil }
        return AutomaticRotation(periodInDays: days, nextDate: Date(millis: next))
    }

    private static func auditEvent(_ row: Row) -> StoredAuditEvent {
        StoredAuditEvent(chain: row["chain"], sequence: row["seq"], eventTime: Date(millis: row["event_ms"]), bytes: Array(row["record"] as Data))
    }

    private static func alias(_ row: Row) -> Alias {
        Alias(name: row["name"], account: row["account"], region: row["region"], targetKeyID: row["target_key_id"],
              creationDate: Date(millis: row["creation_ms"]), lastUpdatedDate: Date(millis: row["updated_ms"]))
    }

    private static func accessKey(_ row: Row) throws -> AccessKey {
        guard let principal = Principal(account: row["account"], path: row["name"]) else { throw StoreError.unavailable }
        return AccessKey(id: row["id"], principal: principal, sealedSecret: Array(row["sealed_secret"] as Data))
    }

    private static func grant(_ row: Row) throws -> Grant {
        let operations = (row["operations"] as String).split(separator: ",").compactMap { GrantOperation(rawValue: String($0)) }
        let constraints = try (row["constraints"] as String?).map { try JSONDecoder().decode(GrantConstraints.self, from: Data($0.utf8)) }
        return Grant(id: row["id"], keyID: row["key_id"], keyARN: row["key_arn"], name: row["name"], granteePrincipal: row["grantee"],
                     retiringPrincipal: row["retiring"], operations: operations, constraints: constraints,
                     issuingAccount: row["issuing_account"], creationDate: Date(millis: row["creation_ms"]))
    }
}

extension Date {
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}

extension SQLiteStore {
    /// The value of a PRAGMA as the writer connection sees it (for tests and diagnostics).
    func pragma(_ name: String) async throws -> String? {
        try await pool.write { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
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
        let head = row.map { Head(sequence: $0["head_seq"], digest: Array($0["head_digest"] as Data)) }
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
            try db.cachedStatement(sql: """
                INSERT INTO audit_chain (name, base_seq, base_digest, head_seq, head_digest) VALUES (?, 0, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET head_seq = excluded.head_seq, head_digest = excluded.head_digest
                """).execute(arguments: [chain, Data(AuditChain.genesisDigest), head.sequence, Data(head.digest)])
        }
        moved.removeAll()
    }
}
