import GRDB

/// The SQLite schema, as an ordered list of migrations. Add a migration; never edit one
/// that has shipped.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
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
        return migrator
    }
}
