import Foundation
import KMSCore
import KMSStorage
import PostgresNIO

/// Reads, each one statement (so each sees committed data only), and the decoding of rows
/// into the domain's values.
extension PostgresStore {
    public func key(id: String, region: String) async throws(StoreError) -> KMSKey? {
        try await decode(rows("SELECT * FROM kms_key WHERE id = \(id) AND region = \(region)"), Self.key).first
    }

    public func relatedKeys(id: String) async throws(StoreError) -> [KMSKey] {
        try await decode(rows("SELECT * FROM kms_key WHERE id = \(id) ORDER BY region"), Self.key)
    }

    public func keys(account: String, region: String, afterID: String?, limit: Int) async throws(StoreError) -> [KMSKey] {
        try await decode(
            rows(
                """
                SELECT * FROM kms_key WHERE account = \(account) AND region = \(region) AND id > \(afterID ?? "") ORDER BY id LIMIT \(limit)
                """), Self.key)
    }

    public func keyCount(account: String, region: String) async throws(StoreError) -> Int {
        try await decode(rows("SELECT count FROM key_count WHERE account = \(account) AND region = \(region)")) { try Int($0.decode(Int64.self)) }
            .first ?? 0
    }

    public func keyCensus() async throws(StoreError) -> [KeyCensusEntry] {
        try await decode(rows("SELECT state, spec, COUNT(*) FROM kms_key GROUP BY state, spec")) {
            let (state, spec, count) = try $0.decode((String, String, Int64).self)
            return KeyCensusEntry(state: state, spec: spec, count: Int(count))
        }
    }

    public func keysDueForDeletion(at date: Date) async throws(StoreError) -> [KMSKey] {
        try await decode(
            rows(
                """
                SELECT * FROM kms_key WHERE state = \(KeyState.pendingDeletion.rawValue) AND deletion_ms <= \(date.millis) ORDER BY deletion_ms
                """), Self.key)
    }

    public func keyMaterial(keyID: String, region: String, version: UInt32) async throws(StoreError) -> KeyMaterialRecord? {
        try await decode(
            rows(
                """
                SELECT * FROM key_material WHERE key_id = \(keyID) AND region = \(region) AND version = \(Int64(version))
                """), Self.keyMaterial
        ).first
    }

    public func keyMaterials(keyID: String, region: String) async throws(StoreError) -> [KeyMaterialRecord] {
        try await decode(rows("SELECT * FROM key_material WHERE key_id = \(keyID) AND region = \(region) ORDER BY version"), Self.keyMaterial)
    }

    public func keysDueForRotation(at date: Date) async throws(StoreError) -> [KMSKey] {
        try await decode(
            rows(
                """
                SELECT * FROM kms_key WHERE state = \(KeyState.enabled.rawValue) AND next_rotation_ms <= \(date.millis)
                    AND (primary_region IS NULL OR primary_region = region)
                ORDER BY next_rotation_ms
                """), Self.key)
    }

    public func expiredKeyMaterials(by date: Date) async throws(StoreError) -> [KeyMaterialRecord] {
        try await decode(
            rows(
                """
                SELECT * FROM key_material WHERE valid_to_ms <= \(date.millis) AND length(wrapped) > 0 ORDER BY valid_to_ms
                """), Self.keyMaterial)
    }

    public func importParameters(id: String) async throws(StoreError) -> ImportParameters? {
        try await decode(rows("SELECT id, key_id, region, algorithm, wrapped_private_key, valid_to_ms FROM import_parameters WHERE id = \(id)")) {
            row in
            let (id, keyID, region, algorithm, wrapped, validTo) = try row.decode((String, String, String, String, Data, Int64).self)
            guard let algorithm = ImportWrappingAlgorithm(rawValue: algorithm) else { throw StoreError.unavailable }
            return ImportParameters(
                id: id, keyID: keyID, region: region, algorithm: algorithm, wrappedPrivateKey: Array(wrapped),
                validTo: Date(millis: validTo))
        }.first
    }

    public func alias(account: String, region: String, name: String) async throws(StoreError) -> Alias? {
        try await decode(rows("SELECT * FROM alias WHERE account = \(account) AND region = \(region) AND name = \(name)"), Self.alias).first
    }

    public func aliases(account: String, region: String, targetKeyID: String?, afterName: String?, limit: Int) async throws(StoreError) -> [Alias] {
        if let targetKeyID {
            return try await decode(
                rows(
                    """
                    SELECT * FROM alias WHERE account = \(account) AND region = \(region) AND target_key_id = \(targetKeyID)
                        AND name > \(afterName ?? "") ORDER BY name LIMIT \(limit)
                    """), Self.alias)
        }
        return try await decode(
            rows(
                """
                SELECT * FROM alias WHERE account = \(account) AND region = \(region) AND name > \(afterName ?? "") ORDER BY name LIMIT \(limit)
                """), Self.alias)
    }

    public func tags(keyID: String, region: String) async throws(StoreError) -> [Tag] {
        try await decode(rows("SELECT tag_key, tag_value FROM key_tag WHERE key_id = \(keyID) AND region = \(region) ORDER BY tag_key"), Self.tag)
    }

    public func principals(account: String) async throws(StoreError) -> [Principal] {
        try await decode(rows("SELECT account, name FROM principal WHERE account = \(account) ORDER BY name")) { row in
            let (account, name) = try row.decode((String, String).self)
            guard let principal = Principal(account: account, path: name) else { throw StoreError.unavailable }
            return principal
        }
    }

    public func principalIncarnation(of principal: Principal) async throws(StoreError) -> String? {
        try await decode(rows("SELECT incarnation FROM principal WHERE account = \(principal.account) AND name = \(principal.path)")) {
            try $0.decode(String.self)
        }.first
    }

    public func identityPolicies(of principal: Principal) async throws(StoreError) -> [IdentityPolicy] {
        try await decode(
            rows(
                """
                SELECT name, document FROM identity_policy WHERE account = \(principal.account) AND principal = \(principal.path) ORDER BY name
                """)
        ) { row in
            let (name, document) = try row.decode((String, String).self)
            return IdentityPolicy(name: name, document: document)
        }
    }

    public func principalTags(of principal: Principal) async throws(StoreError) -> [Tag] {
        try await decode(
            rows(
                """
                SELECT tag_key, tag_value FROM principal_tag WHERE account = \(principal.account) AND principal = \(principal.path) ORDER BY tag_key
                """), Self.tag)
    }

    public func grant(id: String) async throws(StoreError) -> Grant? {
        try await decode(rows("SELECT * FROM key_grant WHERE id = \(id)"), Self.grant).first
    }

    public func grants(keyID: String, region: String) async throws(StoreError) -> [Grant] {
        try await decode(rows("SELECT * FROM key_grant WHERE key_id = \(keyID) AND region = \(region) ORDER BY id"), Self.grant)
    }

    public func grants(keyID: String, region: String, grantees: [String]) async throws(StoreError) -> [Grant] {
        guard !grantees.isEmpty else { return [] }
        return try await decode(
            rows(
                """
                SELECT * FROM key_grant WHERE key_id = \(keyID) AND region = \(region) AND grantee = ANY(\(grantees)) ORDER BY id
                """), Self.grant)
    }

    public func grants(retiringPrincipal: String, afterID: String?, limit: Int) async throws(StoreError) -> [Grant] {
        try await decode(
            rows(
                """
                SELECT * FROM key_grant WHERE retiring = \(retiringPrincipal) AND id > \(afterID ?? "") ORDER BY id LIMIT \(limit)
                """), Self.grant)
    }

    public func grants(naming principal: String) async throws(StoreError) -> [Grant] {
        try await decode(rows("SELECT * FROM key_grant WHERE grantee = \(principal) OR retiring = \(principal) ORDER BY id"), Self.grant)
    }

    public func keys(withPolicyMentioning text: String) async throws(StoreError) -> [KMSKey] {
        try await decode(rows("SELECT * FROM kms_key WHERE strpos(policy, \(text)) > 0 ORDER BY id, region"), Self.key)
    }

    public func accessKey(id: String) async throws(StoreError) -> AccessKey? {
        try await decode(rows("SELECT id, account, name, sealed_secret FROM access_key WHERE id = \(id)"), Self.accessKey).first
    }

    public func accessKeys(of principal: Principal) async throws(StoreError) -> [AccessKey] {
        try await decode(
            rows(
                """
                SELECT id, account, name, sealed_secret FROM access_key WHERE account = \(principal.account) AND name = \(principal.path) ORDER BY id
                """), Self.accessKey)
    }

    public func auditChains() async throws(StoreError) -> [AuditChainState] {
        try await decode(rows("SELECT name, base_seq, base_digest, head_seq, head_digest FROM audit_chain ORDER BY name"), Self.auditChainState)
    }

    /// Hot rows first, then segments: an event sealed into a segment between the two reads is
    /// in both answers (and kept once), never in neither.
    public func auditEvents(chain: String, afterSequence: Int64, limit: Int) async throws(StoreError) -> [StoredAuditEvent] {
        let hot = try await decode(
            rows(
                """
                SELECT chain, seq, event_ms, record FROM audit_event WHERE chain = \(chain) AND seq > \(afterSequence) ORDER BY seq LIMIT \(limit)
                """), Self.auditEvent)
        var events: [StoredAuditEvent] = []
        var after = afterSequence
        let firstHot = hot.first?.sequence ?? .max
        while events.count < limit, after + 1 < firstHot,
            let segment = try await decode(
                rows(
                    "SELECT chain, first_seq, last_seq, first_ms, last_ms, last_digest, events FROM audit_segment WHERE chain = \(chain) AND last_seq > \(after) ORDER BY first_seq LIMIT 1"
                ), Self.auditSegment
            ).first
        {
            for entry in try segment.entries() where entry.sequence > after && entry.sequence < firstHot && events.count < limit {
                events.append(StoredAuditEvent(chain: chain, sequence: entry.sequence, eventTime: entry.eventTime, bytes: entry.bytes))
            }
            after = segment.lastSequence
        }
        return Array((events + hot).prefix(limit))
    }

    public func hotAuditEvents(chain: String, limit: Int) async throws(StoreError) -> [AuditSegmentEntry] {
        let found = try await rows(
            """
            SELECT e.seq, e.event_ms, e.event_name, e.account, e.region, e.user_name, e.access_key_id, e.read_only, e.error_code, e.record,
                ARRAY(SELECT r.key_id FROM audit_resource r WHERE r.chain = e.chain AND r.seq = e.seq ORDER BY r.key_id)
            FROM audit_event e WHERE e.chain = \(chain) ORDER BY e.seq LIMIT \(limit)
            """)
        return try decode(found) { row in
            let (sequence, millis, eventName, account, region, userName, accessKeyID, readOnly, errorCode, record, keyIDs) = try row.decode(
                (Int64, Int64, String, String?, String?, String?, String?, Bool, String?, Data, [String]).self)
            return AuditSegmentEntry(
                sequence: sequence, eventTime: Date(millis: millis), eventName: eventName, account: account, region: region, userName: userName,
                accessKeyID: accessKeyID, readOnly: readOnly, errorCode: errorCode, keyIDs: keyIDs, bytes: Array(record))
        }
    }

    public func auditEvents(matching query: AuditQuery) async throws(StoreError) -> AuditPage {
        var hotFilter = Filter()
        hotFilter.add({ "e.event_ms >= \($0)" }, query.startTime?.millis)
        hotFilter.add({ "e.event_ms < \($0)" }, query.endTime?.millis)
        hotFilter.add({ "e.event_name = \($0)" }, query.eventName)
        hotFilter.add({ "e.user_name = \($0)" }, query.userName)
        hotFilter.add({ "e.access_key_id = \($0)" }, query.accessKeyID)
        hotFilter.add({ "e.region = \($0)" }, query.region)
        hotFilter.add({ "e.read_only = \($0)" }, query.readOnly)
        hotFilter.add({ "e.account = \($0)" }, query.account)
        hotFilter.add({ "position(\($0) IN e.record) > 0" }, query.recordContains.map { ByteBuffer(bytes: $0) })
        hotFilter.add({ "EXISTS (SELECT 1 FROM audit_resource r WHERE r.key_id = \($0) AND r.chain = e.chain AND r.seq = e.seq)" }, query.keyID)
        hotFilter.add({ "e.event_name = ANY(\($0))" }, query.eventNames)
        if query.errorsOnly { hotFilter.conditions.append("e.error_code IS NOT NULL") }
        if query.succeededOnly { hotFilter.conditions.append("e.error_code IS NULL") }
        // Chains compare byte for byte (collation "C"), as `AuditQuery.precedes` compares them.
        if let after = query.after {
            let earlier = query.oldestFirst ? ">" : "<"
            let (millis, chain, sequence) = (hotFilter.bind(after.millis), hotFilter.bind(after.chain), hotFilter.bind(after.sequence))
            hotFilter.conditions.append(
                "(e.event_ms \(earlier) \(millis) OR (e.event_ms = \(millis) AND (e.chain COLLATE \"C\" > \(chain) OR (e.chain = \(chain) AND e.seq \(earlier) \(sequence)))))"
            )
        }
        let order = query.oldestFirst ? "ASC" : "DESC"
        let whereClause = hotFilter.whereClause
        hotFilter.binds.append(Int64(query.limit))
        let sql = """
            SELECT e.chain, e.seq, e.event_ms, e.record, e.user_name FROM audit_event e \(whereClause)
            ORDER BY e.event_ms \(order), e.chain COLLATE "C", e.seq \(order) LIMIT $\(hotFilter.binds.count)
            """
        let hot = try await decode(rows(PostgresQuery(unsafeSQL: sql, binds: hotFilter.binds))) { row in
            let (chain, sequence, eventMillis, record, userName) = try row.decode((String, Int64, Int64, Data, String?).self)
            return StoredAuditEvent(chain: chain, sequence: sequence, eventTime: Date(millis: eventMillis), bytes: Array(record), userName: userName)
        }
        var segmentFilter = Filter()
        segmentFilter.add({ "s.last_ms >= \($0)" }, query.startTime?.millis)
        segmentFilter.add({ "s.first_ms < \($0)" }, query.endTime?.millis)
        segmentFilter.add(
            { "EXISTS (SELECT 1 FROM audit_segment_key k WHERE k.key_id = \($0) AND k.chain = s.chain AND k.first_seq = s.first_seq)" },
            query.keyID)
        for term in [query.userName.map(AuditSegment.term(user:)), query.eventName.map(AuditSegment.term(event:))] {
            segmentFilter.add(
                {
                    "(NOT s.terms_indexed OR EXISTS (SELECT 1 FROM audit_segment_term t WHERE t.term = \($0) AND t.chain = s.chain AND t.first_seq = s.first_seq))"
                }, term)
        }
        segmentFilter.add({ query.oldestFirst ? "s.last_ms >= \($0)" : "s.first_ms <= \($0)" }, query.after?.millis)
        let segmentSQL =
            "SELECT s.chain, s.first_seq, s.first_ms, s.last_ms FROM audit_segment s \(segmentFilter.whereClause)"
            + (query.oldestFirst ? " ORDER BY s.first_ms ASC" : " ORDER BY s.last_ms DESC")
        let summaries = try await decode(rows(PostgresQuery(unsafeSQL: segmentSQL, binds: segmentFilter.binds))) { row in
            let (chain, firstSequence, firstMillis, lastMillis) = try row.decode((String, Int64, Int64, Int64).self)
            return AuditSegmentSummary(
                chain: chain, firstSequence: firstSequence, firstTime: Date(millis: firstMillis), lastTime: Date(millis: lastMillis))
        }
        return try await query.merge(hot: hot, segments: summaries) { summary throws(StoreError) in
            try await decode(
                rows(
                    "SELECT chain, first_seq, last_seq, first_ms, last_ms, last_digest, events FROM audit_segment WHERE chain = \(summary.chain) AND first_seq = \(summary.firstSequence)"
                ), Self.auditSegment
            ).first
        }
    }

    public func auditCheckpoints() async throws(StoreError) -> [SignedAuditCheckpoint] {
        try await decode(rows("SELECT statement, signature FROM audit_checkpoint ORDER BY id"), Self.checkpoint)
    }

    public func lastAuditCheckpoint() async throws(StoreError) -> SignedAuditCheckpoint? {
        try await decode(rows("SELECT statement, signature FROM audit_checkpoint ORDER BY id DESC LIMIT 1"), Self.checkpoint).first
    }

    public func auditSigningKey() async throws(StoreError) -> (wrapped: [UInt8], publicKey: [UInt8])? {
        try await decode(rows("SELECT wrapped, public_key FROM audit_signing_key WHERE id = 1")) { row in
            let (wrapped, publicKey) = try row.decode((Data, Data).self)
            return (wrapped: Array(wrapped), publicKey: Array(publicKey))
        }.first
    }

    // MARK: Custom key stores

    public func customKeyStore(id: String) async throws(StoreError) -> CustomKeyStore? {
        try await decode(rows("SELECT * FROM custom_key_store WHERE id = \(id)"), Self.customKeyStore).first
    }

    public func customKeyStores(account: String, region: String) async throws(StoreError) -> [CustomKeyStore] {
        try await decode(
            rows("SELECT * FROM custom_key_store WHERE account = \(account) AND region = \(region) ORDER BY creation_ms, id"), Self.customKeyStore)
    }

    public func keyCount(customKeyStoreID: String) async throws(StoreError) -> Int {
        try await decode(rows("SELECT COUNT(*) FROM kms_key WHERE custom_key_store_id = \(customKeyStoreID)")) { try Int($0.decode(Int64.self)) }
            .first ?? 0
    }

    public func hsmCluster(id: String) async throws(StoreError) -> HSMCluster? {
        try await decode(rows("SELECT * FROM hsm_cluster WHERE id = \(id)"), Self.hsmCluster).first
    }

    public func hsmClusters() async throws(StoreError) -> [HSMCluster] {
        try await decode(rows("SELECT * FROM hsm_cluster ORDER BY creation_ms, id"), Self.hsmCluster)
    }

    // MARK: Rows

    /// Decodes every row; a row that does not decode is damage to the database (`unavailable`, logged).
    func decode<T>(_ rows: [PostgresRow], _ transform: (PostgresRow) throws -> T) throws(StoreError) -> [T] {
        do {
            return try rows.map(transform)
        } catch {
            logger.error("stored row does not decode", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw .unavailable
        }
    }

    static func key(_ row: PostgresRow) throws -> KMSKey {
        let r = row.makeRandomAccess()
        guard let usage = KeyUsage(rawValue: try r["usage"].decode(String.self)), let spec = KeySpec(rawValue: try r["spec"].decode(String.self)),
            let origin = KeyOrigin(rawValue: try r["origin"].decode(String.self)), let state = KeyState(rawValue: try r["state"].decode(String.self)),
            let manager = KeyManager(rawValue: try r["key_manager"].decode(String.self))
        else { throw StoreError.unavailable }
        let period = try r["rotation_period_days"].decode(Int?.self), next = try r["next_rotation_ms"].decode(Int64?.self)
        return KMSKey(
            id: try r["id"].decode(String.self), account: try r["account"].decode(String.self), region: try r["region"].decode(String.self),
            creationDate: Date(millis: try r["creation_ms"].decode(Int64.self)),
            description: String(decoding: try r["description"].decode(Data.self), as: UTF8.self),
            usage: usage, spec: spec, origin: origin, state: state,
            deletionDate: try r["deletion_ms"].decode(Int64?.self).map(Date.init(millis:)),
            pendingWindowInDays: try r["pending_window_days"].decode(Int?.self), policy: try r["policy"].decode(String.self),
            currentMaterialVersion: UInt32(try r["current_material_version"].decode(Int64.self)),
            automaticRotation: period.flatMap { days in next.map { AutomaticRotation(periodInDays: days, nextDate: Date(millis: $0)) } },
            materialValidTo: try r["material_valid_to_ms"].decode(Int64?.self).map(Date.init(millis:)),
            primaryRegion: try r["primary_region"].decode(String?.self), keyManager: manager,
            customKeyStoreID: try r["custom_key_store_id"].decode(String?.self), xksKeyID: try r["xks_key_id"].decode(String?.self),
            revision: try r["revision"].decode(Int64.self))
    }

    static func xksProxy(_ r: PostgresRandomAccessRow) throws -> XKSProxySettings? {
        guard let endpoint = try r["xks_uri_endpoint"].decode(String?.self), let path = try r["xks_uri_path"].decode(String?.self),
            let connectivity = try r["xks_connectivity"].decode(String?.self), let accessKeyID = try r["xks_access_key_id"].decode(String?.self)
        else { return nil }
        return XKSProxySettings(uriEndpoint: endpoint, uriPath: path, connectivity: connectivity, accessKeyID: accessKeyID)
    }

    static func customKeyStore(_ row: PostgresRow) throws -> CustomKeyStore {
        let r = row.makeRandomAccess()
        guard let type = CustomKeyStoreType(rawValue: try r["type"].decode(String.self)),
            let state = ConnectionState(rawValue: try r["connection_state"].decode(String.self))
        else { throw StoreError.unavailable }
        return CustomKeyStore(
            id: try r["id"].decode(String.self), account: try r["account"].decode(String.self), region: try r["region"].decode(String.self),
            name: try r["name"].decode(String.self), type: type, creationDate: Date(millis: try r["creation_ms"].decode(Int64.self)),
            connectionState: state, connectionErrorCode: try r["connection_error"].decode(String?.self).flatMap(ConnectionErrorCode.init(rawValue:)),
            cloudHSMClusterID: try r["cluster_id"].decode(String?.self), trustAnchorCertificate: try r["trust_anchor"].decode(String?.self),
            xksProxy: try xksProxy(r),
            sealedPassword: Array(try r["sealed_password"].decode(Data.self)), revision: try r["revision"].decode(Int64.self))
    }

    static func hsmCluster(_ row: PostgresRow) throws -> HSMCluster {
        let r = row.makeRandomAccess()
        return HSMCluster(
            id: try r["id"].decode(String.self), modulePath: try r["module_path"].decode(String.self),
            tokenLabel: try r["token_label"].decode(String.self), trustAnchorCertificate: try r["trust_anchor"].decode(String.self),
            creationDate: Date(millis: try r["creation_ms"].decode(Int64.self)))
    }

    static func keyMaterial(_ row: PostgresRow) throws -> KeyMaterialRecord {
        let r = row.makeRandomAccess()
        return KeyMaterialRecord(
            keyID: try r["key_id"].decode(String.self), region: try r["region"].decode(String.self),
            version: UInt32(try r["version"].decode(Int64.self)), wrapped: Array(try r["wrapped"].decode(Data.self)),
            creationDate: Date(millis: try r["creation_ms"].decode(Int64.self)), materialID: try r["material_id"].decode(String.self),
            rotationType: try r["rotation_type"].decode(String?.self).flatMap(RotationType.init(rawValue:)),
            description: try r["description"].decode(String?.self), validTo: try r["valid_to_ms"].decode(Int64?.self).map(Date.init(millis:)))
    }

    static func alias(_ row: PostgresRow) throws -> Alias {
        let r = row.makeRandomAccess()
        return Alias(
            name: try r["name"].decode(String.self), account: try r["account"].decode(String.self), region: try r["region"].decode(String.self),
            targetKeyID: try r["target_key_id"].decode(String.self), creationDate: Date(millis: try r["creation_ms"].decode(Int64.self)),
            lastUpdatedDate: Date(millis: try r["updated_ms"].decode(Int64.self)))
    }

    static func tag(_ row: PostgresRow) throws -> Tag {
        let (key, value) = try row.decode((Data, Data).self)
        return Tag(key: String(decoding: key, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    static func accessKey(_ row: PostgresRow) throws -> AccessKey {
        let (id, account, name, sealed) = try row.decode((String, String, String, Data).self)
        guard let principal = Principal(account: account, path: name) else { throw StoreError.unavailable }
        return AccessKey(id: id, principal: principal, sealedSecret: Array(sealed))
    }

    static func grant(_ row: PostgresRow) throws -> Grant {
        let r = row.makeRandomAccess()
        let operations = try r["operations"].decode(String.self).split(separator: ",").compactMap { GrantOperation(rawValue: String($0)) }
        let constraints = try r["constraints"].decode(String?.self).map { try JSONDecoder().decode(GrantConstraints.self, from: Data($0.utf8)) }
        return Grant(
            id: try r["id"].decode(String.self), keyID: try r["key_id"].decode(String.self), keyARN: try r["key_arn"].decode(String.self),
            name: try r["name"].decode(String?.self), granteePrincipal: try r["grantee"].decode(String.self),
            retiringPrincipal: try r["retiring"].decode(String?.self), operations: operations, constraints: constraints,
            issuingAccount: try r["issuing_account"].decode(String.self), creationDate: Date(millis: try r["creation_ms"].decode(Int64.self)),
            granteeIsServicePrincipal: try r["grantee_is_service"].decode(Bool.self),
            retiringIsServicePrincipal: try r["retiring_is_service"].decode(Bool.self))
    }

    static func auditEvent(_ row: PostgresRow) throws -> StoredAuditEvent {
        let (chain, sequence, eventMillis, record) = try row.decode((String, Int64, Int64, Data).self)
        return StoredAuditEvent(chain: chain, sequence: sequence, eventTime: Date(millis: eventMillis), bytes: Array(record))
    }

    static func auditSegment(_ row: PostgresRow) throws -> AuditSegment {
        let (chain, first, last, firstMillis, lastMillis, lastDigest, events) = try row.decode(
            (String, Int64, Int64, Int64, Int64, Data, Data).self)
        return AuditSegment(
            chain: chain, firstSequence: first, lastSequence: last, firstTime: Date(millis: firstMillis), lastTime: Date(millis: lastMillis),
            lastDigest: Array(lastDigest), keyIDs: [], terms: [], compressed: Array(events))
    }

    static func checkpoint(_ row: PostgresRow) throws -> SignedAuditCheckpoint {
        let (statement, signature) = try row.decode((Data, Data).self)
        return SignedAuditCheckpoint(statement: Array(statement), signature: Array(signature))
    }
}

/// The conditions of a query's WHERE clause, each value bound as the next parameter.
private struct Filter {
    var conditions: [String] = []
    var binds = PostgresBindings()

    /// Adds `condition` of the value's parameter (`$N`), unless the value is nil.
    mutating func add(_ condition: (String) -> String, _ value: (some PostgresNonThrowingEncodable & Sendable)?) {
        guard let value else { return }
        binds.append(value)
        conditions.append(condition("$\(binds.count)"))
    }

    /// Binds a value for a condition written by hand: its parameter (`$N`).
    mutating func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }
}
