import Foundation
import KMSStorage

extension KeyManagementService {
    /// What applying a seed did: the ARNs of the keys (replicas too) and principals it created
    /// or changed, and how many entries were already as declared.
    public struct SeedOutcome: Sendable {
        public var created: [String] = []
        public var updated: [String] = []
        public var unchanged = 0
    }

    /// Applies a seed to `account` in one transaction: all of it, or nothing (the error names
    /// the entry and field). What is declared is made, or updated to what is declared; nothing
    /// undeclared is touched (other keys, tags, aliases, principals); the same seed twice
    /// changes nothing. A key's spec, usage and material are fixed once it exists: a seed that
    /// declares others is an error, never a silent replacement. Material from the seed is
    /// recorded with a `SeedKeyMaterial` event in the key's audit history; its
    /// `KeyMaterialId` is derived from the material, as for imported material.
    ///
    /// Several servers over one database may apply the same seed as they start: the one that
    /// commits second plans again from what the first made.
    ///
    /// - Parameter developmentCredentials: accept access keys outside IAM's format (`test`),
    ///   as `serve --dev` does.
    public func applySeed(_ seed: Seed, account: String, developmentCredentials: Bool) async throws(SeedError) -> SeedOutcome {
        for _ in 0..<3 {
            var plan = SeedPlan(account: account, now: clock.now(), chain: audit.chain)
            for key in seed.keys {
                try await seedErrors(key.entry) { () throws(KMSError) in try await planKey(key, into: &plan) }
            }
            for principal in seed.principals {
                try await seedErrors(principal.entry) { () throws(KMSError) in
                    try await planPrincipal(principal, into: &plan, developmentCredentials: developmentCredentials)
                }
            }
            guard !plan.mutations.isEmpty else { return plan.outcome }
            let committed = try await seedErrors("") { () throws(KMSError) in try await store.commitUnlessRaced(plan.mutations) }
            if committed { return plan.outcome }
        }
        throw SeedError("", "another server changed what the seed declares three times while it was applied; start again.")
    }

    private func seedErrors<T>(_ entry: String, _ work: () async throws(KMSError) -> T) async throws(SeedError) -> T {
        do throws(KMSError) {
            return try await work()
        } catch {
            throw error.code == .internalFailure ? SeedError(entry, "the store failed; see the server's log.") : SeedError(entry, error.message)
        }
    }

    private func planKey(_ entry: Seed.Key, into plan: inout SeedPlan) async throws(KMSError) {
        let arn = ResourceName.keyARN(region: entry.region, account: plan.account, keyID: entry.id)
        let raw: [UInt8]? = try entry.material.map { material throws(KMSError) in try Self.rawBytes(material) }
        if let policy = entry.policy { try Self.checkSeedPolicy(policy, quota: quotas.keyPolicySize) }
        var changed = false
        var created = false
        let key: KMSKey
        if let existing = try await store.key(id: entry.id, region: entry.region) {
            guard existing.account == plan.account, existing.keyManager == .customer, existing.origin == .awsKMS else {
                throw KMSError.validation("KeyId: \(arn) exists and is not a customer managed key of origin AWS_KMS of account \(plan.account).")
            }
            guard existing.spec == entry.spec, existing.usage == entry.usage else {
                throw KMSError.validation(
                    "KeySpec: \(arn) exists with KeySpec \(existing.spec.rawValue) and KeyUsage \(existing.usage.rawValue); a seed does not change them."
                )
            }
            guard !existing.isReplica else {
                throw KMSError.validation("KeyId: \(arn) is a replica of the key in \(existing.primaryRegion ?? ""); declare its primary.")
            }
            if let raw {
                let first = try await store.keyMaterials(keyID: existing.id, region: existing.region).first { $0.version == 1 }
                guard let first, rootKey.isImportedMaterialID(first.materialID, keyID: existing.id, material: raw) else {
                    throw KMSError.validation("KeyMaterial: \(arn) exists with other key material; a seed does not replace a key's material.")
                }
            }
            var updated = existing
            Self.declare(entry, on: &updated, now: plan.now)
            if updated != existing {
                plan.mutations.append(.updateKey(updated))
                changed = true
            }
            key = updated
        } else {
            var new = KMSKey(
                id: entry.id, account: plan.account, region: entry.region, creationDate: plan.now, description: "", usage: entry.usage,
                spec: entry.spec, origin: .awsKMS, state: .enabled, policy: Self.defaultPolicy(account: plan.account),
                primaryRegion: entry.id.hasPrefix("mrk-") ? entry.region : nil)
            Self.declare(entry, on: &new, now: plan.now)
            plan.mutations.append(.insertKey(new))
            let material: any KeyMaterial
            if let seeded = entry.material { material = seeded } else { material = try Self.freshMaterial(for: new.spec) }
            try plan.addMaterial(material, seeded: raw, of: new, rootKey: rootKey)
            created = true
            key = new
        }
        changed = try await planTags(entry, key, into: &plan) || changed
        changed = try await planAliases(entry, key, into: &plan) || changed
        changed = try await planReplicas(entry, key, keyIsNew: created, into: &plan) || changed
        guard created || changed else {
            plan.outcome.unchanged += 1
            return
        }
        plan.mutations.append(
            .appendAuditEvent(AuditEvent.serviceEvent("SeedKey", key: key, chain: plan.chain, at: plan.now, details: ["created": .bool(created)])))
        if created { plan.outcome.created.append(arn) } else { plan.outcome.updated.append(arn) }
    }

    /// The declared description, policy, enabled state and rotation, on `key`. The enabled state
    /// is left alone in any state but Enabled and Disabled (a key pending deletion stays so).
    private static func declare(_ entry: Seed.Key, on key: inout KMSKey, now: Date) {
        if let description = entry.description { key.description = description }
        if let policy = entry.policy { key.policy = policy }
        if let enabled = entry.enabled, key.state == .enabled || key.state == .disabled { key.state = enabled ? .enabled : .disabled }
        // Undeclared, rotation stays as it is (a declared period still applies to it).
        let period = entry.rotationPeriodInDays ?? key.automaticRotation?.periodInDays ?? 365
        if !(entry.rotationEnabled ?? (key.automaticRotation != nil)) {
            key.automaticRotation = nil
        } else if key.automaticRotation?.periodInDays != period {
            key.automaticRotation = AutomaticRotation(periodInDays: period, nextDate: now.addingTimeInterval(Double(period) * 86_400))
        }
    }

    /// The declared tags that are not the key's already.
    private func planTags(_ entry: Seed.Key, _ key: KMSKey, into plan: inout SeedPlan) async throws(KMSError) -> Bool {
        guard let declared = entry.tags, !declared.isEmpty else { return false }
        let current = try await store.tags(keyID: key.id, region: key.region)
        let missing = declared.filter { !current.contains($0) }
        guard !missing.isEmpty else { return false }
        plan.mutations.append(.putTags(keyID: key.id, region: key.region, tags: missing))
        return true
    }

    /// The declared aliases, made or moved to the key.
    private func planAliases(_ entry: Seed.Key, _ key: KMSKey, into plan: inout SeedPlan) async throws(KMSError) -> Bool {
        var changed = false
        for name in entry.aliases {
            if var alias = try await store.alias(account: plan.account, region: key.region, name: name) {
                guard alias.targetKeyID != key.id else { continue }
                alias.targetKeyID = key.id
                alias.lastUpdatedDate = plan.now
                plan.mutations.append(.updateAlias(alias))
            } else {
                plan.mutations.append(
                    .insertAlias(
                        Alias(
                            name: name, account: plan.account, region: key.region, targetKeyID: key.id, creationDate: plan.now,
                            lastUpdatedDate: plan.now)))
            }
            changed = true
        }
        return changed
    }

    /// Replicas of a multi-Region key in the declared regions, each with every material
    /// version of the primary wrapped for its own ARN.
    private func planReplicas(_ entry: Seed.Key, _ primary: KMSKey, keyIsNew: Bool, into plan: inout SeedPlan) async throws(KMSError) -> Bool {
        var changed = false
        for region in entry.replicaRegions {
            if let existing = try await store.key(id: primary.id, region: region) {
                guard existing.primaryRegion == primary.region else {
                    throw KMSError.validation("ReplicaRegions: \(existing.arn) exists and is not a replica of \(primary.arn).")
                }
                continue
            }
            let replica = KMSKey(
                id: primary.id, account: primary.account, region: region, creationDate: plan.now, description: primary.description,
                usage: primary.usage, spec: primary.spec, origin: primary.origin, state: .enabled, policy: primary.policy,
                currentMaterialVersion: primary.currentMaterialVersion, automaticRotation: primary.automaticRotation, primaryRegion: primary.region)
            plan.mutations.append(.insertKey(replica))
            let records = keyIsNew ? plan.newMaterials[primary.id] ?? [] : try await store.keyMaterials(keyID: primary.id, region: primary.region)
            for var record in records {
                if !record.isDeleted {
                    record.wrapped = try rootKey.rewrapKeyMaterial(record.wrapped, from: primary.arn, to: replica.arn, version: record.version)
                }
                record.region = region
                plan.mutations.append(.insertKeyMaterial(record))
            }
            plan.mutations.append(
                .appendAuditEvent(
                    AuditEvent.serviceEvent("SeedKey", key: replica, chain: plan.chain, at: plan.now, details: ["created": .bool(true)])))
            plan.outcome.created.append(replica.arn)
            changed = true
        }
        return changed
    }

    private func planPrincipal(_ entry: Seed.Principal, into plan: inout SeedPlan, developmentCredentials: Bool) async throws(KMSError) {
        let principal = Principal(account: plan.account, kind: entry.kind, name: entry.name)
        var mutations: [Mutation] = []
        var events: [String] = []
        if !(try await store.hasPrincipal(principal)) {
            mutations.append(.insertPrincipal(principal, creationDate: plan.now))
            events.append(Credentials.eventName("Create", principal))
        }
        for (id, secret) in entry.accessKeys {
            guard Credentials.isAcceptable(accessKeyID: id, secret: secret, development: developmentCredentials) else {
                throw KMSError.validation(
                    "AccessKeys: \(id) is not an access key ID of IAM's format (16–128 letters and digits, with a secret of at least 16 characters); only serve --dev accepts others."
                )
            }
            let sealed = try rootKey.sealCredential(secret: secret, accessKeyID: id)
            if let existing = try await store.accessKey(id: id) {
                guard existing.principal == principal else {
                    throw KMSError.validation("AccessKeys: \(id) is an access key of \(existing.principal.arn).")
                }
                guard try !ConstantTime.equals(rootKey.openCredential(existing.sealedSecret, accessKeyID: id), secret) else { continue }
                mutations.append(.deleteAccessKey(id: id))
            }
            mutations.append(.insertAccessKey(AccessKey(id: id, principal: principal, sealedSecret: sealed), creationDate: plan.now))
            events.append("CreateAccessKey")
        }
        let current = try await store.hasPrincipal(principal) ? try await store.identityPolicies(of: principal) : []
        for (name, document) in entry.policies {
            do throws(KMSError) {
                try Credentials.checkIdentityPolicy(name: name, document: document)
            } catch {
                throw KMSError.validation("Policies.\(name): \(error.message)")
            }
            guard !current.contains(IdentityPolicy(name: name, document: document)) else { continue }
            mutations.append(.putIdentityPolicy(principal, IdentityPolicy(name: name, document: document)))
            events.append(Credentials.eventName("Put", principal, "Policy"))
        }
        guard !mutations.isEmpty else {
            plan.outcome.unchanged += 1
            return
        }
        for name in events {
            mutations.append(
                .appendAuditEvent(
                    AuditEvent.administration(
                        name, principal: principal, parameters: ["seed": .bool(true)], response: nil, chain: plan.chain, at: plan.now)))
        }
        plan.mutations += mutations
        if events.first == Credentials.eventName("Create", principal) {
            plan.outcome.created.append(principal.arn)
        } else {
            plan.outcome.updated.append(principal.arn)
        }
    }

    static func checkSeedPolicy(_ text: String, quota: Int) throws(KMSError) {
        guard text.utf8.count <= quota else { throw KMSError.validation("Policy: larger than the key policy quota of \(quota) bytes.") }
        do throws(KMSError) {
            _ = try PolicyDocument.parse(text, as: .keyPolicy)
        } catch {
            throw KMSError.validation("Policy: \(error.message)")
        }
    }

    static func rawBytes(_ material: any KeyMaterial) throws(KMSError) -> [UInt8] {
        do {
            return try material.withUnsafeRawBytes { Array($0) }
        } catch {
            throw KMSError.internalFailure()
        }
    }
}

/// The mutations a seed needs, gathered before any is committed.
struct SeedPlan {
    let account: String
    let now: Date
    let chain: String
    var mutations: [Mutation] = []
    var outcome = KeyManagementService.SeedOutcome()
    /// Material records of keys this seed creates, for their replicas.
    var newMaterials: [String: [KeyMaterialRecord]] = [:]

    init(account: String, now: Date, chain: String) {
        self.account = account
        self.now = now
        self.chain = chain
    }

    /// Version 1 of a new key. `seeded`: the raw bytes when the material came from the seed
    /// (its ID is then derived from them, and a `SeedKeyMaterial` event marks it).
    mutating func addMaterial(_ material: any KeyMaterial, seeded raw: [UInt8]?, of key: KMSKey, rootKey: RootKey) throws(KMSError) {
        let materialID = raw.map { rootKey.importedMaterialID(keyID: key.id, material: $0) } ?? KeyManagementService.newMaterialID()
        let record = KeyMaterialRecord(
            keyID: key.id, region: key.region, version: 1, wrapped: try rootKey.wrapKeyMaterial(material, keyARN: key.arn, version: 1),
            creationDate: now, materialID: materialID)
        mutations.append(.insertKeyMaterial(record))
        newMaterials[key.id] = [record]
        if raw != nil {
            mutations.append(
                .appendAuditEvent(
                    AuditEvent.serviceEvent(
                        "SeedKeyMaterial", key: key, chain: chain, at: now,
                        details: ["keyMaterialId": .string(materialID), "keyMaterialSource": .string("seed file")])))
        }
    }
}
