import Foundation
import Testing

@testable import KMSService

@Suite struct HMACKeyTests {
    @Test(arguments: [KeySpec.hmac224, .hmac256, .hmac384, .hmac512])
    func generateAndVerify(spec: KeySpec) async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey(.init(keyUsage: .generateVerifyMac, keySpec: spec))
        let algorithm = try #require(spec.macAlgorithm)
        #expect(key.usage == .generateVerifyMac && key.macAlgorithms == [algorithm] && key.encryptionAlgorithms.isEmpty)
        let message = Data("message".utf8)
        let (mac, arn) = try await f.service.generateMac(keyID: key.id, message: message, algorithm: algorithm, dryRun: nil, f.context)
        #expect(arn == key.arn && mac.count == algorithm.byteCount)
        let material = try #require(try await f.service.material(of: key, version: 1, as: HMACKeyMaterial.self))
        #expect(material.withUnsafeRawBytes { $0.count } == algorithm.byteCount)
        #expect(
            try await f.service.verifyMac(keyID: key.id, message: message, mac: Data(mac), algorithm: algorithm, dryRun: nil, f.context) == key.arn)

        var wrong = mac
        wrong[0] ^= 1
        #expect(
            await errorCode {
                _ = try await f.service.verifyMac(keyID: key.id, message: message, mac: Data(wrong), algorithm: algorithm, dryRun: nil, f.context)
            } == .invalidMac)
        #expect(
            await errorCode {
                _ = try await f.service.verifyMac(
                    keyID: key.id, message: message, mac: Data(mac.prefix(16)), algorithm: algorithm, dryRun: nil, f.context)
            } == .invalidMac)
        #expect(
            await errorCode {
                _ = try await f.service.verifyMac(
                    keyID: key.id, message: Data("other".utf8), mac: Data(mac), algorithm: algorithm, dryRun: nil, f.context)
            } == .invalidMac)
        let other = MacAlgorithm.allCases.first { $0 != algorithm }!
        #expect(
            await errorCode { _ = try await f.service.generateMac(keyID: key.id, message: message, algorithm: other, dryRun: nil, f.context) }
                == .invalidKeyUsage)
        #expect(
            await errorCode { _ = try await f.service.generateMac(keyID: key.id, message: message, algorithm: algorithm, dryRun: true, f.context) }
                == .dryRunOperation)
    }

    @Test func hmacKeysDoNotEncryptAndSymmetricKeysDoNotMac() async throws {
        let f = try ServiceFixture()
        let hmac = try await f.createKey(.init(keyUsage: .generateVerifyMac, keySpec: .hmac256))
        let symmetric = try await f.createKey()
        #expect(await errorCode { _ = try await f.encrypt(hmac.id) } == .invalidKeyUsage)
        #expect(
            await errorCode {
                _ = try await f.service.generateDataKey(
                    keyID: hmac.id, keySpec: .aes256, numberOfBytes: nil, context: EncryptionContext(), dryRun: nil, f.context)
            } == .invalidKeyUsage)
        #expect(
            await errorCode {
                _ = try await f.service.generateMac(keyID: symmetric.id, message: Data([1]), algorithm: .hmacSHA256, dryRun: nil, f.context)
            } == .invalidKeyUsage)
        #expect(await errorCode { _ = try await f.createKey(.init(keySpec: .hmac256)) } == .validation)  // KeyUsage defaults to ENCRYPT_DECRYPT
    }
}
