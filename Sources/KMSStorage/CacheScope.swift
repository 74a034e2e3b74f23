/// What a committed change may have made stale among the reads `CachingStore` keeps.
///
/// Each change generation a store moves to comes with the scopes of the commits it covers
/// (`Store.changes`), so that a cache drops those entries and keeps the rest: a CreateGrant on
/// one key leaves every other cached key, alias, access key and policy where it was.
public enum CacheScope: Hashable, Sendable {
    /// A key's row.
    case key(id: String, region: String)
    /// A key deleted, with its tags, grants and the aliases that pointed to it (and so the
    /// count of keys in its account and region).
    case deletedKey(id: String, region: String)
    case keyTags(keyID: String, region: String)
    case grants(keyID: String, region: String)
    case alias(account: String, region: String, name: String)
    /// A principal's existence (incarnation), identity policies, tags and access keys.
    case principal(arn: String)
    case accessKey(id: String)
    case customKeyStore(id: String)

    /// One line of text for a change log: the kind, then its fields, separated by U+001F.
    /// Nil when a field holds a control character (no validated name does).
    public var encoded: String? {
        let fields: [String] =
            switch self {
            case .key(let id, let region): ["key", id, region]
            case .deletedKey(let id, let region): ["deletedKey", id, region]
            case .keyTags(let id, let region): ["keyTags", id, region]
            case .grants(let id, let region): ["grants", id, region]
            case .alias(let account, let region, let name): ["alias", account, region, name]
            case .principal(let arn): ["principal", arn]
            case .accessKey(let id): ["accessKey", id]
            case .customKeyStore(let id): ["customKeyStore", id]
            }
        guard fields.allSatisfy({ field in field.unicodeScalars.allSatisfy { $0.value >= 0x20 } }) else { return nil }
        return fields.joined(separator: "\u{1F}")
    }

    public init?(encoded: Substring) {
        let f = encoded.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        switch (f.first, f.count) {
        case ("key", 3): self = .key(id: f[1], region: f[2])
        case ("deletedKey", 3): self = .deletedKey(id: f[1], region: f[2])
        case ("keyTags", 3): self = .keyTags(keyID: f[1], region: f[2])
        case ("grants", 3): self = .grants(keyID: f[1], region: f[2])
        case ("alias", 4): self = .alias(account: f[1], region: f[2], name: f[3])
        case ("principal", 2): self = .principal(arn: f[1])
        case ("accessKey", 2): self = .accessKey(id: f[1])
        case ("customKeyStore", 2): self = .customKeyStore(id: f[1])
        default: return nil
        }
    }

    /// Scopes as one text (a line each), or nil when one of them cannot be written.
    public static func encode(_ scopes: some Sequence<CacheScope>) -> String? {
        var lines: [String] = []
        for scope in scopes {
            guard let line = scope.encoded else { return nil }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// What `encode` wrote, or nil when a line is not a scope (written by a newer version).
    public static func decode(_ text: String) -> [CacheScope]? {
        var scopes: [CacheScope] = []
        for line in text.split(separator: "\n") {
            guard let scope = CacheScope(encoded: line) else { return nil }
            scopes.append(scope)
        }
        return scopes
    }
}

extension Mutation {
    /// What the mutation may make stale in a cache of reads: nothing for insertions of rows
    /// no cache can hold yet (a read that found nothing is never cached), nor for audit
    /// records, import parameters, material rows or job leases, which no cache holds.
    public var staleScopes: [CacheScope] {
        switch self {
        case .insertKey, .insertKeyMaterial, .insertImportParameters, .deleteImportParameters, .insertAlias, .insertPrincipal,
            .insertAccessKey, .appendAuditEvent, .insertAuditCheckpoint, .insertAuditSigningKey, .pruneAuditEvents, .insertAuditSegment,
            .takeJobLease, .insertCustomKeyStore, .insertHSMCluster:
            []
        case .updateKey(let key): [.key(id: key.id, region: key.region)]
        case .deleteKey(let id, let region, _): [.deletedKey(id: id, region: region)]
        case .replaceKeyMaterial(let material): [.key(id: material.keyID, region: material.region)]
        case .updateAlias(let alias): [.alias(account: alias.account, region: alias.region, name: alias.name)]
        case .deleteAlias(let account, let region, let name): [.alias(account: account, region: region, name: name)]
        case .putTags(let keyID, let region, _), .removeTags(let keyID, let region, _): [.keyTags(keyID: keyID, region: region)]
        case .deleteAccessKey(let id): [.accessKey(id: id)]
        case .deletePrincipal(let principal), .putIdentityPolicy(let principal, _), .deleteIdentityPolicy(let principal, _),
            .putPrincipalTags(let principal, _), .removePrincipalTags(let principal, _):
            [.principal(arn: principal.arn)]
        case .insertGrant(let grant): [.grants(keyID: grant.keyID, region: grant.keyRegion)]
        case .deleteGrant(_, let keyID, let region): [.grants(keyID: keyID, region: region)]
        case .updateCustomKeyStore(let store): [.customKeyStore(id: store.id)]
        case .deleteCustomKeyStore(let id, _): [.customKeyStore(id: id)]
        }
    }
}
