import GRDB

/// The SQLite schema, as an ordered list of migrations. Add a migration; never edit one
/// that has shipped.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE kms_key (
                        id TEXT PRIMARY KEY NOT NULL,
                        account TEXT NOT NULL,
                        region TEXT NOT NULL,
                        creation_ms INTEGER NOT NULL,
                        description TEXT NOT NULL,
                        usage TEXT NOT NULL,
                        spec TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        state TEXT NOT NULL,
                        deletion_ms INTEGER,
                        pending_window_days INTEGER,
                        policy TEXT NOT NULL,
                        current_material_version INTEGER NOT NULL,
                        revision INTEGER NOT NULL
                    );
                    CREATE INDEX kms_key_by_account ON kms_key (account, region, id);
                    CREATE INDEX kms_key_by_deletion ON kms_key (state, deletion_ms);
                    CREATE TABLE key_material (
                        key_id TEXT NOT NULL REFERENCES kms_key (id),
                        version INTEGER NOT NULL,
                        wrapped BLOB NOT NULL,
                        creation_ms INTEGER NOT NULL,
                        PRIMARY KEY (key_id, version)
                    );
                    CREATE TABLE alias (
                        account TEXT NOT NULL,
                        region TEXT NOT NULL,
                        name TEXT NOT NULL,
                        target_key_id TEXT NOT NULL REFERENCES kms_key (id),
                        creation_ms INTEGER NOT NULL,
                        updated_ms INTEGER NOT NULL,
                        PRIMARY KEY (account, region, name)
                    );
                    CREATE INDEX alias_by_target ON alias (target_key_id);
                    CREATE TABLE key_tag (
                        key_id TEXT NOT NULL REFERENCES kms_key (id),
                        tag_key TEXT NOT NULL,
                        tag_value TEXT NOT NULL,
                        PRIMARY KEY (key_id, tag_key)
                    );
                    CREATE TABLE principal (
                        account TEXT NOT NULL,
                        name TEXT NOT NULL,
                        creation_ms INTEGER NOT NULL,
                        PRIMARY KEY (account, name)
                    );
                    CREATE TABLE access_key (
                        id TEXT PRIMARY KEY NOT NULL,
                        account TEXT NOT NULL,
                        name TEXT NOT NULL,
                        sealed_secret BLOB NOT NULL,
                        creation_ms INTEGER NOT NULL,
                        FOREIGN KEY (account, name) REFERENCES principal (account, name)
                    );
                    """)
        }
        // Principals by path (`root`, `user/NAME`, `role/NAME`, `service/NAME`); identity
        // policies, principal tags and grants.
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    UPDATE principal SET name = 'user/' || name WHERE name <> 'root';
                    UPDATE access_key SET name = 'user/' || name WHERE name <> 'root';
                    CREATE TABLE identity_policy (
                        account TEXT NOT NULL,
                        principal TEXT NOT NULL,
                        name TEXT NOT NULL,
                        document TEXT NOT NULL,
                        PRIMARY KEY (account, principal, name),
                        FOREIGN KEY (account, principal) REFERENCES principal (account, name)
                    );
                    CREATE TABLE principal_tag (
                        account TEXT NOT NULL,
                        principal TEXT NOT NULL,
                        tag_key TEXT NOT NULL,
                        tag_value TEXT NOT NULL,
                        PRIMARY KEY (account, principal, tag_key),
                        FOREIGN KEY (account, principal) REFERENCES principal (account, name)
                    );
                    CREATE TABLE key_grant (
                        id TEXT PRIMARY KEY NOT NULL,
                        key_id TEXT NOT NULL REFERENCES kms_key (id),
                        key_arn TEXT NOT NULL,
                        name TEXT,
                        grantee TEXT NOT NULL,
                        retiring TEXT,
                        operations TEXT NOT NULL,
                        constraints TEXT,
                        issuing_account TEXT NOT NULL,
                        creation_ms INTEGER NOT NULL
                    );
                    CREATE INDEX key_grant_by_key ON key_grant (key_id, grantee, id);
                    CREATE INDEX key_grant_by_retiring ON key_grant (retiring, id);
                    """)
        }
        // The audit trail: events chained per chain (one per server node), where each chain
        // stands, signed checkpoints and the key that signs them (wrapped by the root key).
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_event (
                        chain TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        event_ms INTEGER NOT NULL,
                        event_name TEXT NOT NULL,
                        account TEXT,
                        region TEXT,
                        user_name TEXT,
                        access_key_id TEXT,
                        read_only INTEGER NOT NULL,
                        error_code TEXT,
                        record BLOB NOT NULL,
                        PRIMARY KEY (chain, seq)
                    );
                    CREATE INDEX audit_event_by_time ON audit_event (event_ms);
                    CREATE TABLE audit_resource (
                        key_id TEXT NOT NULL,
                        chain TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        PRIMARY KEY (key_id, chain, seq)
                    );
                    CREATE TABLE audit_chain (
                        name TEXT PRIMARY KEY NOT NULL,
                        base_seq INTEGER NOT NULL,
                        base_digest BLOB NOT NULL,
                        head_seq INTEGER NOT NULL,
                        head_digest BLOB NOT NULL
                    );
                    CREATE TABLE audit_checkpoint (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        creation_ms INTEGER NOT NULL,
                        statement BLOB NOT NULL,
                        signature BLOB NOT NULL
                    );
                    CREATE TABLE audit_signing_key (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        wrapped BLOB NOT NULL,
                        public_key BLOB NOT NULL,
                        creation_ms INTEGER NOT NULL
                    );
                    """)
        }
        // Rotation: the key's automatic rotation, and each material version's ID and origin.
        migrator.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    ALTER TABLE kms_key ADD COLUMN rotation_period_days INTEGER;
                    ALTER TABLE kms_key ADD COLUMN next_rotation_ms INTEGER;
                    CREATE INDEX kms_key_by_rotation ON kms_key (state, next_rotation_ms) WHERE next_rotation_ms IS NOT NULL;
                    ALTER TABLE key_material ADD COLUMN material_id TEXT NOT NULL DEFAULT '';
                    ALTER TABLE key_material ADD COLUMN rotation_type TEXT;
                    UPDATE key_material SET material_id = lower(hex(randomblob(32)));
                    """)
        }
        // Imported key material: its expiry on the key, its description, and import parameters.
        migrator.registerMigration("v5") { db in
            try db.execute(
                sql: """
                    ALTER TABLE kms_key ADD COLUMN material_valid_to_ms INTEGER;
                    CREATE INDEX kms_key_by_material_expiry ON kms_key (material_valid_to_ms) WHERE material_valid_to_ms IS NOT NULL;
                    ALTER TABLE key_material ADD COLUMN description TEXT;
                    CREATE TABLE import_parameters (
                        id TEXT PRIMARY KEY NOT NULL,
                        key_id TEXT NOT NULL,
                        algorithm TEXT NOT NULL,
                        wrapped_private_key BLOB NOT NULL,
                        valid_to_ms INTEGER NOT NULL
                    );
                    CREATE INDEX import_parameters_by_expiry ON import_parameters (valid_to_ms);
                    """)
        }
        // Multi-Region keys: the primary and replicas of one share a key ID, one per region, so
        // a key is (id, region), and everything that belongs to one key names its region too.
        // SQLite cannot change a primary key in place: the key tables are rebuilt and copied.
        migrator.registerMigration("v6") { db in
            try db.execute(
                sql: """
                    CREATE TABLE kms_key_v6 (
                        id TEXT NOT NULL,
                        region TEXT NOT NULL,
                        account TEXT NOT NULL,
                        creation_ms INTEGER NOT NULL,
                        description TEXT NOT NULL,
                        usage TEXT NOT NULL,
                        spec TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        state TEXT NOT NULL,
                        deletion_ms INTEGER,
                        pending_window_days INTEGER,
                        policy TEXT NOT NULL,
                        current_material_version INTEGER NOT NULL,
                        rotation_period_days INTEGER,
                        next_rotation_ms INTEGER,
                        material_valid_to_ms INTEGER,
                        primary_region TEXT,
                        revision INTEGER NOT NULL,
                        PRIMARY KEY (id, region)
                    );
                    INSERT INTO kms_key_v6 (id, region, account, creation_ms, description, usage, spec, origin, state, deletion_ms,
                        pending_window_days, policy, current_material_version, rotation_period_days, next_rotation_ms, material_valid_to_ms, revision)
                    SELECT id, region, account, creation_ms, description, usage, spec, origin, state, deletion_ms,
                        pending_window_days, policy, current_material_version, rotation_period_days, next_rotation_ms, material_valid_to_ms, revision
                    FROM kms_key;

                    CREATE TABLE key_material_v6 (
                        key_id TEXT NOT NULL,
                        region TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        wrapped BLOB NOT NULL,
                        creation_ms INTEGER NOT NULL,
                        material_id TEXT NOT NULL,
                        rotation_type TEXT,
                        description TEXT,
                        PRIMARY KEY (key_id, region, version),
                        FOREIGN KEY (key_id, region) REFERENCES kms_key (id, region)
                    );
                    INSERT INTO key_material_v6 SELECT m.key_id, k.region, m.version, m.wrapped, m.creation_ms, m.material_id, m.rotation_type, m.description
                    FROM key_material m JOIN kms_key k ON k.id = m.key_id;

                    CREATE TABLE alias_v6 (
                        account TEXT NOT NULL,
                        region TEXT NOT NULL,
                        name TEXT NOT NULL,
                        target_key_id TEXT NOT NULL,
                        creation_ms INTEGER NOT NULL,
                        updated_ms INTEGER NOT NULL,
                        PRIMARY KEY (account, region, name),
                        FOREIGN KEY (target_key_id, region) REFERENCES kms_key (id, region)
                    );
                    INSERT INTO alias_v6 SELECT account, region, name, target_key_id, creation_ms, updated_ms FROM alias;

                    CREATE TABLE key_tag_v6 (
                        key_id TEXT NOT NULL,
                        region TEXT NOT NULL,
                        tag_key TEXT NOT NULL,
                        tag_value TEXT NOT NULL,
                        PRIMARY KEY (key_id, region, tag_key),
                        FOREIGN KEY (key_id, region) REFERENCES kms_key (id, region)
                    );
                    INSERT INTO key_tag_v6 SELECT t.key_id, k.region, t.tag_key, t.tag_value FROM key_tag t JOIN kms_key k ON k.id = t.key_id;

                    CREATE TABLE key_grant_v6 (
                        id TEXT PRIMARY KEY NOT NULL,
                        key_id TEXT NOT NULL,
                        region TEXT NOT NULL,
                        key_arn TEXT NOT NULL,
                        name TEXT,
                        grantee TEXT NOT NULL,
                        retiring TEXT,
                        operations TEXT NOT NULL,
                        constraints TEXT,
                        issuing_account TEXT NOT NULL,
                        creation_ms INTEGER NOT NULL,
                        FOREIGN KEY (key_id, region) REFERENCES kms_key (id, region)
                    );
                    INSERT INTO key_grant_v6 SELECT g.id, g.key_id, k.region, g.key_arn, g.name, g.grantee, g.retiring, g.operations, g.constraints,
                        g.issuing_account, g.creation_ms
                    FROM key_grant g JOIN kms_key k ON k.id = g.key_id;

                    ALTER TABLE import_parameters ADD COLUMN region TEXT NOT NULL DEFAULT '';
                    UPDATE import_parameters SET region = coalesce((SELECT region FROM kms_key WHERE id = import_parameters.key_id), '');

                    DROP TABLE key_grant;
                    DROP TABLE key_tag;
                    DROP TABLE alias;
                    DROP TABLE key_material;
                    DROP TABLE kms_key;
                    ALTER TABLE kms_key_v6 RENAME TO kms_key;
                    ALTER TABLE key_material_v6 RENAME TO key_material;
                    ALTER TABLE alias_v6 RENAME TO alias;
                    ALTER TABLE key_tag_v6 RENAME TO key_tag;
                    ALTER TABLE key_grant_v6 RENAME TO key_grant;

                    CREATE INDEX kms_key_by_account ON kms_key (account, region, id);
                    CREATE INDEX kms_key_by_deletion ON kms_key (state, deletion_ms);
                    CREATE INDEX kms_key_by_rotation ON kms_key (state, next_rotation_ms) WHERE next_rotation_ms IS NOT NULL;
                    CREATE INDEX kms_key_by_material_expiry ON kms_key (material_valid_to_ms) WHERE material_valid_to_ms IS NOT NULL;
                    CREATE INDEX alias_by_target ON alias (target_key_id, region);
                    CREATE INDEX key_grant_by_key ON key_grant (key_id, region, grantee, id);
                    CREATE INDEX key_grant_by_retiring ON key_grant (retiring, id);
                    """)
        }
        // AWS managed keys.
        migrator.registerMigration("v7") { db in
            try db.execute(sql: "ALTER TABLE kms_key ADD COLUMN key_manager TEXT NOT NULL DEFAULT 'CUSTOMER'")
        }
        // Imported material expires version by version (each import has its own ValidTo).
        migrator.registerMigration("v8") { db in
            try db.execute(
                sql: """
                    ALTER TABLE key_material ADD COLUMN valid_to_ms INTEGER;
                    UPDATE key_material SET valid_to_ms = (
                        SELECT k.material_valid_to_ms FROM kms_key k
                        WHERE k.id = key_material.key_id AND k.region = key_material.region AND k.current_material_version = key_material.version);
                    CREATE INDEX key_material_by_expiry ON key_material (valid_to_ms) WHERE valid_to_ms IS NOT NULL;
                    DROP INDEX kms_key_by_material_expiry;
                    """)
        }
        // What cached reads check (`Store.changeGeneration`), and keys counted as they are
        // inserted and deleted: CreateKey's quota check read COUNT(*), a scan of every key.
        migrator.registerMigration("v9") { db in
            try db.execute(
                sql: """
                    CREATE TABLE change_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
                    INSERT INTO change_generation (id, value) VALUES (1, 0);
                    CREATE TABLE key_count (
                        account TEXT NOT NULL, region TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (account, region)
                    ) WITHOUT ROWID;
                    INSERT INTO key_count (account, region, count) SELECT account, region, COUNT(*) FROM kms_key GROUP BY account, region;
                    CREATE TRIGGER key_counted AFTER INSERT ON kms_key BEGIN
                        INSERT INTO key_count (account, region, count) VALUES (NEW.account, NEW.region, 1)
                        ON CONFLICT (account, region) DO UPDATE SET count = count + 1;
                    END;
                    CREATE TRIGGER key_uncounted AFTER DELETE ON kms_key BEGIN
                        UPDATE key_count SET count = count - 1 WHERE account = OLD.account AND region = OLD.region;
                    END;
                    """)
        }
        // Each principal's incarnation: tokens made by a principal (forward access) name it, so
        // that a principal deleted and created again under the same name does not inherit them.
        migrator.registerMigration("v10") { db in
            try db.execute(
                sql: """
                    ALTER TABLE principal ADD COLUMN incarnation TEXT;
                    UPDATE principal SET incarnation = lower(hex(randomblob(16)));
                    CREATE INDEX key_grant_by_grantee ON key_grant (grantee);
                    """)
        }
        // Descriptions and tags as the BLOB of their UTF-8 bytes: as TEXT, a NUL character
        // ended them. The cast keeps the bytes, and the order and uniqueness of tag keys.
        migrator.registerMigration("v11") { db in
            try db.execute(
                sql: """
                    UPDATE kms_key SET description = CAST(description AS BLOB);
                    UPDATE key_tag SET tag_key = CAST(tag_key AS BLOB), tag_value = CAST(tag_value AS BLOB);
                    UPDATE principal_tag SET tag_key = CAST(tag_key AS BLOB), tag_value = CAST(tag_value AS BLOB);
                    """)
        }
        // Leases of the jobs one process at a time may run (audit retention).
        migrator.registerMigration("v12") { db in
            try db.execute(sql: "CREATE TABLE job_lease (job TEXT PRIMARY KEY, holder TEXT NOT NULL, until_ms INTEGER NOT NULL)")
        }
        // Custom key stores, the HSM tokens CloudHSM key stores name, and the keys they hold.
        migrator.registerMigration("v13") { db in
            try db.execute(
                sql: """
                    CREATE TABLE hsm_cluster (
                        id TEXT PRIMARY KEY, module_path TEXT NOT NULL, token_label TEXT NOT NULL,
                        trust_anchor TEXT NOT NULL, creation_ms INTEGER NOT NULL, UNIQUE (module_path, token_label)
                    );
                    CREATE TABLE custom_key_store (
                        id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
                        creation_ms INTEGER NOT NULL, connection_state TEXT NOT NULL, connection_error TEXT,
                        cluster_id TEXT, trust_anchor TEXT, sealed_password BLOB NOT NULL, revision INTEGER NOT NULL,
                        UNIQUE (account, region, name)
                    );
                    ALTER TABLE kms_key ADD COLUMN custom_key_store_id TEXT;
                    CREATE INDEX kms_key_by_custom_key_store ON kms_key (custom_key_store_id) WHERE custom_key_store_id IS NOT NULL;
                    """)
        }
        // External key stores: their XKS proxy, and the external key of each of their keys
        // (one KMS key per external key in a store).
        migrator.registerMigration("v14") { db in
            try db.execute(
                sql: """
                    ALTER TABLE custom_key_store ADD COLUMN xks_uri_endpoint TEXT;
                    ALTER TABLE custom_key_store ADD COLUMN xks_uri_path TEXT;
                    ALTER TABLE custom_key_store ADD COLUMN xks_connectivity TEXT;
                    ALTER TABLE custom_key_store ADD COLUMN xks_access_key_id TEXT;
                    ALTER TABLE kms_key ADD COLUMN xks_key_id TEXT;
                    CREATE UNIQUE INDEX kms_key_by_xks_key ON kms_key (custom_key_store_id, xks_key_id) WHERE xks_key_id IS NOT NULL;
                    """)
        }
        // Grants to AWS service principals: whether the grantee and the retiring principal were
        // named as service principals (GranteeServicePrincipal, RetiringServicePrincipal).
        migrator.registerMigration("v15") { db in
            try db.execute(
                sql: """
                    ALTER TABLE key_grant ADD COLUMN grantee_is_service INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE key_grant ADD COLUMN retiring_is_service INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        // Audit segments: the oldest events of each chain, sealed into compressed rows, and
        // the keys each segment's events name (for lookups by key).
        migrator.registerMigration("v16") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_segment (
                        chain TEXT NOT NULL,
                        first_seq INTEGER NOT NULL,
                        last_seq INTEGER NOT NULL,
                        first_ms INTEGER NOT NULL,
                        last_ms INTEGER NOT NULL,
                        last_digest BLOB NOT NULL,
                        events BLOB NOT NULL,
                        PRIMARY KEY (chain, first_seq)
                    );
                    CREATE INDEX audit_segment_by_time ON audit_segment (last_ms);
                    CREATE TABLE audit_segment_key (
                        key_id TEXT NOT NULL, chain TEXT NOT NULL, first_seq INTEGER NOT NULL, PRIMARY KEY (key_id, chain, first_seq)
                    );
                    CREATE INDEX audit_segment_key_by_segment ON audit_segment_key (chain, first_seq);
                    """)
        }
        // What each change generation made stale (`Store.changes`): caches drop those entries
        // instead of all of theirs. The last 4,096 generations are kept.
        migrator.registerMigration("v17") { db in
            try db.execute(sql: "CREATE TABLE change_log (generation INTEGER PRIMARY KEY, scopes TEXT NOT NULL)")
        }
        // The user names and event names each segment's events carry (`AuditSegment.terms`, for
        // lookups by user or event name). Segments sealed before have no rows there
        // (`terms_indexed` 0): such a lookup reads them all. The index by time holds every
        // column a lookup chooses segments by: choosing reads the small index, not one page of
        // the table per segment (its rows hold the compressed events).
        migrator.registerMigration("v18") { db in
            try db.execute(
                sql: """
                    ALTER TABLE audit_segment ADD COLUMN terms_indexed INTEGER NOT NULL DEFAULT 0;
                    DROP INDEX audit_segment_by_time;
                    CREATE INDEX audit_segment_by_time ON audit_segment (last_ms, first_ms, chain, first_seq, terms_indexed);
                    CREATE TABLE audit_segment_term (
                        term TEXT NOT NULL, chain TEXT NOT NULL, first_seq INTEGER NOT NULL, PRIMARY KEY (term, chain, first_seq)
                    );
                    CREATE INDEX audit_segment_term_by_segment ON audit_segment_term (chain, first_seq);
                    """)
        }
        return migrator
    }
}
