import Crypto
import Foundation

/// The 256-bit root of the key hierarchy. Never stored in the database.
///
/// It is not used directly: HKDF derives one sub-key per purpose, so that a value wrapped
/// for one purpose can never be opened as another. Each wrapped value is AES-256-GCM bound
/// (as AAD) to what it belongs to, so a row swapped in the database fails to unwrap.
///
///     wrapped = 0x01 || IV (12) || ciphertext || tag (16)
public struct RootKey: Sendable {
    private let materialKey: SymmetricKey
    private let credentialKey: SymmetricKey
    private let auditKey: SymmetricKey
    private let materialIDKey: SymmetricKey
    private let forwardAccessKey: SymmetricKey
    /// Names this root key without revealing it (hex of 16 bytes derived for no other
    /// purpose): a backup's manifest carries it, so that a restore with another root key is
    /// refused before anything is written.
    public var fingerprint: String { fingerprintKey.withUnsafeBytes { Hex.encode(Array($0.prefix(16))) } }
    private let fingerprintKey: SymmetricKey

    public static let byteCount = 32

    /// - Parameter rawBytes: exactly 32 bytes.
    public init(rawBytes: some ContiguousBytes) throws(KMSError) {
        let root = SymmetricKey(data: rawBytes)
        guard root.bitCount == 256 else {
            throw KMSError(.internalFailure, "The root key must be \(Self.byteCount) bytes.")
        }
        func derive(_ label: String) throws(KMSError) -> SymmetricKey {
            try HKDFSHA256.derive(root, salt: [UInt8](), info: Array(label.utf8), length: 32)
        }
        materialKey = try derive("swiftkms/root/key-material/v1")
        credentialKey = try derive("swiftkms/root/credentials/v1")
        auditKey = try derive("swiftkms/root/audit-signing/v1")
        materialIDKey = try derive("swiftkms/root/imported-material-id/v1")
        forwardAccessKey = try derive("swiftkms/root/forward-access/v1")
        fingerprintKey = try derive("swiftkms/root/fingerprint/v1")
    }

    /// The root key of a key file's contents (the base64 of 32 bytes, whitespace around it
    /// allowed). `contents` and every intermediate buffer are wiped, whether it succeeds or not.
    public init(keyFile contents: inout [UInt8]) throws(KMSError) {
        defer { Zeroize.wipe(&contents) }
        var text = contents
        defer { Zeroize.wipe(&text) }
        while let last = text.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { text.removeLast() }
        while let first = text.first, first == 0x0A || first == 0x0D || first == 0x20 || first == 0x09 { text.removeFirst() }
        guard var raw = Data(base64Encoded: Data(text)) else {
            throw KMSError(.internalFailure, "The root key file must hold the base64 of \(Self.byteCount) bytes.")
        }
        defer { Zeroize.wipe(&raw) }
        guard raw.count == Self.byteCount else {
            throw KMSError(.internalFailure, "The root key file must hold the base64 of \(Self.byteCount) bytes.")
        }
        try self.init(rawBytes: raw)
    }

    /// 32 fresh random bytes for a new root key.
    public static func generateRawBytes() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// Wraps one version of a key's material, bound to the key's ARN and the version.
    public func wrapKeyMaterial(_ material: some KeyMaterial, keyARN: String, version: UInt32) throws(KMSError) -> [UInt8] {
        let binding = Self.materialBinding(keyARN, version)
        do {
            return try material.withUnsafeRawBytes { raw in try Self.seal(raw, key: materialKey, binding: binding) }
        } catch {
            throw KMSError.internalFailure()
        }
    }

    /// The material of one version; the intermediate plaintext is wiped before this returns.
    public func unwrapKeyMaterial<Material: KeyMaterial>(
        _ wrapped: [UInt8], as type: Material.Type, keyARN: String, version: UInt32
    ) throws(KMSError) -> Material {
        var raw = try Self.open(wrapped, key: materialKey, binding: Self.materialBinding(keyARN, version))
        defer { Zeroize.wipe(&raw) }
        return try Material(unsafeRawBytes: raw)
    }

    /// Rewraps one version of material for another key ARN (a multi-Region replica's); the
    /// material is zeroed before this returns.
    public func rewrapKeyMaterial(_ wrapped: [UInt8], from sourceARN: String, to targetARN: String, version: UInt32) throws(KMSError) -> [UInt8] {
        var raw = try Self.open(wrapped, key: materialKey, binding: Self.materialBinding(sourceARN, version))
        defer { Zeroize.wipe(&raw) }
        return try Self.seal(raw, key: materialKey, binding: Self.materialBinding(targetARN, version))
    }

    /// Encrypts an access key's secret for storage, bound to the access key ID.
    public func sealCredential(secret: String, accessKeyID: String) throws(KMSError) -> [UInt8] {
        try Self.seal(Array(secret.utf8), key: credentialKey, binding: Array("credential:\(accessKeyID)".utf8))
    }

    public func openCredential(_ sealed: [UInt8], accessKeyID: String) throws(KMSError) -> String {
        var raw = try Self.open(sealed, key: credentialKey, binding: Array("credential:\(accessKeyID)".utf8))
        defer { Zeroize.wipe(&raw) }
        return String(decoding: raw, as: UTF8.self)
    }

    /// Encrypts a custom key store's password (`KeyStorePassword`) for storage, bound to the store.
    public func sealKeyStorePassword(_ password: String, storeID: String) throws(KMSError) -> [UInt8] {
        try Self.seal(Array(password.utf8), key: credentialKey, binding: Array("key-store-password:\(storeID)".utf8))
    }

    public func openKeyStorePassword(_ sealed: [UInt8], storeID: String) throws(KMSError) -> String {
        var raw = try Self.open(sealed, key: credentialKey, binding: Array("key-store-password:\(storeID)".utf8))
        defer { Zeroize.wipe(&raw) }
        return String(decoding: raw, as: UTF8.self)
    }

    /// `KeyMaterialId` of imported material: HMAC-SHA-256 under a root-derived key of the key
    /// ID and the material, in hex. The same material imported again into the same key gets
    /// the same ID (that is how a reimport is recognized), and the ID reveals nothing about
    /// the material to whoever lacks the root key.
    public func importedMaterialID(keyID: String, material: [UInt8]) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Self.materialIDInput(keyID, material), using: materialIDKey))
    }

    /// Whether `id` is the `KeyMaterialId` of `material` in that key, compared in constant
    /// time (by swift-crypto).
    public func isImportedMaterialID(_ id: String, keyID: String, material: [UInt8]) -> Bool {
        guard let mac = Hex.decode(id) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Self.materialIDInput(keyID, material), using: materialIDKey)
    }

    private static func materialIDInput(_ keyID: String, _ material: [UInt8]) -> [UInt8] {
        Array(keyID.utf8) + [0] + material
    }

    /// Seals a forward access token's claims (see `ForwardAccessToken`).
    public func sealForwardAccess(_ claims: [UInt8]) throws(KMSError) -> [UInt8] {
        try Self.seal(claims, key: forwardAccessKey, binding: Array("forward-access:1".utf8))
    }

    /// The claims of a token sealed by `sealForwardAccess`; nil for anything else (a token
    /// comes from a request, so a bad one is the caller's fault, not the store's).
    public func openForwardAccess(_ sealed: [UInt8]) -> [UInt8]? {
        try? Array(Self.open(sealed, key: forwardAccessKey, binding: Array("forward-access:1".utf8)))
    }

    /// Wraps the audit signing key's private scalar for storage.
    public func sealAuditSigningKey(_ key: AuditSigningKey) throws(KMSError) -> [UInt8] {
        try Self.seal(key.rawRepresentation, key: auditKey, binding: Array("audit-signing-key:1".utf8))
    }

    public func openAuditSigningKey(_ sealed: [UInt8]) throws(KMSError) -> AuditSigningKey {
        var raw = try Self.open(sealed, key: auditKey, binding: Array("audit-signing-key:1".utf8))
        defer { Zeroize.wipe(&raw) }
        return try AuditSigningKey(rawRepresentation: raw)
    }

    private static func materialBinding(_ keyARN: String, _ version: UInt32) -> [UInt8] {
        Array("key-material:\(keyARN):\(version)".utf8)
    }

    private static func seal(_ secret: some DataProtocol, key: SymmetricKey, binding: [UInt8]) throws(KMSError) -> [UInt8] {
        let iv = AES256GCM.randomIV()
        let sealed = try AES256GCM.seal(secret, key: key, iv: iv, aad: binding)
        return [0x01] + iv + sealed.ciphertext + sealed.tag
    }

    /// Fails with `KMSInternalException`: a stored value that does not unwrap is corruption
    /// or tampering in storage, not the caller's fault.
    private static func open(_ wrapped: [UInt8], key: SymmetricKey, binding: [UInt8]) throws(KMSError) -> Data {
        guard wrapped.count >= 1 + 12 + 16, wrapped[0] == 0x01 else { throw KMSError.internalFailure() }
        do {
            return try AES256GCM.open(
                wrapped[13..<(wrapped.count - 16)], tag: wrapped[(wrapped.count - 16)...],
                key: key, iv: wrapped[1..<13], aad: binding)
        } catch {
            throw KMSError.internalFailure()
        }
    }
}
