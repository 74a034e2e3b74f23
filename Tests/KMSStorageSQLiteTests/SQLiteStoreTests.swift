import Foundation
import KMSStorage
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
        KMSKey(id: UUID().uuidString.lowercased(), account: "111122223333", region: "us-east-1", creationDate: Date(timeIntervalSince1970: 1_700_000_000),
               description: "", usage: .encryptDecrypt, spec: .symmetricDefault, origin: .awsKMS, state: .enabled, policy: "{}")
    }
}
