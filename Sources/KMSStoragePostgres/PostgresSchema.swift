import Logging
import PostgresNIO

/// The PostgreSQL schema, created under an advisory lock so that several nodes starting at
/// once create it once. Versions are recorded in `schema_version`; each later change is a new
/// step appended to `steps`, never an edit of an old one.
enum PostgresSchema {
    /// The lock's key: any number, the same on every node.
    static let migrationLock: Int64 = 0x5357_4B4D_5321
    /// Held by the transaction that adds an audit checkpoint.
    static let checkpointLock: Int64 = 0x5357_4B4D_5322

    static let steps: [(version: Int, sql: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE kms_key (
                    id TEXT NOT NULL, region TEXT NOT NULL, account TEXT NOT NULL, creation_ms BIGINT NOT NULL,
                    description BYTEA NOT NULL, usage TEXT NOT NULL, spec TEXT NOT NULL, origin TEXT NOT NULL, state TEXT NOT NULL,
                    deletion_ms BIGINT, pending_window_days INTEGER, policy TEXT NOT NULL, current_material_version BIGINT NOT NULL,
                    rotation_period_days INTEGER, next_rotation_ms BIGINT, material_valid_to_ms BIGINT, primary_region TEXT,
                    key_manager TEXT NOT NULL, revision BIGINT NOT NULL,
                    PRIMARY KEY (id, region))
                """,
                "CREATE INDEX kms_key_by_account ON kms_key (account, region, id)",
                "CREATE INDEX kms_key_by_deletion ON kms_key (state, deletion_ms)",
                "CREATE INDEX kms_key_by_rotation ON kms_key (state, next_rotation_ms)",
                """
                CREATE TABLE key_material (
                    key_id TEXT NOT NULL, region TEXT NOT NULL, version BIGINT NOT NULL, wrapped BYTEA NOT NULL,
                    creation_ms BIGINT NOT NULL, material_id TEXT NOT NULL, rotation_type TEXT, description TEXT, valid_to_ms BIGINT,
                    PRIMARY KEY (key_id, region, version), FOREIGN KEY (key_id, region) REFERENCES kms_key (id, region))
                """,
                "CREATE INDEX key_material_by_expiry ON key_material (valid_to_ms)",
                """
                CREATE TABLE import_parameters (
                    id TEXT PRIMARY KEY, key_id TEXT NOT NULL, region TEXT NOT NULL, algorithm TEXT NOT NULL,
                    wrapped_private_key BYTEA NOT NULL, valid_to_ms BIGINT NOT NULL)
                """,
                "CREATE INDEX import_parameters_by_expiry ON import_parameters (valid_to_ms)",
                """
                CREATE TABLE alias (
                    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, target_key_id TEXT NOT NULL,
                    creation_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
                    PRIMARY KEY (account, region, name), FOREIGN KEY (target_key_id, region) REFERENCES kms_key (id, region))
                """,
                "CREATE INDEX alias_by_target ON alias (target_key_id, region)",
                """
                CREATE TABLE key_tag (
                    key_id TEXT NOT NULL, region TEXT NOT NULL, tag_key BYTEA NOT NULL, tag_value BYTEA NOT NULL,
                    PRIMARY KEY (key_id, region, tag_key), FOREIGN KEY (key_id, region) REFERENCES kms_key (id, region))
                """,
                """
                CREATE TABLE principal (
                    account TEXT NOT NULL, name TEXT NOT NULL, creation_ms BIGINT NOT NULL, incarnation TEXT NOT NULL,
                    PRIMARY KEY (account, name))
                """,
                """
                CREATE TABLE access_key (
                    id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, sealed_secret BYTEA NOT NULL,
                    creation_ms BIGINT NOT NULL, FOREIGN KEY (account, name) REFERENCES principal (account, name))
                """,
                """
                CREATE TABLE identity_policy (
                    account TEXT NOT NULL, principal TEXT NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL,
                    PRIMARY KEY (account, principal, name), FOREIGN KEY (account, principal) REFERENCES principal (account, name))
                """,
                """
                CREATE TABLE principal_tag (
                    account TEXT NOT NULL, principal TEXT NOT NULL, tag_key BYTEA NOT NULL, tag_value BYTEA NOT NULL,
                    PRIMARY KEY (account, principal, tag_key), FOREIGN KEY (account, principal) REFERENCES principal (account, name))
                """,
                """
                CREATE TABLE key_grant (
                    id TEXT PRIMARY KEY, key_id TEXT NOT NULL, region TEXT NOT NULL, key_arn TEXT NOT NULL, name TEXT,
                    grantee TEXT NOT NULL, retiring TEXT, operations TEXT NOT NULL, constraints TEXT, issuing_account TEXT NOT NULL,
                    creation_ms BIGINT NOT NULL, FOREIGN KEY (key_id, region) REFERENCES kms_key (id, region))
                """,
                "CREATE INDEX key_grant_by_key ON key_grant (key_id, region, id)",
                "CREATE INDEX key_grant_by_retiring ON key_grant (retiring, id)",
                """
                CREATE TABLE audit_event (
                    chain TEXT NOT NULL, seq BIGINT NOT NULL, event_ms BIGINT NOT NULL, event_name TEXT NOT NULL, account TEXT,
                    region TEXT, user_name TEXT, access_key_id TEXT, read_only BOOLEAN NOT NULL, error_code TEXT, record BYTEA NOT NULL,
                    PRIMARY KEY (chain, seq))
                """,
                "CREATE INDEX audit_event_by_time ON audit_event (event_ms)",
                "CREATE TABLE audit_resource (key_id TEXT NOT NULL, chain TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (key_id, chain, seq))",
                """
                CREATE TABLE audit_chain (
                    name TEXT PRIMARY KEY, base_seq BIGINT NOT NULL, base_digest BYTEA NOT NULL, head_seq BIGINT NOT NULL,
                    head_digest BYTEA NOT NULL)
                """,
                """
                CREATE TABLE audit_checkpoint (
                    id BIGSERIAL PRIMARY KEY, creation_ms BIGINT NOT NULL, statement BYTEA NOT NULL, signature BYTEA NOT NULL)
                """,
                """
                CREATE TABLE audit_signing_key (
                    id INTEGER PRIMARY KEY CHECK (id = 1), wrapped BYTEA NOT NULL, public_key BYTEA NOT NULL, creation_ms BIGINT NOT NULL)
                """,
                "CREATE TABLE change_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL)",
                "INSERT INTO change_generation (id, value) VALUES (1, 0)",
                "CREATE TABLE job_lease (job TEXT PRIMARY KEY, holder TEXT NOT NULL, until_ms BIGINT NOT NULL)",
            ]
        ),
        // Keys counted as they are inserted and deleted, once per statement (a batch of
        // CreateKeys is one): CreateKey's quota check read COUNT(*), a scan of every key.
        // `swiftkms_require` fails the statement it is in (and so all of it) when its condition
        // is false: `InsertionStatement` checks with it that the audit chain heads it moves were
        // where it found them.
        (
            2,
            [
                """
                CREATE FUNCTION swiftkms_require(condition BOOLEAN) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
                BEGIN
                    IF NOT condition THEN
                        RAISE EXCEPTION 'an audit chain head moved' USING ERRCODE = 'serialization_failure';
                    END IF;
                    RETURN true;
                END $$
                """,
                """
                CREATE TABLE key_count (account TEXT NOT NULL, region TEXT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (account, region))
                """,
                "INSERT INTO key_count (account, region, count) SELECT account, region, count(*) FROM kms_key GROUP BY account, region",
                """
                CREATE FUNCTION key_counted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO key_count (account, region, count) SELECT account, region, count(*) FROM inserted GROUP BY account, region
                    ON CONFLICT (account, region) DO UPDATE SET count = key_count.count + excluded.count;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER key_counted AFTER INSERT ON kms_key REFERENCING NEW TABLE AS inserted
                FOR EACH STATEMENT EXECUTE FUNCTION key_counted()
                """,
                """
                CREATE FUNCTION key_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE key_count SET count = key_count.count - deleted_count.n
                    FROM (SELECT account, region, count(*) AS n FROM deleted GROUP BY account, region) AS deleted_count
                    WHERE key_count.account = deleted_count.account AND key_count.region = deleted_count.region;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER key_uncounted AFTER DELETE ON kms_key REFERENCING OLD TABLE AS deleted
                FOR EACH STATEMENT EXECUTE FUNCTION key_uncounted()
                """,
            ]
        ),
        // Custom key stores, the HSM tokens CloudHSM key stores name, and the keys they hold.
        (
            3,
            [
                """
                CREATE TABLE hsm_cluster (
                    id TEXT PRIMARY KEY, module_path TEXT NOT NULL, token_label TEXT NOT NULL,
                    trust_anchor TEXT NOT NULL, creation_ms BIGINT NOT NULL, UNIQUE (module_path, token_label))
                """,
                """
                CREATE TABLE custom_key_store (
                    id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
                    creation_ms BIGINT NOT NULL, connection_state TEXT NOT NULL, connection_error TEXT,
                    cluster_id TEXT, trust_anchor TEXT, sealed_password BYTEA NOT NULL, revision BIGINT NOT NULL,
                    UNIQUE (account, region, name))
                """,
                "ALTER TABLE kms_key ADD COLUMN custom_key_store_id TEXT",
                "CREATE INDEX kms_key_by_custom_key_store ON kms_key (custom_key_store_id) WHERE custom_key_store_id IS NOT NULL",
            ]
        ),
        // External key stores: their XKS proxy, and the external key of each of their keys.
        (
            4,
            [
                """
                ALTER TABLE custom_key_store ADD COLUMN xks_uri_endpoint TEXT, ADD COLUMN xks_uri_path TEXT,
                    ADD COLUMN xks_connectivity TEXT, ADD COLUMN xks_access_key_id TEXT
                """,
                "ALTER TABLE kms_key ADD COLUMN xks_key_id TEXT",
                "CREATE UNIQUE INDEX kms_key_by_xks_key ON kms_key (custom_key_store_id, xks_key_id) WHERE xks_key_id IS NOT NULL",
            ]
        ),
        // Grants to AWS service principals: whether the grantee and the retiring principal were
        // named as service principals (GranteeServicePrincipal, RetiringServicePrincipal).
        (
            5,
            [
                """
                ALTER TABLE key_grant ADD COLUMN grantee_is_service BOOLEAN NOT NULL DEFAULT false,
                    ADD COLUMN retiring_is_service BOOLEAN NOT NULL DEFAULT false
                """
            ]
        ),
        // Audit segments: the oldest events of each chain, sealed into compressed rows, and
        // the keys each segment's events name (for lookups by key).
        (
            6,
            [
                """
                CREATE TABLE audit_segment (
                    chain TEXT NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, first_ms BIGINT NOT NULL,
                    last_ms BIGINT NOT NULL, last_digest BYTEA NOT NULL, events BYTEA NOT NULL, PRIMARY KEY (chain, first_seq))
                """,
                "ALTER TABLE audit_segment ALTER COLUMN events SET STORAGE EXTERNAL",
                "CREATE INDEX audit_segment_by_time ON audit_segment (last_ms)",
                """
                CREATE TABLE audit_segment_key (
                    key_id TEXT NOT NULL, chain TEXT NOT NULL, first_seq BIGINT NOT NULL, PRIMARY KEY (key_id, chain, first_seq))
                """,
                "CREATE INDEX audit_segment_key_by_segment ON audit_segment_key (chain, first_seq)",
            ]
        ),
        // The user names and event names each segment's events carry (`AuditSegment.terms`, for
        // lookups by user or event name). Segments sealed before have no rows there
        // (`terms_indexed` false): such a lookup reads them all. The index by time holds every
        // column a lookup chooses segments by (an index-only scan, not the table's pages).
        (
            7,
            [
                "ALTER TABLE audit_segment ADD COLUMN terms_indexed BOOLEAN NOT NULL DEFAULT false",
                "DROP INDEX audit_segment_by_time",
                "CREATE INDEX audit_segment_by_time ON audit_segment (last_ms) INCLUDE (first_ms, chain, first_seq, terms_indexed)",
                """
                CREATE TABLE audit_segment_term (
                    term TEXT NOT NULL, chain TEXT NOT NULL, first_seq BIGINT NOT NULL, PRIMARY KEY (term, chain, first_seq))
                """,
                "CREATE INDEX audit_segment_term_by_segment ON audit_segment_term (chain, first_seq)",
            ]
        ),
    ]

    /// Brings the database to the newest version, once, whichever node gets the lock first.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withConnection { connection in
            try await connection.transaction(logger) {
                try await connection.execute("SELECT pg_advisory_xact_lock(\(migrationLock))", logger)
                try await connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)", logger)
                var applied: Set<Int> = []
                for try await version in try await connection.query("SELECT version FROM schema_version", logger: logger).decode(Int.self) {
                    applied.insert(version)
                }
                for step in steps where !applied.contains(step.version) {
                    for statement in step.sql {
                        try await connection.execute(PostgresQuery(unsafeSQL: statement), logger)
                    }
                    try await connection.execute("INSERT INTO schema_version (version) VALUES (\(step.version))", logger)
                }
            }
        }
    }
}
