import Foundation
import Testing

@testable import KMSService

/// AWS managed keys through the service: made by a service on first use of its alias, usable
/// only through that service, readable by the account, unchangeable by anyone, rotated yearly.
@Suite struct AWSManagedKeyTests {
    let alice = Principal.user(account: "111122223333", "alice")

    func via(_ f: ServiceFixture, _ service: String, as principal: Principal? = nil) -> RequestContext {
        RequestContext(principal: principal ?? alice, region: "us-east-1", requestID: "t").forwarded(by: service, onBehalfOf: principal ?? alice)
    }

    @Test func aServiceMakesItsKeyOnFirstUseAndUsesIt() async throws {
        let f = try ServiceFixture()
        let s3 = via(f, "s3.amazonaws.com")
        #expect(s3.viaService == "s3.us-east-1.amazonaws.com")
        let out = try await f.service.encrypt(
            keyID: "alias/aws/s3", plaintext: Data("object key".utf8), context: EncryptionContext(["bucket": "b"]),
            algorithm: nil, dryRun: nil, s3)
        let key = try await f.service.describeKey(keyID: "alias/aws/s3", f.context)
        #expect(key.keyManager == .aws && key.arn == out.keyARN && key.state == .enabled)
        #expect(key.automaticRotation?.periodInDays == 365)
        let opened = try await f.service.decrypt(
            ciphertext: Data(out.ciphertextBlob), context: EncryptionContext(["bucket": "b"]), keyID: nil, algorithm: nil,
            dryRun: nil, s3)
        #expect(String(decoding: opened.plaintext, as: UTF8.self) == "object key")
        // Made once: the next use finds it.
        _ = try await f.service.encrypt(
            keyID: "alias/aws/s3", plaintext: Data("x".utf8), context: EncryptionContext([:]), algorithm: nil, dryRun: nil, s3)
        #expect(try await f.service.listKeys(limit: nil, marker: nil, f.context).keys.count == 1)
        // A year later it has rotated.
        f.clock.advance(days: 365)
        #expect(try await f.service.rotateKeysDueForRotation() == [key.id])
    }

    @Test func concurrentFirstUsesMakeOneKey() async throws {
        let f = try ServiceFixture()
        let s3 = via(f, "s3.amazonaws.com")
        let arns = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await f.service.encrypt(
                        keyID: "alias/aws/s3", plaintext: Data("x".utf8), context: EncryptionContext([:]), algorithm: nil,
                        dryRun: nil, s3
                    ).keyARN
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(arns.count == 1)
        #expect(try await f.service.listKeys(limit: nil, marker: nil, f.context).keys.count == 1)
    }

    @Test func onlyTheServiceCanUseItAndNobodyCanChangeIt() async throws {
        let f = try ServiceFixture()
        // Nobody makes one by naming its alias directly, or through another service.
        #expect(await errorCode { _ = try await f.encrypt("alias/aws/s3") } == .notFound)
        #expect(
            await errorCode {
                _ = try await f.service.encrypt(
                    keyID: "alias/aws/s3", plaintext: Data("x".utf8), context: EncryptionContext([:]),
                    algorithm: nil, dryRun: nil, via(f, "dynamodb.amazonaws.com"))
            } == .notFound)
        let key = try await f.service.awsManagedKey(service: "s3", account: "111122223333", region: "us-east-1")
        #expect(try await f.service.awsManagedKey(service: "s3", account: "111122223333", region: "us-east-1") == key)

        // The account reads it and its policy, directly.
        #expect(try await f.service.describeKey(keyID: key.id, f.context).keyManager == .aws)
        #expect(try await f.service.getKeyPolicy(keyID: key.id, policyName: nil, f.context).contains("s3.us-east-1.amazonaws.com"))
        // Cryptographic use only through s3: not directly, not through another service.
        #expect(await errorCode { _ = try await f.encrypt(key.id) } == .accessDenied)
        #expect(
            await errorCode {
                _ = try await f.service.encrypt(
                    keyID: key.id, plaintext: Data("x".utf8), context: EncryptionContext([:]),
                    algorithm: nil, dryRun: nil, via(f, "dynamodb.amazonaws.com"))
            } == .accessDenied)
        // Nobody changes, disables, rotates or deletes it; its alias stays.
        let root = f.context
        #expect(await errorCode { try await f.service.disableKey(keyID: key.id, root) } == .accessDenied)
        #expect(await errorCode { _ = try await f.service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: 7, root) } == .accessDenied)
        #expect(
            await errorCode {
                try await f.service.putKeyPolicy(
                    keyID: key.id, policyName: nil,
                    policy: KeyManagementService.defaultPolicy(account: "111122223333"),
                    bypassPolicyLockoutSafetyCheck: true, root)
            } == .accessDenied)
        #expect(await errorCode { try await f.service.enableKeyRotation(keyID: key.id, rotationPeriodInDays: 90, root) } == .accessDenied)
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: key.id, root) } == .accessDenied)
        #expect(await errorCode { try await f.service.updateKeyDescription(keyID: key.id, description: "mine", root) } == .accessDenied)
        #expect(await errorCode { try await f.service.tagResource(keyID: key.id, tags: [Tag(key: "a", value: "b")], root) } == .accessDenied)
        #expect(await errorCode { try await f.service.createAlias(name: "alias/mine", targetKeyID: key.id, root) } == .accessDenied)
        #expect(await errorCode { try await f.service.deleteAlias(name: "alias/aws/s3", root) } == .accessDenied)
        let other = try await f.createKey()
        #expect(await errorCode { try await f.service.updateAlias(name: "alias/aws/s3", targetKeyID: other.id, root) } == .invalidAliasName)
        #expect(try await f.service.describeKey(keyID: "alias/aws/s3", root) == key)
        // Even through the service, changes are not allowed.
        #expect(await errorCode { try await f.service.disableKey(keyID: key.id, via(f, "s3.amazonaws.com")) } == .accessDenied)
    }
}
