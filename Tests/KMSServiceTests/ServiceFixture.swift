import Foundation
import KMSStorage
import KMSStorageSQLite
import Synchronization

@testable import KMSService

/// A clock tests move by hand.
final class ManualClock: KMSClock {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    func now() -> Date { current.withLock { $0 } }
    func advance(days: Double) { current.withLock { $0 = $0.addingTimeInterval(days * 86_400) } }
}

/// A service over a fresh SQLite database (its directory removed with the fixture), with a
/// caller in account 111122223333, us-east-1.
final class ServiceFixture: Sendable {
    let service: KeyManagementService
    let clock = ManualClock()
    let directory: URL
    let context = RequestContext(principal: .root(account: "111122223333"), region: "us-east-1", requestID: "test")

    init(quotas: KeyManagementService.Quotas = .init()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftkms-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // As the server runs it: behind the cache of what every request reads.
        let store = CachingStore(try SQLiteStore(path: directory.appendingPathComponent("db.sqlite3").path))
        service = KeyManagementService(store: store, rootKey: try RootKey(rawBytes: RootKey.generateRawBytes()), clock: clock, quotas: quotas)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func context(account: String = "111122223333", region: String = "us-east-1") -> RequestContext {
        RequestContext(principal: .root(account: account), region: region, requestID: "test")
    }

    func createKey(_ input: KeyManagementService.CreateKeyInput = .init()) async throws -> KMSKey {
        try await service.createKey(input, context)
    }

    func encrypt(_ keyID: String, _ text: String = "hello", context pairs: [String: String] = [:]) async throws -> Data {
        Data(
            try await service.encrypt(
                keyID: keyID, plaintext: Data(text.utf8), context: EncryptionContext(pairs), algorithm: nil, dryRun: nil, context
            ).ciphertextBlob)
    }

    func decrypt(_ blob: Data, keyID: String? = nil, context pairs: [String: String] = [:]) async throws -> String {
        let out = try await service.decrypt(ciphertext: blob, context: EncryptionContext(pairs), keyID: keyID, algorithm: nil, dryRun: nil, context)
        return String(decoding: out.plaintext, as: UTF8.self)
    }
}

/// The AWS error name a call fails with, or nil when it succeeds.
func errorCode(_ body: () async throws -> Void) async -> KMSError.Code? {
    do {
        try await body()
        return nil
    } catch let error as KMSError {
        return error.code
    } catch {
        return nil
    }
}
