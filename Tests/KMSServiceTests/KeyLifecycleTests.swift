import Foundation
import Testing

@testable import KMSService

@Suite struct KeyLifecycleTests {
    @Test func createDescribeEncryptDecrypt() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey(.init(description: "demo", tags: [Tag(key: "team", value: "a")]))
        #expect(key.state == .enabled && key.usage == .encryptDecrypt && key.spec == .symmetricDefault && key.description == "demo")
        #expect(try await f.service.describeKey(keyID: key.arn, f.context) == key)
        let blob = try await f.encrypt(key.id, "secret", context: ["a": "1"])
        #expect(try await f.decrypt(blob, context: ["a": "1"]) == "secret")
        #expect(try await f.decrypt(blob, keyID: key.arn, context: ["a": "1"]) == "secret")
        #expect(await errorCode { _ = try await f.decrypt(blob, context: ["a": "2"]) } == .invalidCiphertext)
        #expect(try await f.service.listResourceTags(keyID: key.id, limit: nil, marker: nil, f.context).tags == [Tag(key: "team", value: "a")])
    }

    @Test func keyStateRules() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        let blob = try await f.encrypt(key.id)
        try await f.service.disableKey(keyID: key.id, f.context)
        #expect(await errorCode { _ = try await f.encrypt(key.id) } == .disabled)
        #expect(await errorCode { _ = try await f.decrypt(blob) } == .disabled)
        try await f.service.enableKey(keyID: key.id, f.context)
        #expect(try await f.decrypt(blob) == "hello")

        let scheduled = try await f.service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: nil, f.context)
        #expect(scheduled.state == .pendingDeletion && scheduled.pendingWindowInDays == 30)
        #expect(scheduled.deletionDate == f.clock.now().addingTimeInterval(30 * 86_400))
        #expect(await errorCode { _ = try await f.encrypt(key.id) } == .invalidState)
        #expect(await errorCode { _ = try await f.decrypt(blob) } == .invalidState)
        #expect(await errorCode { try await f.service.enableKey(keyID: key.id, f.context) } == .invalidState)
        #expect(await errorCode { try await f.service.updateKeyDescription(keyID: key.id, description: "x", f.context) } == .invalidState)
        #expect(await errorCode { _ = try await f.service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: 7, f.context) } == .invalidState)
        #expect(try await f.service.describeKey(keyID: key.id, f.context).state == .pendingDeletion)

        let cancelled = try await f.service.cancelKeyDeletion(keyID: key.id, f.context)
        #expect(cancelled.state == .disabled && cancelled.deletionDate == nil)
        #expect(await errorCode { _ = try await f.service.cancelKeyDeletion(keyID: key.id, f.context) } == .invalidState)
        for days in [6, 31] {
            #expect(
                await errorCode { _ = try await f.service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: days, f.context) } == .validation)
        }
    }

    @Test func keysAreDeletedWhenTheirWindowEnds() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        let keep = try await f.createKey()
        let blob = try await f.encrypt(key.id)
        try await f.service.createAlias(name: "alias/doomed", targetKeyID: key.id, f.context)
        _ = try await f.service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: 7, f.context)
        f.clock.advance(days: 6.99)
        #expect(try await f.service.deleteKeysDueForDeletion().isEmpty)
        f.clock.advance(days: 0.02)
        #expect(try await f.service.deleteKeysDueForDeletion() == [key.id])
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: key.id, f.context) } == .notFound)
        #expect(await errorCode { _ = try await f.decrypt(blob) } == .invalidCiphertext)
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: "alias/doomed", f.context) } == .notFound)
        #expect(try await f.service.listKeys(limit: nil, marker: nil, f.context).keys.map(\.id) == [keep.id])
    }

    @Test func createKeyRefusesWhatItCannotDo() async throws {
        let f = try ServiceFixture()
        #expect(await errorCode { _ = try await f.createKey(.init(keyUsage: .signVerify)) } == .validation)
        #expect(
            await errorCode { _ = try await f.createKey(.init(keySpec: .symmetricDefault, customerMasterKeySpec: .symmetricDefault)) } == .validation)
        #expect(await errorCode { _ = try await f.createKey(.init(keySpec: .mlDsa65)) } == .validation)  // KeyUsage defaults to ENCRYPT_DECRYPT
        // SM2 is for China Regions only.
        #expect(await errorCode { _ = try await f.createKey(.init(keyUsage: .signVerify, keySpec: .sm2)) } == .unsupportedOperation)
        #expect(await errorCode { _ = try await f.createKey(.init(keyUsage: .keyAgreement, keySpec: .eccNistEdwards25519)) } == .validation)
        // AWS_CLOUDHSM needs a custom key store; a custom key store holds symmetric encryption keys only.
        #expect(await errorCode { _ = try await f.createKey(.init(origin: .awsCloudHSM)) } == .validation)
        #expect(
            await errorCode { _ = try await f.createKey(.init(keyUsage: .signVerify, keySpec: .rsa2048, customKeyStoreID: "cks-00000000000000001")) }
                == .unsupportedOperation)
        #expect(await errorCode { _ = try await f.createKey(.init(customKeyStoreID: "cks-00000000000000001")) } == .customKeyStoreNotFound)
        #expect(await errorCode { _ = try await f.createKey(.init(policy: "not json")) } == .malformedPolicyDocument)
        #expect(await errorCode { _ = try await f.createKey(.init(tags: [Tag(key: "aws:x", value: "")])) } == .tag)
        #expect(try await f.service.listKeys(limit: nil, marker: nil, f.context).keys.isEmpty)
    }

    @Test func dataKeysAndRandom() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        let dataKey = try await f.service.generateDataKey(
            keyID: key.id, keySpec: .aes256, numberOfBytes: nil, context: EncryptionContext(["x": "y"]), dryRun: nil, f.context)
        #expect(dataKey.plaintext.count == 32)
        let opened = try await f.service.decrypt(
            ciphertext: Data(dataKey.ciphertextBlob), context: EncryptionContext(["x": "y"]), keyID: nil, algorithm: nil, dryRun: nil, f.context)
        #expect(opened.plaintext == dataKey.plaintext)
        #expect(
            try await f.service.generateDataKey(keyID: key.id, keySpec: nil, numberOfBytes: 7, context: EncryptionContext(), dryRun: nil, f.context)
                .plaintext.count == 7)
        #expect(
            await errorCode {
                _ = try await f.service.generateDataKey(
                    keyID: key.id, keySpec: .aes128, numberOfBytes: 16, context: EncryptionContext(), dryRun: nil, f.context)
            } == .validation)
        #expect(
            await errorCode {
                _ = try await f.service.generateDataKey(
                    keyID: key.id, keySpec: nil, numberOfBytes: nil, context: EncryptionContext(), dryRun: nil, f.context)
            } == .validation)
        #expect(
            await errorCode {
                _ = try await f.service.generateDataKey(
                    keyID: key.id, keySpec: .aes128, numberOfBytes: nil, context: EncryptionContext(), dryRun: true, f.context)
            } == .dryRunOperation)
        #expect(try await f.service.generateRandom(numberOfBytes: 1024, customKeyStoreID: nil, f.context).count == 1024)
    }

    @Test func reEncryptMovesBetweenKeysAndContexts() async throws {
        let f = try ServiceFixture()
        let (a, b) = (try await f.createKey(), try await f.createKey())
        let blob = try await f.encrypt(a.id, "moving", context: ["from": "a"])
        let moved = try await f.service.reEncrypt(
            ciphertext: blob, sourceContext: EncryptionContext(["from": "a"]), sourceKeyID: nil,
            destinationKeyID: b.arn, destinationContext: EncryptionContext(["to": "b"]),
            sourceAlgorithm: nil, destinationAlgorithm: nil, dryRun: nil, f.context)
        #expect(moved.sourceKeyARN == a.arn && moved.keyARN == b.arn)
        #expect(try await f.decrypt(Data(moved.ciphertextBlob), keyID: b.id, context: ["to": "b"]) == "moving")
        #expect(await errorCode { _ = try await f.decrypt(Data(moved.ciphertextBlob), keyID: a.id, context: ["to": "b"]) } == .incorrectKey)
    }
}
