import Foundation
import KMSCore
import KMSStorage

/// The behaviour every `Store` must have. A store's test target runs each check against a
/// fresh, empty store of its kind:
///
///     for check in StoreConformance.checks { try await check.run(makeStore()) }
public enum StoreConformance {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        public let run: @Sendable (any Store) async throws -> Void
        public var description: String { name }
    }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
        if !condition { throw Failure(description: "StoreConformance.swift:\(line): \(message())") }
    }

    static func expectError(_ expected: StoreError, _ body: () async throws -> Void, line: Int = #line) async throws {
        do {
            try await body()
        } catch {
            try expect(error as? StoreError == expected, "expected \(expected), got \(error)", line: line)
            return
        }
        throw Failure(description: "StoreConformance.swift:\(line): expected \(expected), nothing thrown")
    }

    static func key(_ id: String = UUID().uuidString.lowercased(), account: String = "111122223333", region: String = "us-east-1") -> KMSKey {
        KMSKey(
            id: id, account: account, region: region, creationDate: Date(timeIntervalSince1970: 1_700_000_000.123),
            description: "d", usage: .encryptDecrypt, spec: .symmetricDefault, origin: .awsKMS, state: .enabled, policy: "{}")
    }

    public static let checks: [Check] = [
        Check(name: "custom key stores and HSM clusters round-trip; names are unique; keys are counted per store") { store in
            let cluster = HSMCluster(
                id: "cluster-abcdefghijk", modulePath: "/usr/lib/softhsm/libsofthsm2.so", tokenLabel: "t",
                trustAnchorCertificate: "-----BEGIN CERTIFICATE-----", creationDate: Date(timeIntervalSince1970: 1_700_000_000.5))
            try await store.commit([.insertHSMCluster(cluster)])
            let clusters = try await store.hsmClusters()
            try expect(try await store.hsmCluster(id: cluster.id) == cluster && clusters == [cluster], "cluster read back")
            var sameToken = cluster
            sameToken.id = "cluster-bcdefghijkl"
            try await expectError(.alreadyExists) { try await store.commit([.insertHSMCluster(sameToken)]) }
            let first = CustomKeyStore(
                id: "cks-00000000000000001", account: "111122223333", region: "us-east-1", name: "hsm", type: .cloudHSM,
                creationDate: Date(timeIntervalSince1970: 1_700_000_001.25), connectionState: .failed, connectionErrorCode: .invalidCredentials,
                cloudHSMClusterID: cluster.id, trustAnchorCertificate: "pem", sealedPassword: [1, 2, 3])
            var second = first
            second.id = "cks-00000000000000002"
            second.creationDate = Date(timeIntervalSince1970: 1_700_000_002)
            second.name = "other"
            var elsewhere = first
            elsewhere.id = "cks-00000000000000003"
            elsewhere.region = "eu-west-1"
            try await store.commit([.insertCustomKeyStore(first), .insertCustomKeyStore(second), .insertCustomKeyStore(elsewhere)])
            try expect(try await store.customKeyStore(id: first.id) == first, "store read back")
            let listed = try await store.customKeyStores(account: "111122223333", region: "us-east-1").map(\.id)
            try expect(listed == [first.id, second.id], "listed \(listed)")
            var taken = second
            taken.id = "cks-00000000000000004"
            taken.name = "hsm"
            try await expectError(.alreadyExists) { try await store.commit([.insertCustomKeyStore(taken)]) }
            var connected = first
            connected.connectionState = .connected
            connected.connectionErrorCode = nil
            connected.name = "renamed"
            try await store.commit([.updateCustomKeyStore(connected)])
            let stored = try await store.customKeyStore(id: first.id)
            try expect(stored?.connectionState == .connected && stored?.connectionErrorCode == nil && stored?.revision == 1, "update")
            try await expectError(.conflict) { try await store.commit([.updateCustomKeyStore(connected)]) }
            var inStore = key()
            inStore.origin = .awsCloudHSM
            inStore.customKeyStoreID = first.id
            try await store.commit([.insertKey(inStore), .insertKey(key())])
            try expect(try await store.key(id: inStore.id, region: inStore.region)?.customKeyStoreID == first.id, "key's store")
            try expect(try await store.keyCount(customKeyStoreID: first.id) == 1, "keys of the store")
            try await expectError(.conflict) { try await store.commit([.deleteCustomKeyStore(id: second.id, revision: 5)]) }
            try await store.commit([.deleteCustomKeyStore(id: second.id, revision: 0)])
            try expect(try await store.customKeyStore(id: second.id) == nil, "deleted")
            // An external key store: its proxy's settings, and keys naming their external key (once per store).
            var external = CustomKeyStore(
                id: "cks-00000000000000005", account: "111122223333", region: "us-east-1", name: "xks", type: .external,
                creationDate: Date(timeIntervalSince1970: 1_700_000_005),
                xksProxy: XKSProxySettings(
                    uriEndpoint: "https://xks.example.com", uriPath: "/acme/kms/xks/v1", connectivity: "PUBLIC_ENDPOINT",
                    accessKeyID: "AKIAI2SFODNN7EXAMPLE"),
                sealedPassword: [4, 5, 6])
            try await store.commit([.insertCustomKeyStore(external)])
            try expect(try await store.customKeyStore(id: external.id) == external, "external store read back")
            external.xksProxy?.uriPath = "/other/kms/xks/v1"
            try await store.commit([.updateCustomKeyStore(external)])
            try expect(try await store.customKeyStore(id: external.id)?.xksProxy?.uriPath == "/other/kms/xks/v1", "proxy settings updated")
            var externalKey = key()
            externalKey.origin = .externalKeyStore
            externalKey.customKeyStoreID = external.id
            externalKey.xksKeyID = "ext-1"
            try await store.commit([.insertKey(externalKey)])
            try expect(try await store.key(id: externalKey.id, region: externalKey.region) == externalKey, "external key read back")
            var again = key()
            again.origin = .externalKeyStore
            again.customKeyStoreID = external.id
            again.xksKeyID = "ext-1"
            try await expectError(.alreadyExists) { try await store.commit([.insertKey(again)]) }
        },
        Check(name: "keys round-trip with every field") { store in
            var key = key()
            key.state = .pendingDeletion
            key.deletionDate = Date(timeIntervalSince1970: 1_800_000_000.5)
            key.pendingWindowInDays = 7
            key.currentMaterialVersion = 3
            key.automaticRotation = AutomaticRotation(periodInDays: 90, nextDate: Date(timeIntervalSince1970: 1_750_000_000.25))
            key.primaryRegion = "eu-west-1"
            key.keyManager = .aws
            try await store.commit([.insertKey(key)])
            try expect(try await store.key(id: key.id, region: key.region) == key, "read back differs")
            try expect(try await store.key(id: "missing", region: key.region) == nil, "missing key found")
            try await store.commit([.insertKey(StoreConformance.key()), .insertKey(StoreConformance.key(region: "eu-west-1"))])
            try expect(try await store.keyCount(account: "111122223333", region: "us-east-1") == 2, "count per region")
            try expect(try await store.keyCount(account: "444455556666", region: "us-east-1") == 0, "count per account")
            try await store.commit([.deleteKey(id: key.id, region: key.region, revision: key.revision)])
            try await expectError(.conflict) { try await store.commit([.deleteKey(id: key.id, region: key.region, revision: key.revision)]) }
            try expect(try await store.keyCount(account: "111122223333", region: "us-east-1") == 1, "count after a deletion")
        },
        Check(name: "the key census counts keys by state and spec, over accounts and Regions") { store in
            var disabled = key(account: "444455556666", region: "eu-west-1")
            disabled.state = .disabled
            var hmac = key()
            hmac.spec = .hmac256
            hmac.usage = .generateVerifyMac
            try await store.commit([.insertKey(key()), .insertKey(key(region: "eu-west-1")), .insertKey(disabled), .insertKey(hmac)])
            let census = Set(try await store.keyCensus().map { "\($0.group.state) \($0.group.spec) \($0.count)" })
            try expect(census == ["Enabled SYMMETRIC_DEFAULT 2", "Disabled SYMMETRIC_DEFAULT 1", "Enabled HMAC_256 1"], "census \(census)")
        },
        Check(name: "updates are refused on a stale revision and bump the revision") { store in
            let key = key()
            try await store.commit([.insertKey(key)])
            var changed = key
            changed.description = "new"
            try await store.commit([.updateKey(changed)])
            let stored = try await store.key(id: key.id, region: key.region)
            try expect(stored?.description == "new" && stored?.revision == key.revision + 1, "update not applied")
            try await expectError(.conflict) { try await store.commit([.updateKey(changed)]) }
        },
        Check(name: "a failed commit changes nothing") { store in
            let key = key()
            try await store.commit([.insertKey(key)])
            let other = Self.key()
            var stale = key
            stale.revision = 41
            try await expectError(.conflict) {
                try await store.commit([
                    .insertKey(other), .putTags(keyID: key.id, region: key.region, tags: [Tag(key: "a", value: "b")]), .updateKey(stale),
                ])
            }
            try expect(try await store.key(id: other.id, region: other.region) == nil, "partial commit: key inserted")
            try expect(try await store.tags(keyID: key.id, region: key.region).isEmpty, "partial commit: tags written")
        },
        Check(name: "key listing is per account and region, ordered, paged") { store in
            let ids = (0..<5).map { "0000000\($0)-0000-0000-0000-000000000000" }
            try await store.commit(
                ids.map { .insertKey(key($0)) } + [.insertKey(key(account: "444455556666")), .insertKey(key(region: "eu-west-1"))])
            let first = try await store.keys(account: "111122223333", region: "us-east-1", afterID: nil, limit: 3)
            try expect(first.map(\.id) == Array(ids[0..<3]), "first page \(first.map(\.id))")
            let rest = try await store.keys(account: "111122223333", region: "us-east-1", afterID: ids[2], limit: 3)
            try expect(rest.map(\.id) == Array(ids[3...]), "second page \(rest.map(\.id))")
        },
        Check(name: "material versions are stored per key and version") { store in
            let key = key()
            let v1 = KeyMaterialRecord(
                keyID: key.id, region: key.region, version: 1, wrapped: [1, 2, 3], creationDate: Date(timeIntervalSince1970: 1_700_000_000),
                materialID: String(repeating: "a", count: 64))
            let v2 = KeyMaterialRecord(
                keyID: key.id, region: key.region, version: 2, wrapped: [4, 5], creationDate: Date(timeIntervalSince1970: 1_700_000_001),
                materialID: String(repeating: "b", count: 64), rotationType: .onDemand)
            try await store.commit([.insertKey(key), .insertKeyMaterial(v1), .insertKeyMaterial(v2)])
            try expect(try await store.keyMaterial(keyID: key.id, region: key.region, version: 1) == v1, "v1")
            try expect(try await store.keyMaterial(keyID: key.id, region: key.region, version: 2) == v2, "v2")
            try expect(try await store.keyMaterial(keyID: key.id, region: key.region, version: 3) == nil, "v3")
            try expect(try await store.keyMaterials(keyID: key.id, region: key.region) == [v1, v2], "all versions, oldest first")
            try await expectError(.alreadyExists) { try await store.commit([.insertKeyMaterial(v1)]) }
        },
        Check(name: "imported material: replaced whole, found when its ValidTo has passed unless deleted") { store in
            let key = key()
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            var v1 = KeyMaterialRecord(
                keyID: key.id, region: key.region, version: 1, wrapped: [1], creationDate: now,
                materialID: String(repeating: "a", count: 64), validTo: now + 10)
            var v2 = KeyMaterialRecord(
                keyID: key.id, region: key.region, version: 2, wrapped: [2], creationDate: now,
                materialID: String(repeating: "b", count: 64), validTo: now + 20)
            let v3 = KeyMaterialRecord(
                keyID: key.id, region: key.region, version: 3, wrapped: [3], creationDate: now, materialID: String(repeating: "c", count: 64))
            try await store.commit([.insertKey(key), .insertKeyMaterial(v1), .insertKeyMaterial(v2), .insertKeyMaterial(v3)])
            try expect(try await store.expiredKeyMaterials(by: now + 9).isEmpty, "none yet")
            try expect(try await store.expiredKeyMaterials(by: now + 20) == [v1, v2], "both, soonest first")
            v1.wrapped = []
            v2.rotationType = .onDemand
            v2.creationDate = now + 5
            v2.description = "rotated"
            v2.validTo = now + 30
            try await store.commit([.replaceKeyMaterial(v1), .replaceKeyMaterial(v2)])
            try expect(try await store.keyMaterials(keyID: key.id, region: key.region) == [v1, v2, v3], "replaced")
            try expect(try await store.expiredKeyMaterials(by: now + 20).isEmpty, "deleted and moved ones are not")
        },
        Check(name: "keys due for rotation: enabled, with rotation on, due by the date") { store in
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            var due = key(), later = key(), disabled = key(), off = key()
            due.automaticRotation = AutomaticRotation(periodInDays: 365, nextDate: now - 1)
            later.automaticRotation = AutomaticRotation(periodInDays: 365, nextDate: now + 1)
            disabled.automaticRotation = due.automaticRotation
            disabled.state = .disabled
            try await store.commit([.insertKey(due), .insertKey(later), .insertKey(disabled), .insertKey(off)])
            try expect(try await store.keysDueForRotation(at: now).map(\.id) == [due.id], "due")
            var rotated = due
            rotated.automaticRotation?.nextDate = now + 86_400
            try await store.commit([.updateKey(rotated)])
            try expect(try await store.keysDueForRotation(at: now).isEmpty, "rotated")
        },
        Check(name: "aliases: unique per account and region, update, delete, filter, page") { store in
            let (a, b) = (key(), key())
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            let alias = Alias(name: "alias/x", account: a.account, region: a.region, targetKeyID: a.id, creationDate: now, lastUpdatedDate: now)
            var second = alias
            second.name = "alias/y"
            second.targetKeyID = b.id
            try await store.commit([.insertKey(a), .insertKey(b), .insertAlias(alias), .insertAlias(second)])
            try await expectError(.alreadyExists) { try await store.commit([.insertAlias(alias)]) }
            // The same name in another region, for the key of that region (a replica of `a`'s ID).
            var elsewhere = alias
            elsewhere.region = "eu-west-1"
            try await store.commit([.insertKey(key(a.id, region: "eu-west-1")), .insertAlias(elsewhere)])
            try expect(try await store.alias(account: a.account, region: a.region, name: "alias/x") == alias, "read")
            try expect(
                try await store.aliases(account: a.account, region: a.region, targetKeyID: b.id, afterName: nil, limit: 10).map(\.name) == [
                    "alias/y"
                ], "filter")
            try expect(
                try await store.aliases(account: a.account, region: a.region, targetKeyID: nil, afterName: "alias/x", limit: 10).map(\.name) == [
                    "alias/y"
                ], "page")
            var moved = alias
            moved.targetKeyID = b.id
            moved.lastUpdatedDate = now.addingTimeInterval(5)
            try await store.commit([.updateAlias(moved)])
            try expect(try await store.alias(account: a.account, region: a.region, name: "alias/x") == moved, "update")
            try await store.commit([.deleteAlias(account: a.account, region: a.region, name: "alias/x")])
            try await expectError(.notFound) { try await store.commit([.deleteAlias(account: a.account, region: a.region, name: "alias/x")]) }
            try await expectError(.notFound) { try await store.commit([.updateAlias(moved)]) }
        },
        Check(name: "tags: put overwrites, remove ignores absent keys, ordered by key") { store in
            let key = key()
            try await store.commit([
                .insertKey(key), .putTags(keyID: key.id, region: key.region, tags: [Tag(key: "b", value: "1"), Tag(key: "a", value: "2")]),
            ])
            try await store.commit([
                .putTags(keyID: key.id, region: key.region, tags: [Tag(key: "b", value: "3")]),
                .removeTags(keyID: key.id, region: key.region, tagKeys: ["a", "zz"]),
            ])
            try expect(try await store.tags(keyID: key.id, region: key.region) == [Tag(key: "b", value: "3")], "tags")
        },
        Check(name: "free text holds any character, NUL included: descriptions, key and principal tags") { store in
            var key = key()
            key.description = "a\u{0}b\u{1F511}"
            let odd = Tag(key: "k\u{0}", value: "\u{0}v\u{7F}")
            let bob = Principal.user(account: "111122223333", "bob")
            try await store.commit([
                .insertKey(key), .putTags(keyID: key.id, region: key.region, tags: [odd]),
                .insertPrincipal(bob, creationDate: Date(timeIntervalSince1970: 1_700_000_000)), .putPrincipalTags(bob, tags: [odd]),
            ])
            try expect(try await store.key(id: key.id, region: key.region)?.description == key.description, "description")
            try expect(try await store.tags(keyID: key.id, region: key.region) == [odd], "key tags")
            try expect(try await store.principalTags(of: bob) == [odd], "principal tags")
            try await store.commit([
                .removeTags(keyID: key.id, region: key.region, tagKeys: [odd.key]), .removePrincipalTags(bob, tagKeys: [odd.key]),
            ])
            try expect(try await store.tags(keyID: key.id, region: key.region).isEmpty, "key tag removed")
            try expect(try await store.principalTags(of: bob).isEmpty, "principal tag removed")
        },
        Check(name: "deleting a key removes its material, tags and aliases") { store in
            let key = key()
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            try await store.commit([
                .insertKey(key),
                .insertKeyMaterial(
                    KeyMaterialRecord(
                        keyID: key.id, region: key.region, version: 1, wrapped: [1], creationDate: now, materialID: String(repeating: "c", count: 64))
                ),
                .putTags(keyID: key.id, region: key.region, tags: [Tag(key: "a", value: "b")]),
                .insertAlias(
                    Alias(name: "alias/gone", account: key.account, region: key.region, targetKeyID: key.id, creationDate: now, lastUpdatedDate: now)),
            ])
            try await expectError(.conflict) { try await store.commit([.deleteKey(id: key.id, region: key.region, revision: 9)]) }
            try await store.commit([.deleteKey(id: key.id, region: key.region, revision: key.revision)])
            try expect(try await store.key(id: key.id, region: key.region) == nil, "key")
            try expect(try await store.keyMaterial(keyID: key.id, region: key.region, version: 1) == nil, "material")
            try expect(try await store.tags(keyID: key.id, region: key.region).isEmpty, "tags")
            try expect(try await store.alias(account: key.account, region: key.region, name: "alias/gone") == nil, "alias")
        },
        Check(name: "multi-Region keys: one key ID in several regions, each with its own material, tags and grants") { store in
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            var primary = key("mrk-" + String(repeating: "ab", count: 16))
            primary.primaryRegion = primary.region
            var replica = primary
            replica.region = "eu-west-1"
            var single = key()
            single.automaticRotation = AutomaticRotation(periodInDays: 90, nextDate: now)
            primary.automaticRotation = single.automaticRotation
            replica.automaticRotation = single.automaticRotation
            func material(_ k: KMSKey, _ byte: UInt8) -> KeyMaterialRecord {
                KeyMaterialRecord(
                    keyID: k.id, region: k.region, version: 1, wrapped: [byte], creationDate: now, materialID: String(repeating: "d", count: 64))
            }
            func grant(_ id: String, _ k: KMSKey) -> Grant {
                Grant(
                    id: id, keyID: k.id, keyARN: k.arn, name: nil, granteePrincipal: "arn:aws:iam::111122223333:user/a", retiringPrincipal: nil,
                    operations: [.decrypt], constraints: nil, issuingAccount: "111122223333", creationDate: now)
            }
            try await store.commit([
                .insertKey(primary), .insertKey(replica), .insertKey(single), .insertKeyMaterial(material(primary, 1)),
                .insertKeyMaterial(material(replica, 2)),
                .putTags(keyID: primary.id, region: primary.region, tags: [Tag(key: "side", value: "primary")]),
                .putTags(keyID: replica.id, region: replica.region, tags: [Tag(key: "side", value: "replica")]),
                .insertGrant(grant("gp", primary)), .insertGrant(grant("gr", replica)),
            ])
            try await expectError(.alreadyExists) { try await store.commit([.insertKey(replica)]) }
            try expect(try await store.key(id: primary.id, region: "eu-west-1") == replica, "replica by region")
            try expect(try await store.relatedKeys(id: primary.id) == [replica, primary], "related keys, by region")
            try expect(try await store.keyMaterial(keyID: primary.id, region: replica.region, version: 1)?.wrapped == [2], "replica material")
            try expect(try await store.tags(keyID: primary.id, region: primary.region) == [Tag(key: "side", value: "primary")], "primary tags")
            try expect(try await store.grants(keyID: primary.id, region: replica.region).map(\.id) == ["gr"], "replica grants")
            try expect(
                try await store.grants(keyID: primary.id, region: replica.region, grantees: ["arn:aws:iam::111122223333:user/a"]).map(\.id) == ["gr"],
                "replica grants by grantee")
            // A replica rotates with its primary: only single-Region and primary keys are due.
            try expect(Set(try await store.keysDueForRotation(at: now).map(\.region)) == ["us-east-1"], "due for rotation")
            try expect(try await store.keysDueForRotation(at: now).count == 2, "primary and single-Region key due")
            // Deleting one region's key leaves the others whole.
            try await store.commit([.deleteKey(id: replica.id, region: replica.region, revision: replica.revision)])
            try expect(try await store.relatedKeys(id: primary.id) == [primary], "primary left")
            try expect(try await store.keyMaterial(keyID: primary.id, region: primary.region, version: 1)?.wrapped == [1], "primary material left")
            try expect(try await store.grants(keyID: primary.id, region: primary.region).map(\.id) == ["gp"], "primary grants left")
            try expect(try await store.grant(id: "gr") == nil, "replica grant deleted")
        },
        Check(name: "keys due for deletion") { store in
            var due = key()
            due.state = .pendingDeletion
            due.deletionDate = Date(timeIntervalSince1970: 1_000)
            var later = key()
            later.state = .pendingDeletion
            later.deletionDate = Date(timeIntervalSince1970: 5_000)
            try await store.commit([.insertKey(due), .insertKey(later), .insertKey(key())])
            try expect(try await store.keysDueForDeletion(at: Date(timeIntervalSince1970: 1_000)).map(\.id) == [due.id], "due")
        },
        Check(name: "principals and access keys") { store in
            let alice = Principal.user(account: "111122223333", "alice")
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            try await store.commit([
                .insertPrincipal(alice, creationDate: now),
                .insertAccessKey(AccessKey(id: "AKIA1", principal: alice, sealedSecret: [9]), creationDate: now),
            ])
            try await expectError(.alreadyExists) { try await store.commit([.insertPrincipal(alice, creationDate: now)]) }
            try expect(try await store.principals(account: "111122223333") == [alice], "principals")
            try expect(try await store.accessKey(id: "AKIA1") == AccessKey(id: "AKIA1", principal: alice, sealedSecret: [9]), "access key")
            try expect(try await store.accessKeys(of: alice).map(\.id) == ["AKIA1"], "keys of")
            try await store.commit([.deleteAccessKey(id: "AKIA1")])
            try expect(try await store.accessKey(id: "AKIA1") == nil, "deleted")
            try await expectError(.notFound) { try await store.commit([.deleteAccessKey(id: "AKIA1")]) }
            let role = Principal.role(account: "111122223333", "alice")
            try await store.commit([.insertPrincipal(role, creationDate: now)])
            let hasRole = try await store.hasPrincipal(role), hasBob = try await store.hasPrincipal(.user(account: "111122223333", "bob"))
            try expect(hasRole && !hasBob, "has principal")
            // Each incarnation of a principal has its own identifier.
            let first = try await store.principalIncarnation(of: role)
            try await store.commit([.deletePrincipal(role)])
            try expect(try await store.principalIncarnation(of: role) == nil, "no incarnation once deleted")
            try await store.commit([.insertPrincipal(role, creationDate: now)])
            let second = try await store.principalIncarnation(of: role)
            try expect(first != nil && second != nil && first != second, "a new incarnation")
        },
        Check(name: "identity policies and principal tags go with their principal") { store in
            let bob = Principal.user(account: "111122223333", "bob")
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            try await store.commit([
                .insertPrincipal(bob, creationDate: now),
                .putIdentityPolicy(bob, IdentityPolicy(name: "b", document: "{}")),
                .putIdentityPolicy(bob, IdentityPolicy(name: "a", document: "{1}")),
                .putIdentityPolicy(bob, IdentityPolicy(name: "a", document: "{2}")),
                .putPrincipalTags(bob, tags: [Tag(key: "team", value: "x"), Tag(key: "cost", value: "1")]),
                .putPrincipalTags(bob, tags: [Tag(key: "team", value: "y")]),
                .insertAccessKey(AccessKey(id: "AKIA2", principal: bob, sealedSecret: [1]), creationDate: now),
            ])
            try expect(
                try await store.identityPolicies(of: bob) == [IdentityPolicy(name: "a", document: "{2}"), IdentityPolicy(name: "b", document: "{}")],
                "policies")
            try expect(try await store.principalTags(of: bob) == [Tag(key: "cost", value: "1"), Tag(key: "team", value: "y")], "tags")
            try await store.commit([.deleteIdentityPolicy(bob, name: "b"), .removePrincipalTags(bob, tagKeys: ["cost", "absent"])])
            try expect(try await store.identityPolicies(of: bob).map(\.name) == ["a"], "policy deleted")
            try expect(try await store.principalTags(of: bob).map(\.key) == ["team"], "tag removed")
            try await expectError(.notFound) { try await store.commit([.deleteIdentityPolicy(bob, name: "b")]) }
            try await store.commit([.deletePrincipal(bob)])
            let policiesLeft = try await store.identityPolicies(of: bob), tagsLeft = try await store.principalTags(of: bob)
            try expect(policiesLeft.isEmpty && tagsLeft.isEmpty, "cascade")
            try expect(try await store.accessKey(id: "AKIA2") == nil, "access key cascade")
            try await expectError(.notFound) { try await store.commit([.deletePrincipal(bob)]) }
        },
        Check(name: "grants: by key, by retiring principal, deleted with their key") { store in
            let k = key()
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            func grant(_ id: String, retiring: String?) -> Grant {
                Grant(
                    id: id, keyID: k.id, keyARN: k.arn, name: id == "g1" ? "n" : nil, granteePrincipal: "arn:aws:iam::111122223333:user/a",
                    retiringPrincipal: retiring, operations: [.decrypt, .retireGrant],
                    constraints: id == "g1" ? GrantConstraints(encryptionContextSubset: ["Department": "IT"], sourceArn: "arn:aws:s3:::b") : nil,
                    issuingAccount: "arn:aws:iam::111122223333:root", creationDate: now,
                    granteeIsServicePrincipal: id == "g2", retiringIsServicePrincipal: id == "g1")
            }
            try await store.commit([
                .insertKey(k), .insertGrant(grant("g2", retiring: "r")), .insertGrant(grant("g1", retiring: "r")),
                .insertGrant(grant("g3", retiring: nil)),
            ])
            try expect(try await store.grant(id: "g1") == grant("g1", retiring: "r"), "round trip")
            try expect(try await store.grant(id: "g2") == grant("g2", retiring: "r"), "round trip, to a service principal")
            try expect(try await store.grants(keyID: k.id, region: k.region).map(\.id) == ["g1", "g2", "g3"], "by key")
            try expect(
                try await store.grants(keyID: k.id, region: k.region, grantees: ["arn:aws:iam::111122223333:user/a", "x"]).map(\.id) == [
                    "g1", "g2", "g3",
                ], "by grantee")
            try expect(try await store.grants(keyID: k.id, region: k.region, grantees: ["arn:aws:iam::111122223333:user/b"]).isEmpty, "other grantee")
            try expect(try await store.grants(retiringPrincipal: "r", afterID: "g1", limit: 5).map(\.id) == ["g2"], "by retiring")
            try expect(try await store.grants(naming: "r").map(\.id) == ["g1", "g2"], "naming, as retiring principal")
            try expect(try await store.grants(naming: "arn:aws:iam::111122223333:user/a").map(\.id) == ["g1", "g2", "g3"], "naming, as grantee")
            try expect(try await store.grants(naming: "arn:aws:iam::111122223333:user/").isEmpty, "naming, exactly")
            try expect(try await store.keys(withPolicyMentioning: "{}").map(\.id) == [k.id], "policy mentioning")
            try expect(try await store.keys(withPolicyMentioning: "no such text").isEmpty, "policy not mentioning")
            try await store.commit([.deleteGrant(id: "g2", keyID: k.id, region: k.region)])
            try await expectError(.notFound) { try await store.commit([.deleteGrant(id: "g2", keyID: k.id, region: k.region)]) }
            try await store.commit([.deleteKey(id: k.id, region: k.region, revision: k.revision)])
            try expect(try await store.grant(id: "g1") == nil, "deleted with key")
        },
        Check(name: "audit events: gapless per chain, linked, filtered, pruned from the start, rolled back with their commit") { store in
            let t0 = Date(timeIntervalSince1970: 1_700_000_000)
            func event(
                _ chain: String, _ name: String, at seconds: Double, user: String? = "alice", error: String? = nil, keys: [String] = []
            ) -> AuditEvent {
                AuditEvent(
                    chain: chain, record: ["eventName": .string(name), "eventID": .string(UUID().uuidString)], eventTime: t0 + seconds,
                    eventName: name, account: "111122223333", region: "us-east-1", userName: user, accessKeyID: "AKIA1",
                    readOnly: name != "CreateKey", errorCode: error, keyIDs: keys)
            }
            try await store.commit([
                .appendAuditEvent(event("a", "CreateKey", at: 0, keys: ["k1"])), .appendAuditEvent(event("a", "Encrypt", at: 1, keys: ["k1"])),
            ])
            try await store.commit([.appendAuditEvent(event("b", "Decrypt", at: 2, user: "bob", error: "AccessDeniedException"))])
            try await store.commit([.appendAuditEvent(event("a", "Encrypt", at: 3, keys: ["k2"]))])
            // A failing commit takes its event with it.
            try await expectError(.notFound) {
                try await store.commit([
                    .appendAuditEvent(event("a", "DeleteAlias", at: 4)), .deleteGrant(id: "none", keyID: "none", region: "us-east-1"),
                ])
            }
            let chains = try await store.auditChains()
            try expect(chains.map(\.chain) == ["a", "b"] && chains.map(\.headSequence) == [3, 1], "chains \(chains)")
            let a = try await store.auditEvents(chain: "a", afterSequence: 0, limit: 10)
            try expect(a.map(\.sequence) == [1, 2, 3], "sequences")
            var verifier = AuditChainVerifier(chain: "a", baseSequence: 0, baseDigest: AuditChain.genesisDigest)
            for e in a { try expect(verifier.consume(e.bytes, storedSequence: e.sequence) == nil, "link at \(e.sequence)") }
            try expect(verifier.lastDigest == chains[0].headDigest, "head digest")
            func names(_ query: AuditQuery) async throws -> [String] {
                try await store.auditEvents(matching: query).events.compactMap { JSONValue.parse(bytes: $0.bytes)?[member: "eventName"]?.stringValue }
            }
            try expect(try await names(AuditQuery()) == ["Encrypt", "Decrypt", "Encrypt", "CreateKey"], "newest first")
            try expect(try await names(AuditQuery(keyID: "k1")) == ["Encrypt", "CreateKey"], "by key")
            try expect(try await names(AuditQuery(keyID: "k1", region: "us-east-1")) == ["Encrypt", "CreateKey"], "by key and region")
            try expect(try await names(AuditQuery(keyID: "k1", region: "eu-west-1")).isEmpty, "by key in another region")
            try expect(try await names(AuditQuery(userName: "bob")) == ["Decrypt"], "by user")
            try expect(try await names(AuditQuery(errorsOnly: true)) == ["Decrypt"], "errors")
            try expect(try await names(AuditQuery(readOnly: false)) == ["CreateKey"], "read-only")
            try expect(try await names(AuditQuery(startTime: t0 + 1, endTime: t0 + 3)) == ["Decrypt", "Encrypt"], "time range")
            try await store.commit([.pruneAuditEvents(through: ["a": 2])])
            let pruned = try await store.auditChains()[0]
            try expect(pruned.baseSequence == 2 && pruned.baseDigest == a[1].digest && pruned.headSequence == 3, "base moved")
            try expect(try await store.auditEvents(chain: "a", afterSequence: 0, limit: 10).map(\.sequence) == [3], "prefix gone")
            try expect(try await names(AuditQuery(keyID: "k1")).isEmpty, "resources pruned")
            let statement: [UInt8] = Array("{}".utf8)
            try expect(try await store.lastAuditCheckpoint() == nil, "no checkpoint yet")
            try await store.commit([
                .insertAuditCheckpoint(SignedAuditCheckpoint(statement: statement, signature: [1]), creationDate: t0, follows: nil)
            ])
            try await store.commit([
                .insertAuditCheckpoint(SignedAuditCheckpoint(statement: statement, signature: [2]), creationDate: t0, follows: [1])
            ])
            // A writer that signed after [1] too, unaware of [2], would fork the sequence.
            try await expectError(.conflict) {
                try await store.commit([
                    .insertAuditCheckpoint(SignedAuditCheckpoint(statement: statement, signature: [3]), creationDate: t0, follows: [1])
                ])
            }
            try expect(try await store.auditCheckpoints().map(\.signature) == [[1], [2]], "checkpoints, oldest first")
            try expect(try await store.lastAuditCheckpoint()?.signature == [2], "the last checkpoint")
            try await store.commit([.insertAuditSigningKey(wrapped: [1], publicKey: [2], creationDate: t0)])
            try await expectError(.alreadyExists) { try await store.commit([.insertAuditSigningKey(wrapped: [3], publicKey: [4], creationDate: t0)]) }
            try expect(try await store.auditSigningKey()?.wrapped == [1], "one signing key")
        },
        Check(name: "audit segments: events sealed once, read, looked up and pruned across segments and hot rows") { store in
            let t0 = Date(timeIntervalSince1970: 1_700_000_000)
            func event(_ n: Int) -> AuditEvent {
                let name = n % 3 == 0 ? "Decrypt" : "Encrypt"
                return AuditEvent(
                    chain: "s", record: ["eventName": .string(name), "n": .number(Double(n))], eventTime: t0 + Double(n), eventName: name,
                    account: "111122223333", region: "us-east-1", userName: n == 2 ? "bob" : "alice", accessKeyID: "AKIA1",
                    readOnly: true, errorCode: n == 4 ? "AccessDeniedException" : nil, keyIDs: n % 2 == 0 ? ["even"] : ["odd", "any"])
            }
            for n in 1...10 { try await store.commit([.appendAuditEvent(event(n))]) }
            let all = try await store.auditEvents(chain: "s", afterSequence: 0, limit: 100)
            let hot = try await store.hotAuditEvents(chain: "s", limit: 4)
            try expect(hot.map(\.sequence) == [1, 2, 3, 4], "the oldest hot events")
            try expect(hot[1].userName == "bob" && hot[3].errorCode == "AccessDeniedException" && hot[0].keyIDs == ["any", "odd"], "their fields")
            try expect(hot.map(\.bytes) == all.prefix(4).map(\.bytes), "their sealed bytes")
            let first = try AuditSegment(chain: "s", entries: Array(hot.prefix(3)))
            try expect(try first.entries() == Array(hot.prefix(3)), "a segment holds its entries")
            try await store.commit([.insertAuditSegment(first)])
            // Sealed once: the same events again, or a range the hot table no longer holds whole.
            try await expectError(.conflict) { try await store.commit([.insertAuditSegment(first)]) }
            try await expectError(.conflict) {
                try await store.commit([.insertAuditSegment(try AuditSegment(chain: "s", entries: Array(hot.suffix(2))))])
            }
            let next = try await store.hotAuditEvents(chain: "s", limit: 3)
            try expect(next.map(\.sequence) == [4, 5, 6], "hot events left")
            try await store.commit([.insertAuditSegment(try AuditSegment(chain: "s", entries: next))])
            try expect(try await store.auditEvents(chain: "s", afterSequence: 0, limit: 100) == all, "a chain reads the same")
            try expect(try await store.auditEvents(chain: "s", afterSequence: 2, limit: 5).map(\.sequence) == [3, 4, 5, 6, 7], "a page across")
            func numbers(_ query: AuditQuery) async throws -> [Int] {
                try await store.auditEvents(matching: query).events.compactMap { event -> Int? in
                    guard case .number(let n)? = JSONValue.parse(bytes: event.bytes)?[member: "n"] else { return nil }
                    return Int(n)
                }
            }
            try expect(try await numbers(AuditQuery(limit: 100)) == Array((1...10).reversed()), "newest first, across")
            try expect(try await numbers(AuditQuery(limit: 4)) == [10, 9, 8, 7], "a limit")
            try expect(try await numbers(AuditQuery(oldestFirst: true, limit: 2)) == [1, 2], "oldest first")
            try expect(try await numbers(AuditQuery(keyID: "odd", limit: 100)) == [9, 7, 5, 3, 1], "by key")
            try expect(try await numbers(AuditQuery(keyID: "even", succeededOnly: true, eventNames: ["Decrypt"], limit: 1)) == [6], "last use")
            try expect(try await numbers(AuditQuery(userName: "bob")) == [2], "by user")
            try expect(try await numbers(AuditQuery(errorsOnly: true)) == [4], "errors")
            try expect(try await numbers(AuditQuery(startTime: t0 + 5, endTime: t0 + 8)) == [7, 6, 5], "time range")
            try expect(try await numbers(AuditQuery(keyID: "none")).isEmpty, "no such key")
            // A prune that ends inside a segment stops before it; one at its end takes it whole.
            try await store.commit([.pruneAuditEvents(through: ["s": 5])])
            var state = try await store.auditChains().first { $0.chain == "s" }
            try expect(state?.baseSequence == 3 && state?.baseDigest == all[2].digest, "base before the straddling segment")
            try expect(try await store.auditEvents(chain: "s", afterSequence: 0, limit: 100) == Array(all.dropFirst(3)), "the rest")
            try await store.commit([.pruneAuditEvents(through: ["s": 7])])
            state = try await store.auditChains().first { $0.chain == "s" }
            try expect(state?.baseSequence == 7 && state?.baseDigest == all[6].digest, "base in the hot rows")
            try expect(try await numbers(AuditQuery(keyID: "odd", limit: 100)) == [9], "segments' keys pruned")
            try expect(try await numbers(AuditQuery(limit: 100)) == [10, 9, 8], "lookups after")
        },
        Check(name: "audit lookups page by cursor across chains, and narrow by account, record bytes, user, event name and segment budget") { store in
            let t0 = Date(timeIntervalSince1970: 1_700_000_000)
            // Two chains with events at the same instants: ties go by chain, then sequence.
            func event(_ chain: String, _ n: Int) -> AuditEvent {
                AuditEvent(
                    chain: chain, record: ["n": .number(Double(n)), "chain": .string(chain), "tag": .string(n == 2 ? "needle" : "hay")],
                    eventTime: t0 + Double(n / 2), eventName: n == 5 ? "Decrypt" : "Encrypt", account: n % 4 == 0 ? "444455556666" : "111122223333",
                    region: "us-east-1", userName: n == 3 ? "carol" : "alice", accessKeyID: nil, readOnly: true, errorCode: nil, keyIDs: [])
            }
            for n in 1...12 { try await store.commit([.appendAuditEvent(event("a", n)), .appendAuditEvent(event("b", n))]) }
            for chain in ["a", "b"] {
                for _ in 0..<3 {
                    let hot = try await store.hotAuditEvents(chain: chain, limit: 3)
                    try await store.commit([.insertAuditSegment(try AuditSegment(chain: chain, entries: hot))])
                }
            }
            func places(_ events: [StoredAuditEvent]) -> [String] {
                events.compactMap { event -> String? in
                    guard let record = JSONValue.parse(bytes: event.bytes), case .number(let n)? = record[member: "n"] else { return nil }
                    return "\(event.chain)\(Int(n))"
                }
            }
            func places(_ query: AuditQuery) async throws -> [String] { places(try await store.auditEvents(matching: query).events) }
            for oldestFirst in [false, true] {
                let everything = try await places(AuditQuery(oldestFirst: oldestFirst, limit: 100))
                var paged: [String] = []
                var query = AuditQuery(oldestFirst: oldestFirst, limit: 5)
                while true {
                    let page = try await store.auditEvents(matching: query)
                    paged += places(page.events)
                    guard page.events.count == 5, let last = page.events.last else { break }
                    query.after = AuditCursor(last)
                }
                try expect(everything.count == 24 && paged == everything, "pages in order \(oldestFirst): \(paged)")
            }
            try expect(try await places(AuditQuery(limit: 4)) == ["a12", "b12", "a11", "a10"], "newest first; same instant: chain, then sequence")
            var others = AuditQuery(limit: 100)
            others.account = "444455556666"
            try expect(try await places(others) == ["a12", "b12", "a8", "b8", "a4", "b4"], "by account")
            var needle = AuditQuery(limit: 100)
            needle.recordContains = Array(#""tag":"needle""#.utf8)
            try expect(try await places(needle) == ["a2", "b2"], "by record bytes, sealed and hot")
            try expect(try await places(AuditQuery(userName: "carol", limit: 100)) == ["a3", "b3"], "by user, through the segments' terms")
            try expect(try await places(AuditQuery(eventName: "Decrypt", limit: 100)) == ["a5", "b5"], "by event name, through the terms")
            // A budget of one segment: each answer holds what no unread segment can precede, and
            // says where to go on; following it finds everything, once.
            var budgeted = needle
            budgeted.limit = 10
            budgeted.segmentBudget = 1
            var found: [String] = []
            var steps = 0
            while steps < 20 {
                steps += 1
                let page = try await store.auditEvents(matching: budgeted)
                found += places(page.events)
                guard let resume = page.resume else { break }
                budgeted.after = resume
            }
            try expect(found == ["a2", "b2"] && steps > 2, "budgeted steps \(steps): \(found)")
        },
        Check(name: "a job lease: one holder until it ends, renewable by its holder") { store in
            let t0 = Date(timeIntervalSince1970: 1_700_000_000)
            try await store.commit([.takeJobLease(job: "retention", holder: "a", until: t0 + 60, now: t0)])
            try await expectError(.conflict) { try await store.commit([.takeJobLease(job: "retention", holder: "b", until: t0 + 90, now: t0 + 30)]) }
            try await store.commit([.takeJobLease(job: "retention", holder: "a", until: t0 + 120, now: t0 + 30)])
            try await store.commit([.takeJobLease(job: "other", holder: "b", until: t0 + 120, now: t0 + 30)])
            try await expectError(.conflict) { try await store.commit([.takeJobLease(job: "retention", holder: "b", until: t0 + 180, now: t0 + 90)]) }
            try await store.commit([.takeJobLease(job: "retention", holder: "b", until: t0 + 240, now: t0 + 120)])
        },
        Check(name: "the change generation moves with a commit that changes a stored row, only then") { store in
            let key = key()
            let g0 = try store.changeGeneration()
            let event = AuditEvent(
                chain: "g", record: [:], eventTime: key.creationDate, eventName: "Encrypt", account: key.account,
                region: key.region, userName: nil, accessKeyID: nil, readOnly: true, errorCode: nil, keyIDs: [])
            try await store.commit([.insertKey(key), .appendAuditEvent(event)])
            try expect(try store.changeGeneration() == g0, "moved on inserting a new key")
            var changed = key
            changed.state = .disabled
            try await store.commit([.updateKey(changed)])
            let g1 = try store.changeGeneration()
            try expect(g1 != g0, "did not move on a key update")
            try await expectError(.conflict) { try await store.commit([.updateKey(changed)]) }
            try expect(try store.changeGeneration() == g1, "moved on a failed commit")
            try await store.commit([
                .insertGrant(
                    Grant(
                        id: "gg", keyID: key.id, keyARN: key.arn, name: nil, granteePrincipal: "arn:aws:iam::111122223333:user/a",
                        retiringPrincipal: nil, operations: [.decrypt], constraints: nil,
                        issuingAccount: "arn:aws:iam::111122223333:root", creationDate: key.creationDate))
            ])
            let g2 = try store.changeGeneration()
            try expect(g2 != g1, "did not move on a new grant")
            // What moved it: the key's row, then the key's grants; nothing said for what is unknown.
            try expect(try store.changes(after: g0, through: g1) == [.key(id: key.id, region: key.region)], "scopes of the update")
            try expect(try store.changes(after: g1, through: g2) == [.grants(keyID: key.id, region: key.region)], "scopes of the grant")
            let both = try store.changes(after: g0, through: g2)
            try expect(both.map(Set.init) == [.key(id: key.id, region: key.region), .grants(keyID: key.id, region: key.region)], "both")
            try expect(try store.changes(after: g2, through: g2 + 1) == nil, "a generation not reached")
            try expect(try store.changes(after: g2 - 100_000, through: g2) == nil, "generations long gone")
        },
        Check(name: "concurrent commits: each durable or refused on its own") { store in
            let keys = (0..<64).map { _ in key() }
            let results = await withTaskGroup(of: (Int, StoreError?).self) { group in
                for (i, key) in keys.enumerated() {
                    group.addTask {
                        do {
                            // Every eighth commit fails on its last mutation; the rest succeed.
                            var mutations: [Mutation] = [.insertKey(key)]
                            if i % 8 == 0 { mutations.append(.deleteGrant(id: "none-\(i)", keyID: "none", region: "us-east-1")) }
                            try await store.commit(mutations)
                            return (i, nil)
                        } catch {
                            return (i, error as? StoreError ?? .unavailable)
                        }
                    }
                }
                var results: [Int: StoreError?] = [:]
                for await (i, error) in group { results[i] = error }
                return results
            }
            for (i, key) in keys.enumerated() {
                let stored = try await store.key(id: key.id, region: key.region)
                if i % 8 == 0 {
                    try expect(
                        results[i] == .some(.notFound) && stored == nil, "commit \(i) should have failed alone: \(String(describing: results[i]))")
                } else {
                    try expect(results[i] == .some(nil) && stored == key, "commit \(i) lost: \(String(describing: results[i]))")
                }
            }
            try await expectError(.alreadyExists) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { try await store.commit([.insertKey(keys[1])]) } }
                    try await group.waitForAll()
                }
            }
        },
        Check(name: "concurrent audit events: one gapless linked chain, without the events of commits that failed") { store in
            // Commits share transactions; each failing one (every fifth) is rolled back to its
            // savepoint after its event was sealed, and the chain must go on from the event before it.
            let results = await withTaskGroup(of: (Int, Bool).self) { group in
                for i in 0..<64 {
                    group.addTask {
                        let event = AuditEvent(
                            chain: "c", record: ["eventName": .string("Encrypt"), "n": .number(Double(i))], eventTime: Date(),
                            eventName: "Encrypt", account: "111122223333", region: "us-east-1", userName: nil,
                            accessKeyID: nil, readOnly: true, errorCode: nil, keyIDs: ["k\(i % 3)"])
                        var mutations: [Mutation] = [.appendAuditEvent(event)]
                        if i % 5 == 0 { mutations.append(.deleteGrant(id: "none-\(i)", keyID: "none", region: "us-east-1")) }
                        return (i, (try? await store.commit(mutations)) != nil)
                    }
                }
                var results: [Int: Bool] = [:]
                for await (i, succeeded) in group { results[i] = succeeded }
                return results
            }
            try expect(results.allSatisfy { $0.value == ($0.key % 5 != 0) }, "each commit fails or succeeds on its own")
            let chain = try await store.auditChains().first { $0.chain == "c" }
            let events = try await store.auditEvents(chain: "c", afterSequence: 0, limit: 100)
            try expect(events.map(\.sequence) == Array(1...51) && chain?.headSequence == 51, "gapless: \(events.map(\.sequence))")
            var numbers: [Int] = []
            var verifier = AuditChainVerifier(chain: "c", baseSequence: 0, baseDigest: AuditChain.genesisDigest)
            for e in events {
                try expect(verifier.consume(e.bytes, storedSequence: e.sequence) == nil, "link at \(e.sequence)")
                if case .number(let n)? = JSONValue.parse(bytes: e.bytes)?[member: "n"] { numbers.append(Int(n)) }
            }
            try expect(verifier.lastDigest == chain?.headDigest, "head digest")
            try expect(Set(numbers) == Set((0..<64).filter { $0 % 5 != 0 }), "the events of the commits that succeeded")
        },
    ]
}
