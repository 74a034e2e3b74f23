import Foundation
import GRDB
import KMSCore
import KMSStorage

/// Reads, each in a read transaction of the pool (they see committed data only), and the
/// decoding of rows into the domain's values.
extension SQLiteStore {
    public func key(id: String, region: String) async throws(StoreError) -> KMSKey? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM kms_key WHERE id = ? AND region = ?"), arguments: [id, region]).map(Self.key)
        }
    }

    public func relatedKeys(id: String) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM kms_key WHERE id = ? ORDER BY region"), arguments: [id]).map(Self.key)
        }
    }

    public func keys(account: String, region: String, afterID: String?, limit: Int) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM kms_key WHERE account = ? AND region = ? AND id > ? ORDER BY id LIMIT ?
                        """), arguments: [account, region, afterID ?? "", limit]
            ).map(Self.key)
        }
    }

    public func keyCount(account: String, region: String) async throws(StoreError) -> Int {
        try await read { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT count FROM key_count WHERE account = ? AND region = ?"), arguments: [account, region])
                ?? 0
        }
    }

    public func keyCensus() async throws(StoreError) -> [KeyCensusEntry] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT state, spec, COUNT(*) AS n FROM kms_key GROUP BY state, spec").map {
                KeyCensusEntry(state: $0["state"], spec: $0["spec"], count: $0["n"])
            }
        }
    }

    public func keysDueForDeletion(at date: Date) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM kms_key WHERE state = ? AND deletion_ms <= ? ORDER BY deletion_ms"),
                arguments: [KeyState.pendingDeletion.rawValue, date.millis]
            ).map(Self.key)
        }
    }

    public func keyMaterial(keyID: String, region: String, version: UInt32) async throws(StoreError) -> KeyMaterialRecord? {
        try await read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM key_material WHERE key_id = ? AND region = ? AND version = ?"),
                arguments: [keyID, region, Int64(version)]
            ).map(Self.keyMaterial)
        }
    }

    public func keyMaterials(keyID: String, region: String) async throws(StoreError) -> [KeyMaterialRecord] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM key_material WHERE key_id = ? AND region = ? ORDER BY version"),
                arguments: [keyID, region]
            ).map(Self.keyMaterial)
        }
    }

    public func keysDueForRotation(at date: Date) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM kms_key WHERE state = ? AND next_rotation_ms <= ? AND (primary_region IS NULL OR primary_region = region)
                        ORDER BY next_rotation_ms
                        """), arguments: [KeyState.enabled.rawValue, date.millis]
            ).map(Self.key)
        }
    }

    public func expiredKeyMaterials(by date: Date) async throws(StoreError) -> [KeyMaterialRecord] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM key_material WHERE valid_to_ms <= ? AND length(wrapped) > 0 ORDER BY valid_to_ms"),
                arguments: [date.millis]
            ).map(Self.keyMaterial)
        }
    }

    public func importParameters(id: String) async throws(StoreError) -> ImportParameters? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM import_parameters WHERE id = ?"), arguments: [id]).flatMap { row in
                ImportWrappingAlgorithm(rawValue: row["algorithm"]).map { algorithm in
                    ImportParameters(
                        id: row["id"], keyID: row["key_id"], region: row["region"], algorithm: algorithm,
                        wrappedPrivateKey: Array(row["wrapped_private_key"] as Data), validTo: Date(millis: row["valid_to_ms"]))
                }
            }
        }
    }

    public func alias(account: String, region: String, name: String) async throws(StoreError) -> Alias? {
        try await read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM alias WHERE account = ? AND region = ? AND name = ?"),
                arguments: [account, region, name]
            ).map(Self.alias)
        }
    }

    public func aliases(account: String, region: String, targetKeyID: String?, afterName: String?, limit: Int) async throws(StoreError) -> [Alias] {
        try await read { db in
            if let targetKeyID {
                return try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT * FROM alias WHERE account = ? AND region = ? AND target_key_id = ? AND name > ? ORDER BY name LIMIT ?
                            """), arguments: [account, region, targetKeyID, afterName ?? "", limit]
                ).map(Self.alias)
            }
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM alias WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?
                        """), arguments: [account, region, afterName ?? "", limit]
            ).map(Self.alias)
        }
    }

    public func tags(keyID: String, region: String) async throws(StoreError) -> [Tag] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT tag_key, tag_value FROM key_tag WHERE key_id = ? AND region = ? ORDER BY tag_key"),
                arguments: [keyID, region]
            )
            .map(Self.tag)
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
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT incarnation FROM principal WHERE account = ? AND name = ?"),
                arguments: [principal.account, principal.path])
        }
    }

    public func identityPolicies(of principal: Principal) async throws(StoreError) -> [IdentityPolicy] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT name, document FROM identity_policy WHERE account = ? AND principal = ? ORDER BY name"),
                arguments: [principal.account, principal.path]
            ).map { IdentityPolicy(name: $0["name"], document: $0["document"]) }
        }
    }

    public func principalTags(of principal: Principal) async throws(StoreError) -> [Tag] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT tag_key, tag_value FROM principal_tag WHERE account = ? AND principal = ? ORDER BY tag_key"),
                arguments: [principal.account, principal.path]
            ).map(Self.tag)
        }
    }

    public func grant(id: String) async throws(StoreError) -> Grant? {
        try await read { db in try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM key_grant WHERE id = ?"), arguments: [id]).map(Self.grant) }
    }

    public func grants(keyID: String, region: String) async throws(StoreError) -> [Grant] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM key_grant WHERE key_id = ? AND region = ? ORDER BY id"), arguments: [keyID, region]
            ).map(Self.grant)
        }
    }

    public func grants(keyID: String, region: String, grantees: [String]) async throws(StoreError) -> [Grant] {
        guard !grantees.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: grantees.count).joined(separator: ", ")
        return try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM key_grant WHERE key_id = ? AND region = ? AND grantee IN (\(marks)) ORDER BY id",
                arguments: StatementArguments([keyID, region] + grantees)
            ).map(Self.grant)
        }
    }

    public func grants(retiringPrincipal: String, afterID: String?, limit: Int) async throws(StoreError) -> [Grant] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM key_grant WHERE retiring = ? AND id > ? ORDER BY id LIMIT ?"),
                arguments: [retiringPrincipal, afterID ?? "", limit]
            ).map(Self.grant)
        }
    }

    public func grants(naming principal: String) async throws(StoreError) -> [Grant] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM key_grant WHERE grantee = ? OR retiring = ? ORDER BY id"),
                arguments: [principal, principal]
            ).map(Self.grant)
        }
    }

    public func keys(withPolicyMentioning text: String) async throws(StoreError) -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM kms_key WHERE instr(policy, ?) > 0 ORDER BY id, region"),
                arguments: [text]
            ).map(Self.key)
        }
    }

    public func accessKey(id: String) async throws(StoreError) -> AccessKey? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM access_key WHERE id = ?"), arguments: [id]).map(Self.accessKey)
        }
    }

    public func accessKeys(of principal: Principal) async throws(StoreError) -> [AccessKey] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM access_key WHERE account = ? AND name = ? ORDER BY id"),
                arguments: [principal.account, principal.path]
            ).map(Self.accessKey)
        }
    }

    public func auditChains() async throws(StoreError) -> [AuditChainState] {
        try await read { db in try Self.auditChains(db) }
    }

    /// Segments first, then hot rows, in one snapshot: no event is moved between the two reads.
    public func auditEvents(chain: String, afterSequence: Int64, limit: Int) async throws(StoreError) -> [StoredAuditEvent] {
        try await read { db in
            var events: [StoredAuditEvent] = []
            var after = afterSequence
            while events.count < limit,
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM audit_segment WHERE chain = ? AND last_seq > ? ORDER BY first_seq LIMIT 1"),
                    arguments: [chain, after])
            {
                let segment = Self.auditSegment(row)
                for entry in try segment.entries() where entry.sequence > after && events.count < limit {
                    events.append(StoredAuditEvent(chain: chain, sequence: entry.sequence, eventTime: entry.eventTime, bytes: entry.bytes))
                }
                after = segment.lastSequence
            }
            guard events.count < limit else { return events }
            return events
                + (try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT chain, seq, event_ms, record FROM audit_event WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?"),
                    arguments: [chain, after, limit - events.count]
                ).map(Self.auditEvent))
        }
    }

    public func hotAuditEvents(chain: String, limit: Int) async throws(StoreError) -> [AuditSegmentEntry] {
        try await read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM audit_event WHERE chain = ? ORDER BY seq LIMIT ?"), arguments: [chain, limit])
            guard let first = rows.first?["seq"] as Int64?, let last = rows.last?["seq"] as Int64? else { return [] }
            var keys: [Int64: [String]] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(sql: "SELECT seq, key_id FROM audit_resource WHERE chain = ? AND seq BETWEEN ? AND ? ORDER BY key_id"),
                arguments: [chain, first, last])
            {
                keys[row["seq"], default: []].append(row["key_id"])
            }
            return rows.map { row in
                AuditSegmentEntry(
                    sequence: row["seq"], eventTime: Date(millis: row["event_ms"]), eventName: row["event_name"], account: row["account"],
                    region: row["region"], userName: row["user_name"], accessKeyID: row["access_key_id"], readOnly: row["read_only"],
                    errorCode: row["error_code"], keyIDs: keys[row["seq"]] ?? [], bytes: Array(row["record"] as Data))
            }
        }
    }

    public func auditEvents(matching query: AuditQuery) async throws(StoreError) -> AuditPage {
        var hotFilter = Filter()
        hotFilter.add("e.event_ms >= ?", query.startTime?.millis)
        hotFilter.add("e.event_ms < ?", query.endTime?.millis)
        hotFilter.add("e.event_name = ?", query.eventName)
        hotFilter.add("e.user_name = ?", query.userName)
        hotFilter.add("e.access_key_id = ?", query.accessKeyID)
        hotFilter.add("e.region = ?", query.region)
        hotFilter.add("e.read_only = ?", query.readOnly)
        hotFilter.add("e.account = ?", query.account)
        hotFilter.add("instr(e.record, ?) > 0", query.recordContains.map { Data($0) })
        hotFilter.add("EXISTS (SELECT 1 FROM audit_resource r WHERE r.key_id = ? AND r.chain = e.chain AND r.seq = e.seq)", query.keyID)
        if let after = query.after {
            let (earlier, later) = query.oldestFirst ? (">", ">") : ("<", "<")
            hotFilter.conditions.append(
                "(e.event_ms \(earlier) ? OR (e.event_ms = ? AND (e.chain > ? OR (e.chain = ? AND e.seq \(later) ?))))")
            hotFilter.arguments += [after.millis, after.millis, after.chain, after.chain, after.sequence]
        }
        if query.errorsOnly { hotFilter.conditions.append("e.error_code IS NOT NULL") }
        if query.succeededOnly { hotFilter.conditions.append("e.error_code IS NULL") }
        if let names = query.eventNames {
            hotFilter.conditions.append("e.event_name IN (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))")
            for name in names { hotFilter.arguments += [name] }
        }
        let sql =
            "SELECT e.chain, e.seq, e.event_ms, e.record, e.user_name FROM audit_event e \(hotFilter.whereClause) ORDER BY e.event_ms \(query.oldestFirst ? "ASC" : "DESC"), e.chain, e.seq \(query.oldestFirst ? "ASC" : "DESC") LIMIT ?"
        hotFilter.arguments += [query.limit]
        var segmentFilter = Filter()
        segmentFilter.add("s.last_ms >= ?", query.startTime?.millis)
        segmentFilter.add("s.first_ms < ?", query.endTime?.millis)
        segmentFilter.add(
            "EXISTS (SELECT 1 FROM audit_segment_key k WHERE k.key_id = ? AND k.chain = s.chain AND k.first_seq = s.first_seq)", query.keyID)
        for term in [query.userName.map(AuditSegment.term(user:)), query.eventName.map(AuditSegment.term(event:))] {
            segmentFilter.add(
                "(s.terms_indexed = 0 OR EXISTS (SELECT 1 FROM audit_segment_term t WHERE t.term = ? AND t.chain = s.chain AND t.first_seq = s.first_seq))",
                term)
        }
        segmentFilter.add(query.oldestFirst ? "s.last_ms >= ?" : "s.first_ms <= ?", query.after?.millis)
        let segmentSQL =
            "SELECT s.chain, s.first_seq, s.first_ms, s.last_ms FROM audit_segment s \(segmentFilter.whereClause)"
            + (query.oldestFirst ? " ORDER BY s.first_ms ASC" : " ORDER BY s.last_ms DESC")
        let (bound, boundSegments) = (hotFilter.arguments, segmentFilter.arguments)
        // Hot rows and the segments' summaries in one snapshot; a segment pruned before it is
        // loaded has nothing the answer may include.
        let (hot, summaries) = try await read { db in
            (
                try Row.fetchAll(db, sql: sql, arguments: bound).map(Self.auditEvent),
                try Row.fetchAll(db, sql: segmentSQL, arguments: boundSegments).map { row in
                    AuditSegmentSummary(
                        chain: row["chain"], firstSequence: row["first_seq"], firstTime: Date(millis: row["first_ms"]),
                        lastTime: Date(millis: row["last_ms"]))
                }
            )
        }
        return try await query.merge(hot: hot, segments: summaries) { summary throws(StoreError) in
            try await read { db in
                try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM audit_segment WHERE chain = ? AND first_seq = ?"),
                    arguments: [summary.chain, summary.firstSequence]
                ).map(Self.auditSegment)
            }
        }
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

    // MARK: Custom key stores

    public func customKeyStore(id: String) async throws(StoreError) -> CustomKeyStore? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM custom_key_store WHERE id = ?"), arguments: [id]).map(Self.customKeyStore)
        }
    }

    public func customKeyStores(account: String, region: String) async throws(StoreError) -> [CustomKeyStore] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM custom_key_store WHERE account = ? AND region = ? ORDER BY creation_ms, id"),
                arguments: [account, region]
            ).map(Self.customKeyStore)
        }
    }

    public func keyCount(customKeyStoreID: String) async throws(StoreError) -> Int {
        try await read { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM kms_key WHERE custom_key_store_id = ?"), arguments: [customKeyStoreID])
                ?? 0
        }
    }

    public func hsmCluster(id: String) async throws(StoreError) -> HSMCluster? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM hsm_cluster WHERE id = ?"), arguments: [id]).map(Self.hsmCluster)
        }
    }

    public func hsmClusters() async throws(StoreError) -> [HSMCluster] {
        try await read { db in try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM hsm_cluster ORDER BY creation_ms, id")).map(Self.hsmCluster) }
    }

    // MARK: Rows

    /// Free text stored as UTF-8 bytes (`String.bytes`); rows written before v11 hold TEXT,
    /// which SQLite returns as the same bytes.
    static func text(_ bytes: Data) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    static func tag(_ row: Row) -> Tag {
        Tag(key: text(row["tag_key"]), value: text(row["tag_value"]))
    }

    static func key(_ row: Row) throws -> KMSKey {
        guard let usage = KeyUsage(rawValue: row["usage"]), let spec = KeySpec(rawValue: row["spec"]),
            let origin = KeyOrigin(rawValue: row["origin"]), let state = KeyState(rawValue: row["state"]),
            let manager = KeyManager(rawValue: row["key_manager"])
        else { throw StoreError.unavailable }
        return KMSKey(
            id: row["id"], account: row["account"], region: row["region"], creationDate: Date(millis: row["creation_ms"]),
            description: text(row["description"]), usage: usage, spec: spec, origin: origin, state: state,
            deletionDate: (row["deletion_ms"] as Int64?).map(Date.init(millis:)), pendingWindowInDays: row["pending_window_days"],
            policy: row["policy"], currentMaterialVersion: UInt32(row["current_material_version"] as Int64),
            automaticRotation: Self.automaticRotation(row), materialValidTo: (row["material_valid_to_ms"] as Int64?).map(Date.init(millis:)),
            primaryRegion: row["primary_region"], keyManager: manager, customKeyStoreID: row["custom_key_store_id"], xksKeyID: row["xks_key_id"],
            revision: row["revision"])
    }

    static func customKeyStore(_ row: Row) throws -> CustomKeyStore {
        guard let type = CustomKeyStoreType(rawValue: row["type"]), let state = ConnectionState(rawValue: row["connection_state"]) else {
            throw StoreError.unavailable
        }
        return CustomKeyStore(
            id: row["id"], account: row["account"], region: row["region"], name: row["name"], type: type,
            creationDate: Date(millis: row["creation_ms"]), connectionState: state,
            connectionErrorCode: (row["connection_error"] as String?).flatMap(ConnectionErrorCode.init(rawValue:)),
            cloudHSMClusterID: row["cluster_id"], trustAnchorCertificate: row["trust_anchor"],
            xksProxy: xksProxy(
                endpoint: row["xks_uri_endpoint"], path: row["xks_uri_path"], connectivity: row["xks_connectivity"],
                accessKeyID: row["xks_access_key_id"]),
            sealedPassword: Array(row["sealed_password"] as Data), revision: row["revision"])
    }

    static func xksProxy(endpoint: String?, path: String?, connectivity: String?, accessKeyID: String?) -> XKSProxySettings? {
        guard let endpoint, let path, let connectivity, let accessKeyID else { return nil }
        return XKSProxySettings(uriEndpoint: endpoint, uriPath: path, connectivity: connectivity, accessKeyID: accessKeyID)
    }

    static func hsmCluster(_ row: Row) -> HSMCluster {
        HSMCluster(
            id: row["id"], modulePath: row["module_path"], tokenLabel: row["token_label"], trustAnchorCertificate: row["trust_anchor"],
            creationDate: Date(millis: row["creation_ms"]))
    }

    static func automaticRotation(_ row: Row) -> AutomaticRotation? {
        guard let days = row["rotation_period_days"] as Int?, let next = row["next_rotation_ms"] as Int64? else { return nil }
        return AutomaticRotation(periodInDays: days, nextDate: Date(millis: next))
    }

    static func auditSegment(_ row: Row) -> AuditSegment {
        AuditSegment(
            chain: row["chain"], firstSequence: row["first_seq"], lastSequence: row["last_seq"], firstTime: Date(millis: row["first_ms"]),
            lastTime: Date(millis: row["last_ms"]), lastDigest: Array(row["last_digest"] as Data), keyIDs: [], terms: [],
            compressed: Array(row["events"] as Data))
    }

    static func auditEvent(_ row: Row) -> StoredAuditEvent {
        StoredAuditEvent(
            chain: row["chain"], sequence: row["seq"], eventTime: Date(millis: row["event_ms"]), bytes: Array(row["record"] as Data),
            userName: row.hasColumn("user_name") ? row["user_name"] : nil)
    }

    static func alias(_ row: Row) -> Alias {
        Alias(
            name: row["name"], account: row["account"], region: row["region"], targetKeyID: row["target_key_id"],
            creationDate: Date(millis: row["creation_ms"]), lastUpdatedDate: Date(millis: row["updated_ms"]))
    }

    static func accessKey(_ row: Row) throws -> AccessKey {
        guard let principal = Principal(account: row["account"], path: row["name"]) else { throw StoreError.unavailable }
        return AccessKey(id: row["id"], principal: principal, sealedSecret: Array(row["sealed_secret"] as Data))
    }

    static func grant(_ row: Row) throws -> Grant {
        let operations = (row["operations"] as String).split(separator: ",").compactMap { GrantOperation(rawValue: String($0)) }
        let constraints = try (row["constraints"] as String?).map { try JSONDecoder().decode(GrantConstraints.self, from: Data($0.utf8)) }
        return Grant(
            id: row["id"], keyID: row["key_id"], keyARN: row["key_arn"], name: row["name"], granteePrincipal: row["grantee"],
            retiringPrincipal: row["retiring"], operations: operations, constraints: constraints,
            issuingAccount: row["issuing_account"], creationDate: Date(millis: row["creation_ms"]),
            granteeIsServicePrincipal: row["grantee_is_service"], retiringIsServicePrincipal: row["retiring_is_service"])
    }

    static func keyMaterial(_ row: Row) -> KeyMaterialRecord {
        KeyMaterialRecord(
            keyID: row["key_id"], region: row["region"], version: UInt32(row["version"] as Int64), wrapped: Array(row["wrapped"] as Data),
            creationDate: Date(millis: row["creation_ms"]), materialID: row["material_id"],
            rotationType: (row["rotation_type"] as String?).flatMap(RotationType.init(rawValue:)), description: row["description"],
            validTo: (row["valid_to_ms"] as Int64?).map(Date.init(millis:)))
    }
}

// MARK: Migration

extension SQLiteStore {
    /// Rows of one of `StoreRows.tables` after `rowID`, at most `limit`, and the last one's row ID.
    public func rows(of table: String, afterRowID rowID: Int64, limit: Int) async throws(StoreError) -> (StoreRows.Chunk, lastRowID: Int64?) {
        guard StoreRows.tables.contains(table) else { throw .notFound }
        return try await read { db in
            let statement = try db.makeStatement(sql: "SELECT rowid AS migration_rowid, * FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?")
            let columns = Array(statement.columnNames.dropFirst())
            var chunk = StoreRows.Chunk(table: table, columns: columns, rows: [])
            var last: Int64?
            for row in try Row.fetchAll(statement, arguments: [rowID, limit]) {
                last = row["migration_rowid"]
                chunk.rows.append(
                    columns.indices.map { index in
                        switch (row[index + 1] as DatabaseValue).storage {
                        case .null: .null
                        case .int64(let value): .integer(value)
                        case .double(let value): .real(value)
                        case .string(let value): .text(value)
                        case .blob(let value): .blob(Array(value))
                        }
                    })
            }
            return (chunk, last)
        }
    }
}

/// The conditions of a query's WHERE clause, with the values their `?` bind.
private struct Filter {
    var conditions: [String] = []
    var arguments = StatementArguments()

    /// Adds `condition` (one `?`), unless the value is nil.
    mutating func add(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
        guard let value else { return }
        conditions.append(condition)
        arguments += [value]
    }

    var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }
}
