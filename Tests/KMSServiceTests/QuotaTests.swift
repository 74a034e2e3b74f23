import Foundation
import Testing

@testable import KMSService

/// Resource quotas (keys per region, aliases per key) and request-rate quotas, with the
/// fixture's hand-moved clock.
@Suite struct QuotaTests {
    @Test func keysPerRegionAndAliasesPerKey() async throws {
        let f = try ServiceFixture(quotas: .init(keysPerRegion: 3, aliasesPerKey: 2))
        var keys: [KMSKey] = []
        for _ in 0..<3 { keys.append(try await f.createKey()) }
        #expect(await errorCode { _ = try await f.createKey() } == .limitExceeded)
        // Another region, or another account, has its own quota.
        #expect(try await f.service.createKey(.init(), f.context(region: "eu-west-1")).region == "eu-west-1")
        try await f.service.createAlias(name: "alias/a", targetKeyID: keys[0].id, f.context)
        try await f.service.createAlias(name: "alias/b", targetKeyID: keys[0].id, f.context)
        #expect(await errorCode { try await f.service.createAlias(name: "alias/c", targetKeyID: keys[0].id, f.context) } == .limitExceeded)
        try await f.service.createAlias(name: "alias/c", targetKeyID: keys[1].id, f.context)
        try await f.service.createAlias(name: "alias/d", targetKeyID: keys[1].id, f.context)
        #expect(await errorCode { try await f.service.updateAlias(name: "alias/c", targetKeyID: keys[0].id, f.context) } == .limitExceeded)
        try await f.service.updateAlias(name: "alias/c", targetKeyID: keys[2].id, f.context)
    }

    @Test func requestRatesThrottleAndRefill() async throws {
        var rates = RequestRates()
        #expect(rates.set("CreateKey", 2) && rates.set("symmetric", 3) && rates.set("ecc", 1) && !rates.set("NoSuchOperation", 1))
        let f = try ServiceFixture(quotas: .init(requestRates: rates))
        // CreateKey: bursts of 2, then throttled until the clock moves.
        try f.service.admit(operation: "CreateKey", f.context)
        try f.service.admit(operation: "CreateKey", f.context)
        #expect(await errorCode { try f.service.admit(operation: "CreateKey", f.context) } == .throttling)
        #expect(await errorCode { try f.service.admit(operation: "CreateKey", f.context(account: "444455556666")) } == nil)
        f.clock.advance(days: 1.0 / 86_400)
        try f.service.admit(operation: "CreateKey", f.context)
        // Symmetric cryptography shares one quota (Encrypt, Decrypt, GenerateRandom ...).
        let key = try await f.createKey()
        let blob = try await f.encrypt(key.id)
        _ = try await f.decrypt(blob)
        try f.service.admit(operation: "GenerateRandom", f.context)
        #expect(await errorCode { _ = try await f.encrypt(key.id) } == .throttling)
        // Elliptic-curve keys have a quota of their own.
        let ecc = try await f.createKey(.init(keyUsage: .signVerify, keySpec: .eccNistP256))
        _ = try await f.service.sign(keyID: ecc.id, message: Data("m".utf8), messageType: .raw, algorithm: .ecdsaSHA256, dryRun: nil, f.context)
        #expect(
            await errorCode {
                _ = try await f.service.sign(
                    keyID: ecc.id, message: Data("m".utf8), messageType: .raw, algorithm: .ecdsaSHA256, dryRun: nil, f.context)
            } == .throttling)
        // Operations without a quota (Sign's key lookup aside) are not throttled.
        for _ in 0..<10 { try f.service.admit(operation: "Sign", f.context) }
    }
}
