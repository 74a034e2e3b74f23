import Foundation
import GRDB
import KMSStorage
import KMSStoreTesting
import Testing

@testable import KMSStorageSQLite

/// A fresh database file in a temporary directory.
func temporaryDatabase() throws -> (path: String, directory: URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftkms-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return (directory.appendingPathComponent("swiftkms.sqlite3").path, directory)
}

@Suite struct SQLiteStoreTests {
    @Test(arguments: StoreConformance.checks)
    func conformance(_ check: StoreConformance.Check) async throws {
        let (path, directory) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await check.run(try SQLiteStore(path: path))
    }

    @Test(arguments: StoreConformance.checks)
    func conformanceBehindTheCache(_ check: StoreConformance.Check) async throws {
        let (path, directory) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await check.run(CachingStore(try SQLiteStore(path: path)))
    }

    /// Two connections to one file stand for the server and another process (`swiftkms admin`,
    /// a second node): what the other commits is what the cache serves at the next read.
    /// Another process's change drops what it names from the cache, and nothing else. Rows
    /// rewritten behind the store's back (no generation moved) show what is still cached: the
    /// other key and the access key keep their cached values until a change the log cannot
    /// name drops everything.
    @Test func aChangeDropsOnlyWhatItNames() async throws {
        let (path, directory) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = CachingStore(try SQLiteStore(path: path))
        let other = try SQLiteStore(path: path)
        let behindTheBack = try DatabaseQueue(path: path)
        let alice = Principal.user(account: "111122223333", "alice")
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let (one, two) = (StoreConformanceFixtures.key(), StoreConformanceFixtures.key())
        try await other.commit([
            .insertKey(one), .insertKey(two), .insertPrincipal(alice, creationDate: now),
            .insertAccessKey(AccessKey(id: "AKIAALICE", principal: alice, sealedSecret: [1]), creationDate: now),
        ])
        #expect(try await server.key(id: two.id, region: two.region)?.description == two.description)
        #expect(try await server.accessKey(id: "AKIAALICE")?.sealedSecret == [1])
        #expect(try await server.tags(keyID: one.id, region: one.region).isEmpty)
        try await behindTheBack.write { db in
            try db.execute(sql: "UPDATE kms_key SET description = CAST('unseen' AS BLOB) WHERE id = ?", arguments: [two.id])
            try db.execute(sql: "UPDATE access_key SET sealed_secret = x'02'")
        }
        try await other.commit([.putTags(keyID: one.id, region: one.region, tags: [Tag(key: "team", value: "a")])])
        #expect(try await server.tags(keyID: one.id, region: one.region).map(\.value) == ["a"], "the tags named, read again")
        #expect(try await server.key(id: two.id, region: two.region)?.description == two.description, "the other key still cached")
        #expect(try await server.accessKey(id: "AKIAALICE")?.sealedSecret == [1], "the access key still cached")
        var disabled = one
        disabled.state = .disabled
        try await other.commit([.updateKey(disabled)])
        #expect(try await server.key(id: one.id, region: one.region)?.state == .disabled, "the key named, read again")
        #expect(try await server.key(id: two.id, region: two.region)?.description == two.description, "still cached")
        // A change without a record of what it was (as an older version writes): all dropped.
        try await behindTheBack.write { db in try db.execute(sql: "UPDATE change_generation SET value = value + 1") }
        #expect(try await server.key(id: two.id, region: two.region)?.description == "unseen")
        #expect(try await server.accessKey(id: "AKIAALICE")?.sealedSecret == [2])
    }

    @Test func cachedReadsSeeAnotherProcessesChangesAtOnce() async throws {
        let (path, directory) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = CachingStore(try SQLiteStore(path: path))
        let other = try SQLiteStore(path: path)
        let alice = Principal.user(account: "111122223333", "alice")
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        var key = StoreConformanceFixtures.key()
        try await other.commit([
            .insertKey(key), .insertPrincipal(alice, creationDate: now),
            .insertAccessKey(AccessKey(id: "AKIAALICE", principal: alice, sealedSecret: [1]), creationDate: now),
        ])
        #expect(try await server.key(id: key.id, region: key.region)?.state == .enabled)
        #expect(try await server.accessKey(id: "AKIAALICE") != nil)
        #expect(try await server.identityPolicies(of: alice).isEmpty)
        #expect(try await server.grants(keyID: key.id, region: key.region, grantees: [alice.arn]).isEmpty)

        key.state = .disabled
        try await other.commit([.updateKey(key)])
        #expect(try await server.key(id: key.id, region: key.region)?.state == .disabled)
        try await other.commit([.putIdentityPolicy(alice, IdentityPolicy(name: "p", document: "{}"))])
        #expect(try await server.identityPolicies(of: alice).map(\.name) == ["p"])
        try await other.commit([
            .insertGrant(
                Grant(
                    id: "g", keyID: key.id, keyARN: key.arn, name: nil, granteePrincipal: alice.arn,
                    retiringPrincipal: nil, operations: [.decrypt], constraints: nil,
                    issuingAccount: "arn:aws:iam::111122223333:root", creationDate: now))
        ])
        #expect(try await server.grants(keyID: key.id, region: key.region, grantees: [alice.arn]).map(\.id) == ["g"])
        try await other.commit([.deleteAccessKey(id: "AKIAALICE")])
        #expect(try await server.accessKey(id: "AKIAALICE") == nil)
        key.revision += 1
        try await other.commit([.deleteKey(id: key.id, region: key.region, revision: key.revision)])
        #expect(try await server.key(id: key.id, region: key.region) == nil)
    }

    @Test func databaseIsPrivateDurableAndSurvivesReopening() async throws {
        let (path, directory) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = StoreConformanceFixtures.key()
        do {
            let store = try SQLiteStore(path: path)
            try await store.commit([.insertKey(key)])
            #expect(try await store.pragma("journal_mode") == "wal")
            #expect(try await store.pragma("synchronous") == "2")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try await SQLiteStore(path: path).key(id: key.id, region: key.region) == key)
    }
}

enum StoreConformanceFixtures {
    static func key() -> KMSKey {
        KMSKey(
            id: UUID().uuidString.lowercased(), account: "111122223333", region: "us-east-1",
            creationDate: Date(timeIntervalSince1970: 1_700_000_000),
            description: "", usage: .encryptDecrypt, spec: .symmetricDefault, origin: .awsKMS, state: .enabled, policy: "{}")
    }
}
