import CSodium

/// Ed25519ph (RFC 8032 §5.1 HashEdDSA: SHA-512 prehash, empty context) through libsodium, for
/// `ED25519_PH_SHA_512`.
///
/// libsodium prehashes the message it is given. AWS KMS takes this algorithm with MessageType
/// DIGEST only, a SHA-512 digest that it prehashes once more (FIPS 186-5 §7.8.1 step 1), so that
/// digest is the message handed to libsodium: the input is hashed twice, as AWS documents.
enum Ed25519ph {
    private static let ready = sodium_init() >= 0

    /// - Parameter seed: the 32-byte Ed25519 private key (a secret, not kept).
    static func sign(_ message: [UInt8], seed: [UInt8]) throws(KMSError) -> [UInt8] {
        guard ready, seed.count == 32 else { throw KMSError.internalFailure() }
        var publicKey = [UInt8](repeating: 0, count: 32)
        var secretKey = [UInt8](repeating: 0, count: 64)
        defer { sodium_memzero(&secretKey, secretKey.count) }
        var state = crypto_sign_ed25519ph_state()
        var signature = [UInt8](repeating: 0, count: 64)
        guard crypto_sign_ed25519_seed_keypair(&publicKey, &secretKey, seed) == 0,
            crypto_sign_ed25519ph_init(&state) == 0,
            crypto_sign_ed25519ph_update(&state, message, UInt64(message.count)) == 0,
            crypto_sign_ed25519ph_final_create(&state, &signature, nil, secretKey) == 0
        else { throw KMSError.internalFailure() }
        return signature
    }

    /// - Parameter publicKey: the 32-byte Ed25519 public key.
    static func isValidSignature(_ signature: [UInt8], for message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard ready, signature.count == 64, publicKey.count == 32 else { return false }
        var state = crypto_sign_ed25519ph_state()
        guard crypto_sign_ed25519ph_init(&state) == 0,
            crypto_sign_ed25519ph_update(&state, message, UInt64(message.count)) == 0
        else { return false }
        return crypto_sign_ed25519ph_final_verify(&state, signature, publicKey) == 0
    }
}
