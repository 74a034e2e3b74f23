import Foundation
import KMSStorage

extension KeyManagementService {
    /// The account's customer managed keys of origin AWS_KMS in `regions` (replicas under their
    /// primary's `ReplicaRegions`), their aliases and tags, and its users and roles with their
    /// identity policies, as a seed document that `applySeed` reads back. Keys of other origins
    /// (imported, custom key stores) and AWS managed keys are left out: a seed cannot make them.
    ///
    /// Without `includingMaterial` the document holds no secret. With it, each key's current
    /// material (base64, or PKCS#8 PEM for a key pair): seeded again, that material is the
    /// key's only version, so ciphertexts of rotated-away versions do not decrypt. Access
    /// keys' secrets are never exported.
    public func seedDocument(account: String, regions: [String], includingMaterial: Bool) async throws(KMSError) -> JSONValue {
        var keys: [JSONValue] = []
        for region in regions {
            var after: String?
            while true {
                let page = try await store.keys(account: account, region: region, afterID: after, limit: 100)
                for key in page where key.keyManager == .customer && key.origin == .awsKMS && !key.isReplica && key.customKeyStoreID == nil {
                    keys.append(try await seedEntry(key, regions: regions, includingMaterial: includingMaterial))
                }
                guard page.count == 100, let last = page.last else { break }
                after = last.id
            }
        }
        var users: [JSONValue] = []
        var roles: [JSONValue] = []
        for principal in try await store.principals(account: account) where principal.kind == .user || principal.kind == .role {
            var entry: [String: JSONValue] = [principal.kind == .user ? "UserName" : "RoleName": .string(principal.name)]
            let policies = try await store.identityPolicies(of: principal)
            if !policies.isEmpty {
                entry["Policies"] = .object(
                    Dictionary(uniqueKeysWithValues: policies.map { ($0.name, JSONValue.parse($0.document) ?? .string($0.document)) }))
            }
            if principal.kind == .user { users.append(.object(entry)) } else { roles.append(.object(entry)) }
        }
        var document: [String: JSONValue] = ["Keys": .array(keys)]
        if !users.isEmpty { document["Users"] = .array(users) }
        if !roles.isEmpty { document["Roles"] = .array(roles) }
        return .object(document)
    }

    private func seedEntry(_ key: KMSKey, regions: [String], includingMaterial: Bool) async throws(KMSError) -> JSONValue {
        var entry: [String: JSONValue] = [
            "KeyId": .string(key.id), "Region": .string(key.region), "KeySpec": .string(key.spec.rawValue),
            "KeyUsage": .string(key.usage.rawValue), "Policy": JSONValue.parse(key.policy) ?? .string(key.policy),
        ]
        if !key.description.isEmpty { entry["Description"] = .string(key.description) }
        if key.state == .enabled || key.state == .disabled { entry["Enabled"] = .bool(key.state == .enabled) }
        if let rotation = key.automaticRotation {
            entry["KeyRotationEnabled"] = .bool(true)
            entry["RotationPeriodInDays"] = .number(Double(rotation.periodInDays))
        }
        let tags = try await store.tags(keyID: key.id, region: key.region)
        if !tags.isEmpty { entry["Tags"] = .object(Dictionary(uniqueKeysWithValues: tags.map { ($0.key, JSONValue.string($0.value)) })) }
        let aliases = try await store.aliases(account: key.account, region: key.region, targetKeyID: key.id, afterName: nil, limit: 100)
        if !aliases.isEmpty { entry["Aliases"] = .array(aliases.map { .string($0.name) }) }
        if key.isPrimary {
            var replicas: [JSONValue] = []
            for region in regions where region != key.region {
                if let replica = try await store.key(id: key.id, region: region), replica.primaryRegion == key.region {
                    replicas.append(.string(region))
                }
            }
            if !replicas.isEmpty { entry["ReplicaRegions"] = .array(replicas) }
        }
        if includingMaterial, let text = try await materialText(of: key) { entry["KeyMaterial"] = .string(text) }
        return .object(entry)
    }

    /// The key's current material as a seed writes it: base64 of AES or HMAC key bytes, or a
    /// PKCS#8 PEM block.
    private func materialText(of key: KMSKey) async throws(KMSError) -> String? {
        guard let record = try await store.keyMaterial(keyID: key.id, region: key.region, version: key.currentMaterialVersion), !record.isDeleted
        else { return nil }
        let material: any KeyMaterial =
            if key.spec == .symmetricDefault {
                try rootKey.unwrapKeyMaterial(record.wrapped, as: SymmetricKeyMaterial.self, keyARN: key.arn, version: record.version)
            } else if key.spec.macAlgorithm != nil {
                try rootKey.unwrapKeyMaterial(record.wrapped, as: HMACKeyMaterial.self, keyARN: key.arn, version: record.version)
            } else {
                try rootKey.unwrapKeyMaterial(record.wrapped, as: AsymmetricKeyMaterial.self, keyARN: key.arn, version: record.version)
            }
        var raw = try Self.rawBytes(material)
        defer { Zeroize.wipe(&raw) }
        let encoded = Data(raw).base64EncodedString()
        guard AsymmetricKeyMaterial.specs.contains(key.spec) else { return encoded }
        let lines = stride(from: 0, to: encoded.count, by: 64).map { offset in
            String(encoded.dropFirst(offset).prefix(64))
        }
        return (["-----BEGIN PRIVATE KEY-----"] + lines + ["-----END PRIVATE KEY-----"]).joined(separator: "\n") + "\n"
    }
}
