import Foundation
import GRDB
import KMSStorage
import Testing

@testable import KMSStorageSQLite

/// A database made by an earlier release opens with everything in it: v6 rebuilt the key
/// tables around (key ID, region), and must carry every row across.
@Suite struct SchemaMigrationTests {
    @Test func aVersion5DatabaseKeepsItsKeysMaterialAliasesTagsGrantsAndImportParameters() async throws {
        let (path, directory) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab"
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v5")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO kms_key (id, account, region, creation_ms, description, usage, spec, origin, state, policy,
                            current_material_version, revision, rotation_period_days, next_rotation_ms)
                        VALUES (?, '111122223333', 'us-west-2', 1700000000000, 'old', 'ENCRYPT_DECRYPT', 'SYMMETRIC_DEFAULT', 'AWS_KMS', 'Enabled', '{}',
                            2, 5, 90, 1800000000000);
                        INSERT INTO key_material (key_id, version, wrapped, creation_ms, material_id, rotation_type) VALUES (?, 1, x'0102', 1, 'aa', NULL);
                        INSERT INTO key_material (key_id, version, wrapped, creation_ms, material_id, rotation_type) VALUES (?, 2, x'0304', 2, 'bb', 'ON_DEMAND');
                        INSERT INTO alias (account, region, name, target_key_id, creation_ms, updated_ms) VALUES ('111122223333', 'us-west-2', 'alias/kept', ?, 1, 1);
                        INSERT INTO key_tag (key_id, tag_key, tag_value) VALUES (?, 'k', 'v');
                        INSERT INTO key_grant (id, key_id, key_arn, grantee, operations, issuing_account, creation_ms)
                        VALUES ('g1', ?, 'arn:aws:kms:us-west-2:111122223333:key/\(id)', 'arn:aws:iam::111122223333:user/a', 'Decrypt', '111122223333', 1);
                        INSERT INTO import_parameters (id, key_id, algorithm, wrapped_private_key, valid_to_ms) VALUES ('p1', ?, 'RSAES_OAEP_SHA_256', x'05', 9);
                        """, arguments: [id, id, id, id, id, id, id])
            }
        }
        let store = try SQLiteStore(path: path)
        let key = try #require(try await store.key(id: id, region: "us-west-2"))
        #expect(key.description == "old" && key.revision == 5 && key.currentMaterialVersion == 2 && key.primaryRegion == nil)
        #expect(key.automaticRotation?.periodInDays == 90)
        let materials = try await store.keyMaterials(keyID: id, region: "us-west-2")
        #expect(
            materials.map(\.wrapped) == [[1, 2], [3, 4]] && materials.map(\.materialID) == ["aa", "bb"] && materials[1].rotationType == .onDemand)
        #expect(try await store.alias(account: "111122223333", region: "us-west-2", name: "alias/kept")?.targetKeyID == id)
        #expect(try await store.tags(keyID: id, region: "us-west-2") == [Tag(key: "k", value: "v")])
        #expect(try await store.keyCount(account: "111122223333", region: "us-west-2") == 1)
        #expect(try await store.grants(keyID: id, region: "us-west-2").map(\.id) == ["g1"])
        #expect(try await store.importParameters(id: "p1")?.region == "us-west-2")
        // Foreign keys hold on the rebuilt tables: a key with dependents deletes whole.
        try await store.commit([.deleteKey(id: id, region: "us-west-2", revision: 5)])
        #expect(try await store.relatedKeys(id: id).isEmpty)
        #expect(try await store.grant(id: "g1") == nil)
    }
}
