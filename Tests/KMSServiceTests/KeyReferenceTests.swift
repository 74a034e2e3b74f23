import Foundation
import Testing

@testable import KMSService

@Suite struct KeyReferenceTests {
    @Test func everyFormOfKeyIdResolves() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        try await f.service.createAlias(name: "alias/app", targetKeyID: key.arn, f.context)
        let aliasARN = "arn:aws:kms:us-east-1:111122223333:alias/app"
        for id in [key.id, key.arn, "alias/app", aliasARN] {
            #expect(try await f.service.describeKey(keyID: id, f.context).id == key.id, "\(id)")
            _ = try await f.encrypt(id)
        }
        // Management operations take key IDs and key ARNs only.
        #expect(await errorCode { try await f.service.disableKey(keyID: "alias/app", f.context) } == .notFound)
    }

    @Test func missingForeignAndMalformedReferences() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        let blob = try await f.encrypt(key.id)
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: "1234abcd-12ab-34cd-56ef-1234567890ab", f.context) } == .notFound)
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: "not-a-key", f.context) } == .notFound)
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: "alias/none", f.context) } == .notFound)
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: "arn:aws:kms:us-east-1:bad", f.context) } == .invalidArn)
        #expect(
            await errorCode {
                _ = try await f.service.describeKey(keyID: key.arn.replacingOccurrences(of: "us-east-1", with: "eu-west-1"), f.context)
            } == .notFound)
        // Another account's caller: denied by the key's default policy; the blob names no key of theirs.
        let other = f.context(account: "444455556666")
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: key.arn, other) } == .accessDenied)
        #expect(
            await errorCode {
                _ = try await f.service.decrypt(ciphertext: blob, context: EncryptionContext(), keyID: nil, algorithm: nil, dryRun: nil, other)
            } == .accessDenied)
        // Another region of the same account holds no such key.
        #expect(await errorCode { _ = try await f.service.describeKey(keyID: key.id, f.context(region: "eu-west-1")) } == .notFound)
        #expect(
            await errorCode {
                _ = try await f.service.decrypt(
                    ciphertext: blob, context: EncryptionContext(), keyID: nil, algorithm: nil, dryRun: nil, f.context(region: "eu-west-1"))
            } == .invalidCiphertext)
    }

    @Test func aliasRules() async throws {
        let f = try ServiceFixture()
        let (a, b) = (try await f.createKey(), try await f.createKey())
        try await f.service.createAlias(name: "alias/x", targetKeyID: a.id, f.context)
        #expect(await errorCode { try await f.service.createAlias(name: "alias/x", targetKeyID: b.id, f.context) } == .alreadyExists)
        #expect(await errorCode { try await f.service.createAlias(name: "x", targetKeyID: b.id, f.context) } == .validation)
        #expect(await errorCode { try await f.service.createAlias(name: "alias/aws/x", targetKeyID: b.id, f.context) } == .invalidAliasName)
        #expect(await errorCode { try await f.service.createAlias(name: "alias/y", targetKeyID: "alias/x", f.context) } == .notFound)
        try await f.service.updateAlias(name: "alias/x", targetKeyID: b.id, f.context)
        #expect(try await f.service.describeKey(keyID: "alias/x", f.context).id == b.id)
        #expect(try await f.service.listAliases(keyID: b.id, limit: nil, marker: nil, f.context).aliases.map(\.name) == ["alias/x"])
        #expect(await errorCode { try await f.service.updateAlias(name: "alias/none", targetKeyID: b.id, f.context) } == .notFound)
        _ = try await f.service.scheduleKeyDeletion(keyID: a.id, pendingWindowInDays: 7, f.context)
        #expect(await errorCode { try await f.service.createAlias(name: "alias/z", targetKeyID: a.id, f.context) } == .invalidState)
        try await f.service.deleteAlias(name: "alias/x", f.context)
        #expect(await errorCode { try await f.service.deleteAlias(name: "alias/x", f.context) } == .notFound)
    }

    @Test func paginationAndTagLimits() async throws {
        let f = try ServiceFixture()
        var ids: [String] = []
        for _ in 0..<5 { ids.append(try await f.createKey().id) }
        var seen: [String] = []
        var marker: String?
        repeat {
            let page = try await f.service.listKeys(limit: 2, marker: marker, f.context)
            seen += page.keys.map(\.id)
            marker = page.nextMarker
        } while marker != nil
        #expect(seen == ids.sorted())
        #expect(await errorCode { _ = try await f.service.listKeys(limit: 2, marker: "!!!", f.context) } == .invalidMarker)

        let tags = (0..<50).map { Tag(key: "k\($0)", value: "v") }
        try await f.service.tagResource(keyID: ids[0], tags: tags, f.context)
        try await f.service.tagResource(keyID: ids[0], tags: [Tag(key: "k1", value: "overwritten")], f.context)
        #expect(
            await errorCode { try await f.service.tagResource(keyID: ids[0], tags: [Tag(key: "one-too-many", value: "")], f.context) }
                == .limitExceeded)
        try await f.service.untagResource(keyID: ids[0], tagKeys: ["k0", "absent"], f.context)
        let listed = try await f.service.listResourceTags(keyID: ids[0], limit: 50, marker: nil, f.context)
        #expect(listed.tags.count == 49 && listed.nextMarker == nil && listed.tags.contains(Tag(key: "k1", value: "overwritten")))
    }
}
