import Foundation
import Testing

@testable import KMSCore
@testable import KMSService

/// Multi-Region keys through the service: one key ID and material in several regions of an
/// account, with their own policies, tags and states; rotation on the primary reaching the
/// replicas; AWS's deletion order; a change of primary; imported material per replica.
@Suite struct MultiRegionKeyTests {
    let east = "us-east-1"
    let west = "eu-west-1"

    func replicate(_ f: ServiceFixture, _ key: KMSKey, to region: String, tags: [Tag] = []) async throws -> KMSKey {
        try await f.service.replicateKey(.init(keyID: key.arn, replicaRegion: region, description: "replica in \(region)", tags: tags), f.context)
            .replica
    }

    @Test func aCiphertextFromOneRegionDecryptsInAnother() async throws {
        let f = try ServiceFixture()
        let primary = try await f.createKey(.init(description: "primary", multiRegion: true))
        #expect(primary.id.hasPrefix("mrk-") && ResourceName.isWellFormedKeyID(primary.id) && primary.isPrimary)
        let replica = try await replicate(f, primary, to: west, tags: [Tag(key: "team", value: "eu")])
        #expect(replica.id == primary.id && replica.region == west && replica.isReplica && replica.state == .enabled)
        #expect(replica.arn == "arn:aws:kms:eu-west-1:111122223333:key/\(primary.id)")

        let westContext = f.context(region: west)
        let blob = try await f.encrypt(primary.id, "across regions", context: ["app": "x"])
        let opened = try await f.service.decrypt(
            ciphertext: blob, context: EncryptionContext(["app": "x"]), keyID: nil, algorithm: nil, dryRun: nil, westContext)
        #expect(String(decoding: opened.plaintext, as: UTF8.self) == "across regions" && opened.keyARN == replica.arn)
        let back = try await f.service.encrypt(
            keyID: replica.id, plaintext: Data("and back".utf8), context: EncryptionContext([:]), algorithm: nil,
            dryRun: nil, westContext
        ).ciphertextBlob
        #expect(try await f.decrypt(Data(back)) == "and back")

        // Tags, description and state are each key's own.
        #expect(try await f.service.listResourceTags(keyID: replica.id, limit: nil, marker: nil, westContext).tags == [Tag(key: "team", value: "eu")])
        #expect(try await f.service.listResourceTags(keyID: primary.id, limit: nil, marker: nil, f.context).tags.isEmpty)
        try await f.service.disableKey(keyID: replica.id, westContext)
        #expect(try await f.encrypt(primary.id).count > 0)
        #expect(
            await errorCode {
                _ = try await f.service.encrypt(
                    keyID: replica.id, plaintext: Data("x".utf8), context: EncryptionContext([:]),
                    algorithm: nil, dryRun: nil, westContext)
            } == .disabled)

        // Both sides describe the same set.
        let fromPrimary = try #require(
            try await f.service.multiRegionConfiguration(of: try await f.service.describeKey(keyID: primary.id, f.context)))
        let fromReplica = try #require(
            try await f.service.multiRegionConfiguration(of: try await f.service.describeKey(keyID: replica.id, westContext)))
        #expect(fromPrimary.keyType == "PRIMARY" && fromReplica.keyType == "REPLICA")
        #expect(fromPrimary.primaryKey == fromReplica.primaryKey && fromPrimary.primaryKey.arn == primary.arn)
        #expect(fromPrimary.replicaKeys == [.init(arn: replica.arn, region: west)] && fromReplica.replicaKeys == fromPrimary.replicaKeys)
        // A single-Region key has none.
        #expect(try await f.service.multiRegionConfiguration(of: try await f.createKey()) == nil)
    }

    @Test func replicateKeyRefusesWhatAWSRefuses() async throws {
        let f = try ServiceFixture()
        let single = try await f.createKey()
        #expect(await errorCode { _ = try await replicate(f, single, to: west) } == .unsupportedOperation)
        let primary = try await f.createKey(.init(multiRegion: true))
        #expect(await errorCode { _ = try await replicate(f, primary, to: east) } == .alreadyExists)
        let replica = try await replicate(f, primary, to: west)
        #expect(await errorCode { _ = try await replicate(f, primary, to: west) } == .alreadyExists)
        #expect(
            await errorCode { _ = try await f.service.replicateKey(.init(keyID: replica.id, replicaRegion: "ap-south-1"), f.context(region: west)) }
                == .unsupportedOperation)
        #expect(await errorCode { _ = try await replicate(f, primary, to: "cn-north-1") } == .validation)
        try await f.service.disableKey(keyID: primary.id, f.context)
        #expect(await errorCode { _ = try await replicate(f, primary, to: "ap-south-1") } == .disabled)
        // A caller whose identity policies don't allow kms:CreateKey is refused.
        #expect(
            await errorCode {
                _ = try await f.service.replicateKey(
                    .init(keyID: primary.arn, replicaRegion: "ap-south-1"),
                    RequestContext(
                        principal: Principal(account: "111122223333", path: "user/nobody")!,
                        region: east, requestID: "t"))
            } == .accessDenied)
    }

    @Test func rotationOfThePrimaryReachesItsReplicas() async throws {
        let f = try ServiceFixture()
        let primary = try await f.createKey(.init(multiRegion: true))
        let replica = try await replicate(f, primary, to: west)
        let westContext = f.context(region: west)
        #expect(try await f.service.rotateKeyOnDemand(keyID: primary.id, f.context) == primary.arn)
        let v2 = try await f.encrypt(primary.id, "after rotation")
        #expect(try SymmetricCiphertext(parsing: [UInt8](v2)).materialVersion == 2)
        let opened = try await f.service.decrypt(
            ciphertext: v2, context: EncryptionContext([:]), keyID: nil, algorithm: nil, dryRun: nil, westContext)
        #expect(String(decoding: opened.plaintext, as: UTF8.self) == "after rotation")
        let replicaRotations = try await f.service.listKeyRotations(
            keyID: replica.id, includeAllMaterial: false, limit: nil, marker: nil, westContext
        ).entries
        let primaryRotations = try await f.service.listKeyRotations(keyID: primary.id, includeAllMaterial: false, limit: nil, marker: nil, f.context)
            .entries
        #expect(replicaRotations.map(\.materialID) == primaryRotations.map(\.materialID) && replicaRotations.count == 1)

        // Rotation is managed on the primary only; its schedule holds for the replicas.
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: replica.id, westContext) } == .unsupportedOperation)
        #expect(
            await errorCode { try await f.service.enableKeyRotation(keyID: replica.id, rotationPeriodInDays: nil, westContext) }
                == .unsupportedOperation)
        try await f.service.enableKeyRotation(keyID: primary.id, rotationPeriodInDays: 90, f.context)
        let status = try await f.service.getKeyRotationStatus(keyID: replica.id, westContext)
        #expect(status.enabled && status.periodInDays == 90)
        f.clock.advance(days: 90)
        #expect(try await f.service.rotateKeysDueForRotation() == [primary.id])
        let v3 = try await f.service.encrypt(
            keyID: replica.id, plaintext: Data("v3".utf8), context: EncryptionContext([:]), algorithm: nil, dryRun: nil,
            westContext
        ).ciphertextBlob
        #expect(try SymmetricCiphertext(parsing: v3).materialVersion == 3)
        #expect(try await f.decrypt(Data(v3)) == "v3")
    }

    @Test func aPrimaryIsDeletedAfterItsReplicas() async throws {
        let f = try ServiceFixture()
        let primary = try await f.createKey(.init(multiRegion: true))
        let replica = try await replicate(f, primary, to: west)
        let westContext = f.context(region: west)
        let scheduled = try await f.service.scheduleKeyDeletion(keyID: primary.id, pendingWindowInDays: 7, f.context)
        #expect(scheduled.state == .pendingReplicaDeletion && scheduled.deletionDate == nil && scheduled.pendingWindowInDays == 7)
        #expect(await errorCode { _ = try await f.encrypt(primary.id) } == .invalidState)
        // Cancelling brings it back Disabled, as from PendingDeletion.
        #expect(try await f.service.cancelKeyDeletion(keyID: primary.id, f.context).state == .disabled)
        _ = try await f.service.scheduleKeyDeletion(keyID: primary.id, pendingWindowInDays: 7, f.context)

        let replicaScheduled = try await f.service.scheduleKeyDeletion(keyID: replica.id, pendingWindowInDays: 10, westContext)
        #expect(replicaScheduled.state == .pendingDeletion)
        f.clock.advance(days: 9)
        #expect(try await f.service.deleteKeysDueForDeletion().isEmpty)
        f.clock.advance(days: 1)
        #expect(try await f.service.deleteKeysDueForDeletion() == [replica.id])
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: replica.id, westContext) } == .notFound)
        // The primary's own window starts now.
        let waiting = try await f.service.describeKey(keyID: primary.id, f.context)
        #expect(waiting.state == .pendingDeletion && waiting.deletionDate == f.clock.now() + 7 * 86_400)
        f.clock.advance(days: 7)
        #expect(try await f.service.deleteKeysDueForDeletion() == [primary.id])
    }

    @Test func updatePrimaryRegionSwapsTheRoles() async throws {
        let f = try ServiceFixture()
        let primary = try await f.createKey(.init(multiRegion: true))
        let replica = try await replicate(f, primary, to: west)
        let westContext = f.context(region: west)
        #expect(await errorCode { try await f.service.updatePrimaryRegion(keyID: primary.id, primaryRegion: "ap-south-1", f.context) } == .notFound)
        #expect(
            await errorCode { try await f.service.updatePrimaryRegion(keyID: replica.id, primaryRegion: east, westContext) } == .unsupportedOperation)
        try await f.service.updatePrimaryRegion(keyID: primary.id, primaryRegion: west, f.context)
        let newPrimary = try await f.service.describeKey(keyID: replica.id, westContext)
        let oldPrimary = try await f.service.describeKey(keyID: primary.id, f.context)
        #expect(newPrimary.isPrimary && oldPrimary.isReplica && oldPrimary.primaryRegion == west)
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: primary.id, f.context) } == .unsupportedOperation)
        _ = try await f.service.rotateKeyOnDemand(keyID: replica.id, westContext)
        let third = try await f.service.replicateKey(.init(keyID: replica.id, replicaRegion: "ap-south-1"), westContext).replica
        #expect(third.primaryRegion == west && third.currentMaterialVersion == 2)
        let config = try #require(try await f.service.multiRegionConfiguration(of: third))
        #expect(config.primaryKey.region == west && config.replicaKeys.map(\.region) == ["ap-south-1", east])
    }

    @Test func anAsymmetricReplicaHasThePrimarysKeyPair() async throws {
        let f = try ServiceFixture()
        let primary = try await f.createKey(.init(keyUsage: .signVerify, keySpec: .eccNistP256, multiRegion: true))
        let replica = try await replicate(f, primary, to: west)
        let westContext = f.context(region: west)
        #expect(
            try await f.service.getPublicKey(keyID: primary.id, f.context).publicKey
                == (try await f.service.getPublicKey(keyID: replica.id, westContext).publicKey))
        let message = Data("signed in one region".utf8)
        let signature = try await f.service.sign(
            keyID: primary.id, message: message, messageType: nil, algorithm: .ecdsaSHA256, dryRun: nil, f.context)
        _ = try await f.service.verify(
            keyID: replica.id, message: message, messageType: nil, signature: Data(signature.signature), algorithm: .ecdsaSHA256,
            dryRun: nil, westContext)
    }

    @Test func importedMaterialMustBeImportedIntoEachReplica() async throws {
        let f = try ServiceFixture()
        let primary = try await f.createKey(.init(origin: .external, multiRegion: true))
        #expect(await errorCode { _ = try await replicate(f, primary, to: west) } == .invalidState)
        let material = (0..<32).map { _ in UInt8.random(in: 0...255) }
        func importInto(_ key: KMSKey, _ material: [UInt8], _ context: RequestContext) async throws -> String {
            let p = try await f.service.getParametersForImport(keyID: key.id, algorithm: .rsaesOAEPSHA256, wrappingKeySpec: .rsa2048, context)
            return try await f.service.importKeyMaterial(
                .init(
                    keyID: key.id, importToken: p.importToken,
                    encryptedKeyMaterial: try ImportKeyMaterialTests.wrap(material, p, .rsaesOAEPSHA256),
                    expirationModel: .doesNotExpire), context
            ).materialID
        }
        let primaryMaterialID = try await importInto(primary, material, f.context)
        let replica = try await replicate(f, primary, to: west)
        let westContext = f.context(region: west)
        #expect(replica.state == .pendingImport)
        #expect(await errorCode { _ = try await importInto(replica, (0..<32).map { _ in 1 }, westContext) } == .incorrectKeyMaterial)
        #expect(try await importInto(replica, material, westContext) == primaryMaterialID)
        let blob = try await f.encrypt(primary.id, "imported everywhere")
        let opened = try await f.service.decrypt(
            ciphertext: blob, context: EncryptionContext([:]), keyID: nil, algorithm: nil, dryRun: nil, westContext)
        #expect(String(decoding: opened.plaintext, as: UTF8.self) == "imported everywhere")
    }
}
