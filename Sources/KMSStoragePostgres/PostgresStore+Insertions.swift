import Foundation
import KMSCore
import KMSStorage
import Logging
import PostgresNIO

/// A row that a mutation inserts (or, for tags and identity policies, inserts or replaces).
/// A batch of commits made only of such mutations is written in one statement, with one
/// `INSERT` per table (`InsertionStatement`), instead of one round trip per row.
struct InsertedRow {
    enum Table {
        case kmsKey, keyMaterial, importParameters, alias, keyTag, principal, accessKey, identityPolicy, principalTag, grant
        case auditEvent, auditResource

        /// The table and its columns, in the order of a row's values.
        var target: String {
            switch self {
            case .kmsKey:
                """
                kms_key (id, region, account, creation_ms, key_manager, revision, description, usage, spec, origin, state, deletion_ms,
                    pending_window_days, policy, current_material_version, rotation_period_days, next_rotation_ms, material_valid_to_ms,
                    primary_region, custom_key_store_id, xks_key_id)
                """
            case .keyMaterial: "key_material (key_id, region, version, wrapped, creation_ms, material_id, rotation_type, description, valid_to_ms)"
            case .importParameters: "import_parameters (id, key_id, region, algorithm, wrapped_private_key, valid_to_ms)"
            case .alias: "alias (account, region, name, target_key_id, creation_ms, updated_ms)"
            case .keyTag: "key_tag (key_id, region, tag_key, tag_value)"
            case .principal: "principal (account, name, creation_ms, incarnation)"
            case .accessKey: "access_key (id, account, name, sealed_secret, creation_ms)"
            case .identityPolicy: "identity_policy (account, principal, name, document)"
            case .principalTag: "principal_tag (account, principal, tag_key, tag_value)"
            case .grant:
                """
                key_grant (id, key_id, region, key_arn, name, grantee, retiring, operations, constraints, issuing_account, creation_ms,
                    grantee_is_service, retiring_is_service)
                """
            case .auditEvent:
                "audit_event (chain, seq, event_ms, event_name, account, region, user_name, access_key_id, read_only, error_code, record)"
            case .auditResource: "audit_resource (key_id, chain, seq)"
            }
        }

        /// What a row whose key exists already does: nothing here means the insert fails.
        var onConflict: String {
            switch self {
            case .keyTag: " ON CONFLICT (key_id, region, tag_key) DO UPDATE SET tag_value = excluded.tag_value"
            case .identityPolicy: " ON CONFLICT (account, principal, name) DO UPDATE SET document = excluded.document"
            case .principalTag: " ON CONFLICT (account, principal, tag_key) DO UPDATE SET tag_value = excluded.tag_value"
            default: ""
            }
        }
    }

    /// One value of a row, bound as a parameter (never pasted into the SQL text).
    struct Value {
        let bind: (inout PostgresQuery.StringInterpolation) throws -> Void

        static func of<T: PostgresThrowingDynamicTypeEncodable>(_ value: T?) -> Value {
            Value { try $0.appendInterpolation(value) }
        }
    }

    let table: Table
    let values: [Value]

    init(_ table: Table, _ values: [Value]) {
        self.table = table
        self.values = values
    }
}

extension Mutation {
    /// Whether `PostgresStore.insertedRows` writes it: it only adds rows (or replaces a tag's or
    /// an identity policy's), so that the rows of many such mutations can go in one statement.
    var isInsertion: Bool {
        switch self {
        case .insertKey, .insertKeyMaterial, .insertImportParameters, .insertAlias, .putTags, .insertPrincipal, .insertAccessKey,
            .putIdentityPolicy, .putPrincipalTags, .insertGrant, .appendAuditEvent:
            true
        case .updateKey, .deleteKey, .replaceKeyMaterial, .deleteImportParameters, .updateAlias, .deleteAlias, .removeTags,
            .deleteAccessKey, .deletePrincipal, .deleteIdentityPolicy, .removePrincipalTags, .deleteGrant, .insertAuditCheckpoint,
            .takeJobLease, .insertAuditSigningKey, .pruneAuditEvents, .insertAuditSegment, .insertCustomKeyStore, .updateCustomKeyStore,
            .deleteCustomKeyStore,
            .insertHSMCluster:
            false
        }
    }
}

extension PostgresStore {
    /// The rows a mutation inserts, or nil when it is not an insertion. An audit event is sealed
    /// onto its chain's head (read and locked on `db` the first time), which it advances.
    static func insertedRows(
        _ mutation: Mutation, _ heads: inout AuditChainHeads, _ db: PostgresConnection, _ logger: Logger
    ) async throws -> [InsertedRow]? {
        switch mutation {
        case .insertKey(let k):
            return [
                InsertedRow(
                    .kmsKey,
                    [
                        .of(k.id), .of(k.region), .of(k.account), .of(k.creationDate.millis), .of(k.keyManager.rawValue), .of(k.revision),
                        .of(k.description.bytes), .of(k.usage.rawValue), .of(k.spec.rawValue), .of(k.origin.rawValue),
                        .of(k.state.rawValue), .of(k.deletionDate?.millis), .of(k.pendingWindowInDays), .of(k.policy),
                        .of(Int64(k.currentMaterialVersion)), .of(k.automaticRotation?.periodInDays),
                        .of(k.automaticRotation?.nextDate.millis), .of(k.materialValidTo?.millis), .of(k.primaryRegion),
                        .of(k.customKeyStoreID), .of(k.xksKeyID),
                    ])
            ]
        case .insertKeyMaterial(let m):
            return [
                InsertedRow(
                    .keyMaterial,
                    [
                        .of(m.keyID), .of(m.region), .of(Int64(m.version)), .of(Data(m.wrapped)), .of(m.creationDate.millis),
                        .of(m.materialID), .of(m.rotationType?.rawValue), .of(m.description), .of(m.validTo?.millis),
                    ])
            ]
        case .insertImportParameters(let p):
            return [
                InsertedRow(
                    .importParameters,
                    [
                        .of(p.id), .of(p.keyID), .of(p.region), .of(p.algorithm.rawValue), .of(Data(p.wrappedPrivateKey)),
                        .of(p.validTo.millis),
                    ])
            ]
        case .insertAlias(let a):
            return [
                InsertedRow(
                    .alias,
                    [.of(a.account), .of(a.region), .of(a.name), .of(a.targetKeyID), .of(a.creationDate.millis), .of(a.lastUpdatedDate.millis)])
            ]
        case .putTags(let keyID, let region, let tags):
            return tags.map { InsertedRow(.keyTag, [.of(keyID), .of(region), .of($0.key.bytes), .of($0.value.bytes)]) }
        case .insertPrincipal(let p, let date):
            return [
                InsertedRow(.principal, [.of(p.account), .of(p.path), .of(date.millis), .of(Hex.encode(SecureRandom.bytes(16)))])
            ]
        case .insertAccessKey(let k, let date):
            return [
                InsertedRow(
                    .accessKey, [.of(k.id), .of(k.principal.account), .of(k.principal.path), .of(Data(k.sealedSecret)), .of(date.millis)])
            ]
        case .putIdentityPolicy(let p, let policy):
            return [InsertedRow(.identityPolicy, [.of(p.account), .of(p.path), .of(policy.name), .of(policy.document)])]
        case .putPrincipalTags(let p, let tags):
            return tags.map { InsertedRow(.principalTag, [.of(p.account), .of(p.path), .of($0.key.bytes), .of($0.value.bytes)]) }
        case .insertGrant(let g):
            let operations = g.operations.map(\.rawValue).joined(separator: ",")
            let constraints = try g.constraints.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            return [
                InsertedRow(
                    .grant,
                    [
                        .of(g.id), .of(g.keyID), .of(g.keyRegion), .of(g.keyARN), .of(g.name), .of(g.granteePrincipal),
                        .of(g.retiringPrincipal), .of(operations), .of(constraints), .of(g.issuingAccount), .of(g.creationDate.millis),
                        .of(g.granteeIsServicePrincipal), .of(g.retiringIsServicePrincipal),
                    ])
            ]
        case .appendAuditEvent(let event):
            let head = try await heads.head(of: event.chain, db, logger)
            let sequence = head.sequence + 1
            let sealed = AuditChain.seal(event, sequence: sequence, previousDigest: head.digest)
            heads.advance(event.chain, to: .init(sequence: sequence, digest: AuditChain.digest(sealed)))
            let record = InsertedRow(
                .auditEvent,
                [
                    .of(event.chain), .of(sequence), .of(event.eventTime.millis), .of(event.eventName), .of(event.account),
                    .of(event.region), .of(event.userName), .of(event.accessKeyID), .of(event.readOnly), .of(event.errorCode),
                    .of(Data(sealed)),
                ])
            return [record] + Set(event.keyIDs).map { InsertedRow(.auditResource, [.of($0), .of(event.chain), .of(sequence)]) }
        case .updateKey, .deleteKey, .replaceKeyMaterial, .deleteImportParameters, .updateAlias, .deleteAlias, .removeTags,
            .deleteAccessKey, .deletePrincipal, .deleteIdentityPolicy, .removePrincipalTags, .deleteGrant, .insertAuditCheckpoint,
            .takeJobLease, .insertAuditSigningKey, .pruneAuditEvents, .insertAuditSegment, .insertCustomKeyStore, .updateCustomKeyStore,
            .deleteCustomKeyStore,
            .insertHSMCluster:
            return nil
        }
    }
}

/// One statement that writes a whole batch of insertions: one `INSERT` per table (with every
/// row of that table) as data-modifying CTEs, the audit chains' new heads, and, when stored rows
/// changed, the change generation and its notification. PostgreSQL checks foreign keys at the
/// end of the statement, so a key and its material may come in any order; two rows with one
/// primary key make the statement fail, and nothing of it stays.
struct InsertionStatement {
    /// PostgreSQL's limit of bound parameters in one statement.
    static let parameterLimit = Int(UInt16.max)

    private var tables: [InsertedRow.Table] = []
    private var rows: [InsertedRow.Table: [InsertedRow]] = [:]
    private var heads: [(chain: String, head: AuditChainHeads.Head, from: Int64)] = []
    /// How many parameters the statement binds.
    private(set) var parameters = 0

    init(rows: [InsertedRow]) {
        for row in rows {
            if self.rows[row.table] == nil { tables.append(row.table) }
            self.rows[row.table, default: []].append(row)
            parameters += row.values.count
        }
    }

    /// Moves an audit chain's head from the sequence `from`, in the same statement, which fails
    /// (`swiftkms_require`) when the head is no longer there.
    mutating func moveHead(of chain: String, to head: AuditChainHeads.Head, from: Int64) {
        heads.append((chain, head, from))
        parameters += 4
    }

    /// The statement; `notify` also moves the change generation and notifies `channel` with
    /// `payload` after the new value and a space. Its one row: true, and the new value when it moved.
    func query(notify: (channel: String, payload: String)?) throws -> PostgresQuery {
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 1024, interpolationCount: parameters + 2)
        var ctes = 0
        func cte() -> String {
            defer { ctes += 1 }
            return ctes == 0 ? "WITH w0 AS (" : ", w\(ctes) AS ("
        }
        for table in tables {
            sql.appendLiteral(cte())
            try Self.insert(rows[table, default: []], into: table, &sql)
            sql.appendLiteral(")")
        }
        var moved: [String] = []
        for (chain, head, from) in heads {
            moved.append("w\(ctes)")
            sql.appendLiteral(cte() + "UPDATE audit_chain SET head_seq = ")
            sql.appendInterpolation(head.sequence)
            sql.appendLiteral(", head_digest = ")
            try sql.appendInterpolation(Data(head.digest))
            sql.appendLiteral(" WHERE name = ")
            sql.appendInterpolation(chain)
            sql.appendLiteral(" AND head_seq = ")
            sql.appendInterpolation(from)
            sql.appendLiteral(" RETURNING 1)")
        }
        let bumped = "w\(ctes)"
        if notify != nil { sql.appendLiteral(cte() + "UPDATE change_generation SET value = value + 1 WHERE id = 1 RETURNING value)") }
        let headsMoved = moved.map { "(SELECT count(*) FROM \($0)) = 1" }.joined(separator: " AND ")
        sql.appendLiteral(" SELECT swiftkms_require(\(headsMoved.isEmpty ? "true" : headsMoved))")
        if let notify {
            sql.appendLiteral(", (SELECT value FROM \(bumped)), pg_notify(")
            sql.appendInterpolation(notify.channel)
            sql.appendLiteral(", (SELECT value FROM \(bumped))::text || ' ' || ")
            sql.appendInterpolation(notify.payload)
            sql.appendLiteral(")")
        }
        return PostgresQuery(stringInterpolation: sql)
    }

    /// The `INSERT` of one row alone.
    static func query(_ row: InsertedRow) throws -> PostgresQuery {
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 256, interpolationCount: row.values.count)
        try insert([row], into: row.table, &sql)
        return PostgresQuery(stringInterpolation: sql)
    }

    private static func insert(_ rows: [InsertedRow], into table: InsertedRow.Table, _ sql: inout PostgresQuery.StringInterpolation) throws {
        sql.appendLiteral("INSERT INTO \(table.target) VALUES ")
        for (index, row) in rows.enumerated() {
            sql.appendLiteral(index == 0 ? "(" : ", (")
            for (column, value) in row.values.enumerated() {
                if column > 0 { sql.appendLiteral(", ") }
                try value.bind(&sql)
            }
            sql.appendLiteral(")")
        }
        sql.appendLiteral(table.onConflict)
    }
}
