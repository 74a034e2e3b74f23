import COpenSSL
import Foundation

/// An asymmetric key pair (or a public key alone) held by OpenSSL's EVP layer: the one place
/// SwiftKMS calls OpenSSL for public-key cryptography. Every failure is reported as `nil`/
/// `false` or `KMSInternalException`, and clears OpenSSL's error queue.
///
/// The EVP_PKEY is immutable once made and OpenSSL 3 allows concurrent use of it.
final class OpenSSLKeyPair: @unchecked Sendable {
    private let pkey: OpaquePointer

    private init(_ pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit { EVP_PKEY_free(pkey) }

    enum Kind: Sendable {
        case rsa(bits: Int32)
        /// A named curve, by OpenSSL NID.
        case ec(curve: Int32)
        case ed25519
        /// SM2 (GB/T 32918) on its own curve: signatures, encryption, ECDH.
        case sm2
    }

    /// A fresh key pair from OpenSSL's CSPRNG.
    static func generate(_ kind: Kind) throws(KMSError) -> OpenSSLKeyPair {
        let id: Int32 =
            switch kind {
            case .rsa: EVP_PKEY_RSA
            case .ec: EVP_PKEY_EC
            case .ed25519: EVP_PKEY_ED25519
            case .sm2: EVP_PKEY_SM2
            }
        guard let ctx = EVP_PKEY_CTX_new_id(id, nil) else { throw failure() }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else { throw failure() }
        switch kind {
        case .rsa(let bits): guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) == 1 else { throw failure() }
        case .ec(let curve): guard EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, curve) == 1 else { throw failure() }
        case .ed25519, .sm2: break
        }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen(ctx, &pkey) == 1, let pkey else { throw failure() }
        return OpenSSLKeyPair(pkey)
    }

    /// A private key from DER PKCS#8 (or a traditional RSA/EC DER form).
    convenience init(privateKeyDER der: [UInt8]) throws(KMSError) {
        let pkey: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_AutoPrivateKey(nil, &pointer, buffer.count)
        }
        guard let pkey else { throw Self.failure() }
        self.init(pkey)
    }

    /// A public key from DER SubjectPublicKeyInfo; nil when the bytes are not one, or name an
    /// EC curve by explicit parameters rather than by OID (which hides bad orders and
    /// cofactors: Wycheproof's "UnnamedCurve" cases).
    static func publicKey(spki der: [UInt8]) -> OpenSSLKeyPair? {
        var consumed = 0
        let pkey: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            let key = d2i_PUBKEY(nil, &pointer, buffer.count)
            if let start = buffer.baseAddress, let pointer { consumed = pointer - start }
            return key
        }
        guard let pkey else { return clear(nil) }
        let key = OpenSSLKeyPair(pkey)  // frees the EVP_PKEY when dropped below
        // Trailing bytes after the structure make it no SPKI.
        guard consumed == der.count, key.baseID != EVP_PKEY_EC || key.hasNamedCurve else { return clear(nil) }
        return key
    }

    /// Whether an EC key's curve is encoded by name (OpenSSL's "encoding" parameter).
    private var hasNamedCurve: Bool {
        var value = [CChar](repeating: 0, count: 32)
        var length = 0
        guard EVP_PKEY_get_utf8_string_param(pkey, "encoding", &value, value.count, &length) == 1 else { return false }
        return value.prefix(length).map { UInt8(bitPattern: $0) } == Array("named_curve".utf8)
    }

    /// The private key as DER PKCS#8. A secret: only for wrapping under the root key, or
    /// for a data key pair returned to its caller.
    func pkcs8DER() throws(KMSError) -> [UInt8] {
        guard let info = EVP_PKEY2PKCS8(pkey) else { throw Self.failure() }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        return try Self.encode { i2d_PKCS8_PRIV_KEY_INFO(info, $0) }
    }

    /// An Ed25519 key's 32-byte private key: a secret, for libsodium's Ed25519ph only.
    func rawPrivateKey() throws(KMSError) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: 32)
        var length = key.count
        guard EVP_PKEY_get_raw_private_key(pkey, &key, &length) == 1, length == 32 else { throw Self.failure() }
        return key
    }

    /// An Ed25519 key's 32-byte public key; nil for other keys.
    func rawPublicKey() -> [UInt8]? {
        var key = [UInt8](repeating: 0, count: 32)
        var length = key.count
        guard baseID == EVP_PKEY_ED25519, EVP_PKEY_get_raw_public_key(pkey, &key, &length) == 1, length == 32 else { return Self.clear(nil) }
        return key
    }

    /// The public key as DER SubjectPublicKeyInfo.
    func spkiDER() throws(KMSError) -> [UInt8] {
        try Self.encode { i2d_PUBKEY(pkey, $0) }
    }

    var baseID: Int32 { EVP_PKEY_get_base_id(pkey) }
    /// OpenSSL 3 types a key on the SM2 curve as SM2 (its base ID is not EC).
    var isSM2: Bool { EVP_PKEY_is_a(pkey, "SM2") == 1 }
    var bits: Int32 { EVP_PKEY_get_bits(pkey) }

    /// The curve of an EC key (OpenSSL NID); nil for other keys.
    var curve: Int32? {
        guard baseID == EVP_PKEY_EC else { return nil }
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_group_name(pkey, &name, name.count, &length) == 1 else { return nil }
        return OBJ_sn2nid(name)
    }

    // MARK: Signatures

    enum RSAPadding {
        case pss, pkcs1
    }

    /// Signs a digest made with `digest` (RSA with `padding`; ECDSA ignores it and returns DER).
    func sign(digest: [UInt8], digestAlgorithm: OpaquePointer, rsaPadding: RSAPadding?) throws(KMSError) -> [UInt8] {
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else { throw Self.failure() }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_sign_init(ctx) == 1, Self.configure(ctx, digestAlgorithm, rsaPadding) else { throw Self.failure() }
        var length = 0
        guard EVP_PKEY_sign(ctx, nil, &length, digest, digest.count) == 1 else { throw Self.failure() }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_sign(ctx, &signature, &length, digest, digest.count) == 1 else { throw Self.failure() }
        return Array(signature.prefix(length))
    }

    func isValidSignature(_ signature: [UInt8], digest: [UInt8], digestAlgorithm: OpaquePointer, rsaPadding: RSAPadding?) -> Bool {
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else { return Self.clear(false) }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_verify_init(ctx) == 1, Self.configure(ctx, digestAlgorithm, rsaPadding) else { return Self.clear(false) }
        return Self.clear(EVP_PKEY_verify(ctx, signature, signature.count, digest, digest.count) == 1)
    }

    /// Signs a whole message by the key type's own scheme: PureEdDSA for Ed25519; for SM2,
    /// SM2DSA over SM3(Z ‖ message), Z from the default distinguishing ID and this public key
    /// (a DIGEST, SM3(Z ‖ message) made by the caller, goes through `sign(digest:...)`).
    func sign(message: [UInt8]) throws(KMSError) -> [UInt8] {
        guard let md = EVP_MD_CTX_new() else { throw Self.failure() }
        defer { EVP_MD_CTX_free(md) }
        guard initWholeMessage(md, sign: true) else { throw Self.failure() }
        var length = 0
        guard EVP_DigestSign(md, nil, &length, message, message.count) == 1 else { throw Self.failure() }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(md, &signature, &length, message, message.count) == 1 else { throw Self.failure() }
        return Array(signature.prefix(length))
    }

    func isValidSignature(_ signature: [UInt8], message: [UInt8]) -> Bool {
        guard let md = EVP_MD_CTX_new() else { return Self.clear(false) }
        defer { EVP_MD_CTX_free(md) }
        guard initWholeMessage(md, sign: false) else { return Self.clear(false) }
        return Self.clear(EVP_DigestVerify(md, signature, signature.count, message, message.count) == 1)
    }

    /// The distinguishing ID AWS KMS uses for SM2DSA over RAW messages: GM/T 0009-2012's default.
    static let sm2DistinguishingID = Array("1234567812345678".utf8)

    private func initWholeMessage(_ md: OpaquePointer, sign: Bool) -> Bool {
        var ctx: OpaquePointer?
        let digest = isSM2 ? EVP_sm3() : nil
        let initialized = sign ? EVP_DigestSignInit(md, &ctx, digest, nil, pkey) : EVP_DigestVerifyInit(md, &ctx, digest, nil, pkey)
        guard initialized == 1 else { return false }
        guard isSM2 else { return true }
        let id = Self.sm2DistinguishingID
        return ctx.map { EVP_PKEY_CTX_set1_id($0, id, Int32(id.count)) == 1 } ?? false
    }

    private static func configure(_ ctx: OpaquePointer, _ digest: OpaquePointer, _ padding: RSAPadding?) -> Bool {
        guard EVP_PKEY_CTX_set_signature_md(ctx, digest) == 1 else { return false }
        switch padding {
        case nil: return true
        case .pkcs1: return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1
        case .pss:
            // Salt length = digest length, as AWS KMS uses; MGF1 with the same digest.
            return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1
                && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, digest) == 1
        }
    }

    // MARK: RSA-OAEP

    /// RSAES-OAEP with `digest` for both the label hash and MGF1, empty label.
    func encryptOAEP(_ plaintext: [UInt8], digest: OpaquePointer) throws(KMSError) -> [UInt8] {
        try encrypt(plaintext) { Self.configureOAEP($0, digest) }
    }

    /// nil for any ciphertext that does not decrypt (no detail: no padding oracle).
    func decryptOAEP(_ ciphertext: [UInt8], digest: OpaquePointer) -> [UInt8]? {
        decrypt(ciphertext) { Self.configureOAEP($0, digest) }
    }

    /// EVP_PKEY_encrypt, configured by `configure`, with the usual call for the length first.
    private func encrypt(_ plaintext: [UInt8], configure: (OpaquePointer) -> Bool) throws(KMSError) -> [UInt8] {
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else { throw Self.failure() }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_encrypt_init(ctx) == 1, configure(ctx) else { throw Self.failure() }
        var length = 0
        guard EVP_PKEY_encrypt(ctx, nil, &length, plaintext, plaintext.count) == 1 else { throw Self.failure() }
        var out = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_encrypt(ctx, &out, &length, plaintext, plaintext.count) == 1 else { throw Self.failure() }
        return Array(out.prefix(length))
    }

    private func decrypt(_ ciphertext: [UInt8], configure: (OpaquePointer) -> Bool) -> [UInt8]? {
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else { return Self.clear(nil) }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_decrypt_init(ctx) == 1, configure(ctx) else { return Self.clear(nil) }
        var length = 0
        guard EVP_PKEY_decrypt(ctx, nil, &length, ciphertext, ciphertext.count) == 1 else { return Self.clear(nil) }
        var out = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_decrypt(ctx, &out, &length, ciphertext, ciphertext.count) == 1 else { return Self.clear(nil) }
        return Array(out.prefix(length))
    }

    private static func configureOAEP(_ ctx: OpaquePointer, _ digest: OpaquePointer) -> Bool {
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_oaep_md(ctx, digest) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, digest) == 1
    }

    // MARK: Key agreement

    /// The raw ECDH shared secret (the x-coordinate, no KDF) with `peer`'s public key; nil when
    /// the peer's key is not a valid point of this key's curve.
    func deriveSharedSecret(with peer: OpenSSLKeyPair) -> [UInt8]? {
        if isSM2 { return deriveSM2SharedSecret(with: peer) }
        guard let curve, peer.curve == curve, let ctx = EVP_PKEY_CTX_new(pkey, nil) else { return Self.clear(nil) }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_derive_init(ctx) == 1, EVP_PKEY_derive_set_peer(ctx, peer.pkey) == 1 else { return Self.clear(nil) }
        var length = 0
        guard EVP_PKEY_derive(ctx, nil, &length) == 1 else { return Self.clear(nil) }
        var secret = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_derive(ctx, &secret, &length) == 1 else { return Self.clear(nil) }
        return Array(secret.prefix(length))
    }

    // MARK: SM2 encryption and key agreement (as AWS KMS in China Regions)

    /// SM2PKE with SM3, in the ASN.1 form of GM/T 0009 (x, y, C3, C2) that AWS KMS uses.
    func encryptSM2(_ plaintext: [UInt8]) throws(KMSError) -> [UInt8] {
        guard isSM2 else { throw Self.failure() }
        return try encrypt(plaintext) { _ in true }
    }

    /// nil for any ciphertext that does not decrypt.
    func decryptSM2(_ ciphertext: [UInt8]) -> [UInt8]? {
        isSM2 ? decrypt(ciphertext) { _ in true } : nil
    }

    /// Raw ECDH on the SM2 curve (the x-coordinate of d·Q): see `swiftkms_sm2_ecdh`.
    private func deriveSM2SharedSecret(with peer: OpenSSLKeyPair) -> [UInt8]? {
        var secret = [UInt8](repeating: 0, count: 32)
        guard peer.isSM2, swiftkms_sm2_ecdh(pkey, peer.pkey, &secret) == 1 else { return Self.clear(nil) }
        return secret
    }

    // MARK: Plumbing

    /// Runs an i2d function twice: for the length, then into a buffer of that length.
    private static func encode(_ i2d: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) throws(KMSError) -> [UInt8] {
        let length = i2d(nil)
        guard length > 0 else { throw failure() }
        var out = [UInt8](repeating: 0, count: Int(length))
        let written = out.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d(&pointer)
        }
        guard written == length else { throw failure() }
        return out
    }

    private static func failure() -> KMSError {
        ERR_clear_error()
        return KMSError.internalFailure()
    }

    private static func clear<T>(_ value: T) -> T {
        ERR_clear_error()
        return value
    }
}
