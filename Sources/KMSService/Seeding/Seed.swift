import Foundation
import KMSStorage

/// What a seed file declares (`swiftkms serve --seed FILE`): keys with fixed IDs and, when
/// given, fixed material; users and roles with their access keys and identity policies. Read
/// from a parsed document (the command line turns YAML or JSON into a `JSONValue`), checked
/// member by member: an error names the entry and the field (`Keys[2].KeySpec`).
///
/// ```yaml
/// Keys:
///   - KeyId: 0b7a0a6e-5f6f-4c2e-9a51-6b1f8e0d2c44      # or mrk- and 32 hex digits
///     Region: us-east-1                                # default: us-east-1
///     KeySpec: SYMMETRIC_DEFAULT                       # default; KeyUsage then defaults too
///     Description: payments
///     Aliases: [alias/payments]
///     Tags: {team: payments}
///     Enabled: true
///     KeyRotationEnabled: true
///     RotationPeriodInDays: 365
///     KeyMaterial: base64 of 32 bytes                  # HMAC: its bytes; asymmetric: PKCS#8 PEM
///     Policy: {Version: "2012-10-17", Statement: […]}  # or the JSON text
///     ReplicaRegions: [eu-west-1]                      # mrk- keys only
/// Users:
///   - UserName: ci
///     AccessKeys: [{AccessKeyId: AKIA…, SecretAccessKey: …}]
///     Policies: {kms-use: {Version: "2012-10-17", Statement: […]}}
/// Roles:
///   - RoleName: deployer
/// ```
public struct Seed: Sendable {
    public struct Key: Sendable {
        /// Where the entry is in the file (`Keys[0]`), for errors.
        public var entry: String
        public var id: String
        public var region: String
        public var spec: KeySpec
        public var usage: KeyUsage
        public var description: String?
        public var policy: String?
        public var tags: [Tag]?
        public var aliases: [String]
        public var enabled: Bool?
        public var rotationEnabled: Bool?
        public var rotationPeriodInDays: Int?
        /// Checked against the spec: AES or HMAC key bytes, or a DER PKCS#8 private key.
        public var material: (any KeyMaterial)?
        public var replicaRegions: [String]
    }

    public struct Principal: Sendable {
        public var entry: String
        public var kind: KMSCore.Principal.Kind
        public var name: String
        public var accessKeys: [(id: String, secret: String)]
        public var policies: [(name: String, document: String)]
    }

    public var keys: [Key] = []
    public var principals: [Principal] = []

    /// Reads the declarations of a parsed seed document. Unknown members are errors (a typo
    /// must not be ignored silently), as are values of the wrong kind or outside AWS's rules.
    public init(_ document: JSONValue) throws(SeedError) {
        var top = try Fields(document, at: "")
        for (index, entry) in try top.list("Keys").enumerated() {
            keys.append(try Self.key(entry, at: "Keys[\(index)]"))
        }
        for (member, kind) in [("Users", KMSCore.Principal.Kind.user), ("Roles", .role)] {
            for (index, entry) in try top.list(member).enumerated() {
                principals.append(try Self.principal(entry, kind: kind, at: "\(member)[\(index)]"))
            }
        }
        try top.finish()
        var seen = Set<String>()
        for key in keys where !seen.insert("\(key.region) \(key.id)").inserted {
            throw SeedError(key.entry + ".KeyId", "\(key.id) is declared twice in \(key.region).")
        }
        for key in keys {
            for (index, region) in key.replicaRegions.enumerated() where seen.contains("\(region) \(key.id)") {
                throw SeedError(key.entry + ".ReplicaRegions[\(index)]", "\(key.id) in \(region) is declared as a key of its own too.")
            }
        }
        var aliases = Set<String>()
        for key in keys {
            for alias in key.aliases where !aliases.insert("\(key.region) \(alias)").inserted {
                throw SeedError(key.entry + ".Aliases", "\(alias) is declared twice in \(key.region).")
            }
        }
    }

    private static func key(_ value: JSONValue, at entry: String) throws(SeedError) -> Key {
        var fields = try Fields(value, at: entry)
        let id = try fields.string("KeyId", required: true) ?? ""
        let multiRegion = id.hasPrefix("mrk-")
        guard multiRegion ? Self.isMultiRegionKeyID(id) : Self.isKeyID(id) else {
            throw SeedError(
                entry + ".KeyId",
                "'\(id.prefix(80))' is not a key ID: a lowercase UUID (1234abcd-12ab-34cd-56ef-1234567890ab), or mrk- and 32 lowercase hex digits.")
        }
        let region = try fields.string("Region") ?? "us-east-1"
        guard Self.isRegion(region) else { throw SeedError(entry + ".Region", "'\(region.prefix(64))' is not a region name (such as us-east-1).") }
        let spec = try fields.enumeration("KeySpec", KeySpec.self) ?? .symmetricDefault
        guard spec != .sm2 || ResourceName.offersSM2(region: region) else {
            throw SeedError(entry + ".KeySpec", "SM2 keys exist only in China Regions (cn-north-1, cn-northwest-1).")
        }
        guard let usage = try fields.enumeration("KeyUsage", KeyUsage.self) ?? (spec == .symmetricDefault ? .encryptDecrypt : nil) else {
            throw SeedError(entry + ".KeyUsage", "required for a key of spec \(spec.rawValue): only symmetric encryption keys have a default.")
        }
        guard spec.allowedUsages.contains(usage) else {
            throw SeedError(entry + ".KeyUsage", "\(usage.rawValue) is not a usage of key spec \(spec.rawValue).")
        }
        var key = Key(
            entry: entry, id: id, region: region, spec: spec, usage: usage, description: try fields.string("Description"),
            policy: try fields.document("Policy"), tags: nil, aliases: try fields.strings("Aliases"), enabled: try fields.bool("Enabled"),
            rotationEnabled: try fields.bool("KeyRotationEnabled"), rotationPeriodInDays: try fields.integer("RotationPeriodInDays"),
            material: nil, replicaRegions: try fields.strings("ReplicaRegions"))
        if let tags = try fields.stringMap("Tags") {
            key.tags = tags.map { Tag(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key }
            do throws(KMSError) {
                try Tag.validate(key.tags ?? [])
                try Tag.checkCount(key.tags ?? [])
            } catch {
                throw SeedError(entry + ".Tags", error.message)
            }
        }
        if let description = key.description, description.utf8.count > 8192 {
            throw SeedError(entry + ".Description", "at most 8192 bytes.")
        }
        for (index, alias) in key.aliases.enumerated() {
            do throws(KMSError) {
                try Alias.validateCustomerAliasName(alias)
            } catch {
                throw SeedError(entry + ".Aliases[\(index)]", error.message)
            }
        }
        if key.rotationEnabled != nil || key.rotationPeriodInDays != nil {
            guard spec == .symmetricDefault else {
                throw SeedError(entry + ".KeyRotationEnabled", "only symmetric encryption keys rotate automatically.")
            }
        }
        if let days = key.rotationPeriodInDays, !(90...2560).contains(days) {
            throw SeedError(entry + ".RotationPeriodInDays", "must be from 90 to 2560.")
        }
        if !key.replicaRegions.isEmpty, !multiRegion {
            throw SeedError(entry + ".ReplicaRegions", "only a multi-Region key (KeyId mrk-…) has replicas.")
        }
        for (index, replica) in key.replicaRegions.enumerated() {
            guard Self.isRegion(replica), replica != region, ResourceName.partition(region: replica) == ResourceName.partition(region: region)
            else {
                throw SeedError(entry + ".ReplicaRegions[\(index)]", "'\(replica.prefix(64))' is not another region of the key's partition.")
            }
        }
        if let text = try fields.string("KeyMaterial") {
            key.material = try Self.material(text, spec: spec, at: entry + ".KeyMaterial")
        }
        try fields.finish()
        return key
    }

    /// Base64 of AES or HMAC key bytes; a PEM (or base64 DER) PKCS#8 private key for a key pair.
    private static func material(_ text: String, spec: KeySpec, at path: String) throws(SeedError) -> any KeyMaterial {
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined().filter { !$0.isWhitespace }
        guard let bytes = Base64.decodeStrict(body) else { throw SeedError(path, "not base64 (or a PEM block).") }
        do throws(KMSError) {
            return try ImportedKeyMaterial.validated(bytes, for: spec)
        } catch {
            let expected =
                if spec == .symmetricDefault {
                    "32 bytes"
                } else if let algorithm = spec.macAlgorithm {
                    "\(ImportedKeyMaterial.hmacLengths(algorithm).lowerBound) to \(ImportedKeyMaterial.hmacLengths(algorithm).upperBound) bytes"
                } else {
                    "a PKCS#8 private key of spec \(spec.rawValue)"
                }
            throw SeedError(path, "is not key material of key spec \(spec.rawValue): expected \(expected).")
        }
    }

    private static func principal(_ value: JSONValue, kind: KMSCore.Principal.Kind, at entry: String) throws(SeedError) -> Principal {
        var fields = try Fields(value, at: entry)
        let nameMember = kind == .user ? "UserName" : "RoleName"
        let name = try fields.string(nameMember, required: true) ?? ""
        guard Credentials.isValidUserName(name) else {
            throw SeedError(entry + "." + nameMember, "1–64 characters of letters, digits and +=,.@_-, and not 'root'.")
        }
        var principal = Principal(entry: entry, kind: kind, name: name, accessKeys: [], policies: [])
        for (index, item) in try fields.list("AccessKeys").enumerated() {
            var keyFields = try Fields(item, at: "\(entry).AccessKeys[\(index)]")
            let id = try keyFields.string("AccessKeyId", required: true) ?? ""
            let secret = try keyFields.string("SecretAccessKey", required: true) ?? ""
            guard (1...128).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw SeedError("\(entry).AccessKeys[\(index)].AccessKeyId", "1–128 letters and digits.")
            }
            guard !secret.isEmpty, secret.count <= 128 else {
                throw SeedError("\(entry).AccessKeys[\(index)].SecretAccessKey", "1–128 characters.")
            }
            try keyFields.finish()
            principal.accessKeys.append((id, secret))
        }
        switch fields.take("Policies") {
        case nil: break
        case .object(let policies)?:
            for name in policies.keys.sorted() {
                guard let document = try Fields.document(policies[name] ?? .null, at: "\(entry).Policies.\(name)") else { continue }
                principal.policies.append((name, document))
            }
        default: throw SeedError(entry + ".Policies", "must be a mapping of policy names to documents.")
        }
        try fields.finish()
        return principal
    }

    static func isKeyID(_ id: String) -> Bool {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        return parts == [8, 4, 4, 4, 12] && id.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase }
    }

    static func isMultiRegionKeyID(_ id: String) -> Bool {
        id.count == 36 && id.hasPrefix("mrk-") && id.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    static func isRegion(_ name: String) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        return (3...5).contains(parts.count) && name.count <= 32
            && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) } }
            && parts.last?.allSatisfy(\.isNumber) == true
    }
}

/// A seed file's error: the entry and field (`Keys[2].KeySpec`), and what is wrong with it.
public struct SeedError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// The members of one mapping of a seed document, taken one by one; `finish` refuses the rest.
struct Fields {
    private var members: [String: JSONValue]
    private let path: String

    init(_ value: JSONValue, at path: String) throws(SeedError) {
        guard case .object(let members) = value else { throw SeedError(path, "must be a mapping of member names to values.") }
        self.members = members
        self.path = path
    }

    private func at(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// A member's value as it is (nil when absent or null).
    mutating func take(_ name: String) -> JSONValue? {
        guard let value = members.removeValue(forKey: name), value != .null else { return nil }
        return value
    }

    mutating func string(_ name: String, required: Bool = false) throws(SeedError) -> String? {
        guard let value = members.removeValue(forKey: name), value != .null else {
            if required { throw SeedError(at(name), "is required.") }
            return nil
        }
        switch value {
        case .string(let text): return text
        case .number(let n) where n.rounded() == n && abs(n) < 1e15: return String(Int64(n))
        default: throw SeedError(at(name), "must be a string.")
        }
    }

    mutating func bool(_ name: String) throws(SeedError) -> Bool? {
        guard let value = members.removeValue(forKey: name), value != .null else { return nil }
        guard case .bool(let flag) = value else { throw SeedError(at(name), "must be true or false.") }
        return flag
    }

    mutating func integer(_ name: String) throws(SeedError) -> Int? {
        guard let value = members.removeValue(forKey: name), value != .null else { return nil }
        guard case .number(let n) = value, n.rounded() == n, abs(n) < 1e9 else { throw SeedError(at(name), "must be a whole number.") }
        return Int(n)
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ name: String, _: E.Type) throws(SeedError) -> E? where E.RawValue == String {
        guard let text = try string(name) else { return nil }
        guard let value = E(rawValue: text) else {
            throw SeedError(at(name), "'\(text.prefix(64))' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return value
    }

    mutating func list(_ name: String) throws(SeedError) -> [JSONValue] {
        guard let value = members.removeValue(forKey: name), value != .null else { return [] }
        guard case .array(let items) = value else { throw SeedError(at(name), "must be a list.") }
        return items
    }

    mutating func strings(_ name: String) throws(SeedError) -> [String] {
        var result: [String] = []
        for (index, item) in try list(name).enumerated() {
            guard case .string(let text) = item else { throw SeedError("\(at(name))[\(index)]", "must be a string.") }
            result.append(text)
        }
        return result
    }

    mutating func stringMap(_ name: String) throws(SeedError) -> [String: String]? {
        guard let value = members.removeValue(forKey: name), value != .null else { return nil }
        guard case .object(let members) = value else { throw SeedError(at(name), "must be a mapping of tag keys to values.") }
        var result: [String: String] = [:]
        for (key, item) in members {
            guard case .string(let text) = item else { throw SeedError("\(at(name)).\(key)", "must be a string.") }
            result[key] = text
        }
        return result
    }

    /// A policy: its JSON text, or the document written as a mapping (made into JSON text).
    mutating func document(_ name: String) throws(SeedError) -> String? {
        guard let value = members.removeValue(forKey: name) else { return nil }
        return try Self.document(value, at: at(name))
    }

    static func document(_ value: JSONValue, at path: String) throws(SeedError) -> String? {
        switch value {
        case .null: return nil
        case .string(let text): return text
        case .object: return String(decoding: value.canonicalBytes, as: UTF8.self)
        default: throw SeedError(path, "must be a policy document: a mapping, or its JSON text.")
        }
    }

    /// Refuses members nobody took: a misspelt name is an error, not a silent default.
    func finish() throws(SeedError) {
        if let name = members.keys.sorted().first {
            throw SeedError(at(name), "is not a member of this entry.")
        }
    }
}
