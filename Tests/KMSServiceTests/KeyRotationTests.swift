import Foundation
import KMSStorage
import KMSStorageSQLite
import Testing

@testable import KMSService

/// Automatic and on-demand rotation with an injected clock: every ciphertext made before any
/// number of rotations decrypts, new ones use the newest material, and each due rotation
/// happens once even with two processes over one database.
@Suite struct KeyRotationTests {
    @Test func onDemandRotationsKeepOldCiphertextsAndUseTheNewestMaterial() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        var blobs = [try await f.encrypt(key.id, "v1")]
        for i in 2...4 {
            #expect(try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) == key.arn)
            blobs.append(try await f.encrypt(key.id, "v\(i)"))
        }
        for (i, blob) in blobs.enumerated() {
            #expect(try await f.decrypt(blob) == "v\(i + 1)")
            #expect(try SymmetricCiphertext(parsing: [UInt8](blob)).materialVersion == UInt32(i + 1))
        }
        // ReEncrypt moves the oldest ciphertext to the newest material.
        let moved = try await f.service.reEncrypt(
            ciphertext: blobs[0], sourceContext: EncryptionContext([:]), sourceKeyID: nil,
            destinationKeyID: key.id, destinationContext: EncryptionContext([:]),
            sourceAlgorithm: nil, destinationAlgorithm: nil, dryRun: nil, f.context)
        #expect(try SymmetricCiphertext(parsing: moved.ciphertextBlob).materialVersion == 4)

        let rotations = try await f.service.listKeyRotations(keyID: key.id, includeAllMaterial: false, limit: nil, marker: nil, f.context).entries
        #expect(rotations.map(\.rotationType) == [.onDemand, .onDemand, .onDemand])
        #expect(rotations.map(\.materialState) == ["NON_CURRENT", "NON_CURRENT", "CURRENT"])
        #expect(rotations.allSatisfy { $0.rotationDate == f.clock.now() && $0.materialID.count == 64 })
        let all = try await f.service.listKeyRotations(keyID: key.id, includeAllMaterial: true, limit: nil, marker: nil, f.context).entries
        #expect(all.count == 4 && all[0].rotationType == nil && all[0].rotationDate == nil)
        #expect(Set(all.map(\.materialID)).count == 4)
        // Pages of two.
        let first = try await f.service.listKeyRotations(keyID: key.id, includeAllMaterial: true, limit: 2, marker: nil, f.context)
        let second = try await f.service.listKeyRotations(keyID: key.id, includeAllMaterial: true, limit: 2, marker: first.nextMarker, f.context)
        #expect(first.entries.map(\.materialID) + second.entries.map(\.materialID) == all.map(\.materialID) && second.nextMarker == nil)
    }

    @Test func onDemandRotationsAreLimitedTo25() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        for _ in 0..<25 { _ = try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) }
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) } == .limitExceeded)
    }

    @Test func automaticRotationHappensWhenDueAndFollowsItsSchedule() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        let blob = try await f.encrypt(key.id, "before")
        let start = f.clock.now()
        try await f.service.enableKeyRotation(keyID: key.id, rotationPeriodInDays: 90, f.context)
        var status = try await f.service.getKeyRotationStatus(keyID: key.id, f.context)
        #expect(status.enabled && status.periodInDays == 90 && status.nextRotationDate == start + 90 * 86_400)

        f.clock.advance(days: 89)
        #expect(try await f.service.rotateKeysDueForRotation().isEmpty)
        f.clock.advance(days: 1)
        #expect(try await f.service.rotateKeysDueForRotation() == [key.id])
        #expect(try await f.service.rotateKeysDueForRotation().isEmpty)  // once per due rotation
        status = try await f.service.getKeyRotationStatus(keyID: key.id, f.context)
        #expect(status.nextRotationDate == start + 180 * 86_400)
        // Disabled keys don't rotate; a long outage makes one rotation, not several.
        try await f.service.disableKey(keyID: key.id, f.context)
        f.clock.advance(days: 400)
        #expect(try await f.service.rotateKeysDueForRotation().isEmpty)
        try await f.service.enableKey(keyID: key.id, f.context)
        #expect(try await f.service.rotateKeysDueForRotation() == [key.id])
        #expect(try await f.service.rotateKeysDueForRotation().isEmpty)
        let rotations = try await f.service.listKeyRotations(keyID: key.id, includeAllMaterial: false, limit: nil, marker: nil, f.context).entries
        #expect(rotations.map(\.rotationType) == [.automatic, .automatic])
        #expect(try await f.decrypt(blob) == "before")
        // Each automatic rotation is a RotateKey service event, committed with it.
        let events = try await AuditLedger(store: f.service.store.base, rootKey: nil).lookup(AuditQuery(eventName: "RotateKey"))
        #expect(events.count == 2 && events.allSatisfy { $0[member: "eventType"]?.stringValue == "AwsServiceEvent" })
        // Pending deletion: status false, and back when the deletion is cancelled.
        _ = try await f.service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: 7, f.context)
        #expect(try await f.service.getKeyRotationStatus(keyID: key.id, f.context).enabled == false)
        _ = try await f.service.cancelKeyDeletion(keyID: key.id, f.context)
        try await f.service.enableKey(keyID: key.id, f.context)
        #expect(try await f.service.getKeyRotationStatus(keyID: key.id, f.context).enabled)
        try await f.service.disableKeyRotation(keyID: key.id, f.context)
        status = try await f.service.getKeyRotationStatus(keyID: key.id, f.context)
        #expect(!status.enabled && status.periodInDays == nil && status.nextRotationDate == nil)
    }

    @Test func twoProcessesRotateADueKeyOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftkms-rotation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite3").path
        let rootKey = try RootKey(rawBytes: RootKey.generateRawBytes())
        let clock = ManualClock()
        let a = KeyManagementService(store: CachingStore(try SQLiteStore(path: path)), rootKey: rootKey, clock: clock, auditChain: "a")
        let b = KeyManagementService(store: CachingStore(try SQLiteStore(path: path)), rootKey: rootKey, clock: clock, auditChain: "b")
        let context = RequestContext(principal: .root(account: "111122223333"), region: "us-east-1", requestID: "t")
        var keys: [KMSKey] = []
        for _ in 0..<20 {
            let key = try await a.createKey(.init(), context)
            try await a.enableKeyRotation(keyID: key.id, rotationPeriodInDays: 365, context)
            keys.append(key)
        }
        clock.advance(days: 365)
        async let fromA = a.rotateKeysDueForRotation()
        async let fromB = b.rotateKeysDueForRotation()
        let (rotatedA, rotatedB) = try await (fromA, fromB)
        #expect(rotatedA.count + rotatedB.count == 20)
        #expect(Set(rotatedA).isDisjoint(with: rotatedB))
        for key in keys {
            let materials = try await a.listKeyRotations(keyID: key.id, includeAllMaterial: true, limit: nil, marker: nil, context).entries
            #expect(materials.count == 2)
        }
    }

    @Test func rotationIsRefusedWhereAWSRefusesIt() async throws {
        let f = try ServiceFixture()
        let rsa = try await f.createKey(.init(keyUsage: .encryptDecrypt, keySpec: .rsa2048))
        let hmac = try await f.createKey(.init(keyUsage: .generateVerifyMac, keySpec: .hmac256))
        for key in [rsa, hmac] {
            #expect(
                await errorCode { try await f.service.enableKeyRotation(keyID: key.id, rotationPeriodInDays: nil, f.context) }
                    == .unsupportedOperation)
            #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) } == .unsupportedOperation)
            #expect(await errorCode { _ = try await f.service.getKeyRotationStatus(keyID: key.id, f.context) } == .unsupportedOperation)
        }
        let key = try await f.createKey()
        try await f.service.disableKey(keyID: key.id, f.context)
        #expect(await errorCode { try await f.service.enableKeyRotation(keyID: key.id, rotationPeriodInDays: nil, f.context) } == .disabled)
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) } == .disabled)
        _ = try await f.service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: 7, f.context)
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) } == .invalidState)
    }
}
