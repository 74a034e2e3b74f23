import CPKCS11
import Crypto
import Foundation
import KMSCore
import KMSHSM

/// The external keys of the proxy: AES keys in one PKCS#11 token, each found by its label (the
/// external key ID). AES-GCM runs in the token; the proxy sees no key's value.
final class XKSTokenKeys: Sendable {
    /// The label of the key the health check encrypts and decrypts with (never a KMS key's).
    static let healthCheckLabel = "swiftkms-xks-health-check"

    let module: PKCS11Module
    let slot: CK_SLOT_ID
    let pool: PKCS11SessionPool
    let tokenLabel: String

    /// Opens the token and checks the PIN now, so that a wrong one stops the proxy at start.
    init(module path: String, tokenLabel: String, pin: String) throws(PKCS11Error) {
        module = try PKCS11Module.load(path: path)
        slot = try module.slot(tokenLabel: tokenLabel)
        try PKCS11Session.verifyPIN(module: module, slot: slot, pin: pin)
        pool = PKCS11SessionPool(module: module, slot: slot, pin: pin)
        self.tokenLabel = tokenLabel
    }

    /// What the token says of the key labelled `id`.
    struct KeyAttributes: Sendable {
        var bits: Int
        /// The PKCS#11 uses allowed, by their XKS names (ENCRYPT, DECRYPT, WRAP, …).
        var usage: [String]
        var encrypts: Bool { usage.contains("ENCRYPT") }
        var decrypts: Bool { usage.contains("DECRYPT") }
    }

    /// What a request may do with a key, given its attributes: throws the refusal.
    typealias Permit = @Sendable (KeyAttributes) throws(XKSFailure) -> Void

    /// The attributes of the AES key labelled `id`; nil when the token has no such AES key.
    func attributes(of id: String) async throws(XKSFailure) -> KeyAttributes? {
        try await run { session throws(PKCS11Error) -> KeyAttributes? in
            guard let key = try session.findKey(label: id) else { return nil }
            return try Self.attributes(of: key, in: session)
        }
    }

    /// The attributes of an AES key; nil for a key of another type.
    private static func attributes(of key: CK_OBJECT_HANDLE, in session: PKCS11Session) throws(PKCS11Error) -> KeyAttributes? {
        guard try session.number(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), of: key) == UInt(CKK_AES) else { return nil }
        let bits = Int(try session.number(CK_ATTRIBUTE_TYPE(CKA_VALUE_LEN), of: key)) * 8
        let uses: [(CK_ATTRIBUTE_TYPE, String)] = [
            (CK_ATTRIBUTE_TYPE(CKA_ENCRYPT), "ENCRYPT"), (CK_ATTRIBUTE_TYPE(CKA_DECRYPT), "DECRYPT"),
            (CK_ATTRIBUTE_TYPE(CKA_WRAP), "WRAP"), (CK_ATTRIBUTE_TYPE(CKA_UNWRAP), "UNWRAP"),
            (CK_ATTRIBUTE_TYPE(CKA_SIGN), "SIGN"), (CK_ATTRIBUTE_TYPE(CKA_VERIFY), "VERIFY"),
            (CK_ATTRIBUTE_TYPE(CKA_DERIVE), "DERIVE"),
        ]
        var usage: [String] = []
        for (attribute, name) in uses where try session.flag(attribute, of: key) { usage.append(name) }
        return KeyAttributes(bits: bits, usage: usage)
    }

    /// AES-GCM encryption in the token with a fresh 12-byte IV: (iv, ciphertext, tag).
    /// `permit` checks the key (found in the same session) first.
    func encrypt(
        _ id: String, plaintext: [UInt8], aad: [UInt8], permit: @escaping Permit = { _ in }
    ) async throws(XKSFailure) -> (iv: [UInt8], ciphertext: [UInt8], tag: [UInt8]) {
        let iv = Array(AES.GCM.Nonce())
        let sealed = try await withKey(id, permit: permit, refused: { _ in XKSFailure(.internalFailure, "The HSM could not encrypt.") }) {
            session, key throws(PKCS11Error) in
            try session.encryptAESGCM(key: key, iv: iv, aad: aad, plaintext: plaintext)
        }
        guard sealed.count == plaintext.count + 16 else { throw XKSFailure(.internalFailure, "The HSM returned a malformed ciphertext.") }
        return (iv, Array(sealed.dropLast(16)), Array(sealed.suffix(16)))
    }

    /// AES-GCM decryption in the token; one the token refuses is `InvalidCiphertextException`.
    func decrypt(
        _ id: String, iv: [UInt8], ciphertext: [UInt8], tag: [UInt8], aad: [UInt8], permit: @escaping Permit = { _ in }
    ) async throws(XKSFailure) -> [UInt8] {
        try await withKey(
            id, permit: permit, refused: { _ in XKSFailure(.invalidCiphertext, "The ciphertext, IV, tag or AAD is not valid for this key.") }
        ) {
            session, key throws(PKCS11Error) in
            try session.decryptAESGCM(key: key, iv: iv, aad: aad, ciphertext: ciphertext + tag)
        }
    }

    /// A deep check: encrypts and decrypts with the health check key (made on first use).
    func health() async -> XKS.HealthResponse.EKM {
        let description = try? module.tokenDescription(slot: slot)
        let id = "\(tokenLabel)/\(description?.serialNumber ?? "unknown")"
        let model = "\(description?.manufacturer ?? "PKCS#11") \(description?.model ?? "token")"
        let probe = Array("swiftkms xks-proxy health check".utf8)
        let healthy: Bool
        do {
            let label = Self.healthCheckLabel
            _ = try await run { session throws(PKCS11Error) in
                if try session.findKey(label: label) == nil { _ = try session.generateAESKey(label: label) }
            }
            let sealed = try await encrypt(label, plaintext: probe, aad: [])
            let opened = try await decrypt(label, iv: sealed.iv, ciphertext: sealed.ciphertext, tag: sealed.tag, aad: [])
            healthy = opened == probe
        } catch {
            healthy = false
        }
        return XKS.HealthResponse.EKM(id: id, model: model, healthStatus: healthy ? "ACTIVE" : "UNAVAILABLE")
    }

    /// Runs `work` with the handle of the AES key labelled `id` (`KeyNotFoundException` if none)
    /// once `permit` allowed it, all in one session: one lookup of the key per operation.
    private func withKey<T: Sendable>(
        _ id: String, permit: @escaping Permit, refused: @escaping @Sendable (PKCS11Error) -> XKSFailure,
        _ work: @escaping @Sendable (PKCS11Session, CK_OBJECT_HANDLE) throws(PKCS11Error) -> T
    ) async throws(XKSFailure) -> T {
        let outcome = try await run { session throws(PKCS11Error) -> Outcome<T> in
            guard let key = try session.findKey(label: id), let attributes = try Self.attributes(of: key, in: session) else { return .missing }
            do throws(XKSFailure) { try permit(attributes) } catch { return .denied(error) }
            do throws(PKCS11Error) {
                return .done(try work(session, key))
            } catch  where !error.meansTokenGone {
                return .failed(error)
            }
        }
        switch outcome {
        case .missing: throw XKSFailure(.keyNotFound, "No external key has this ID.")
        case .denied(let failure): throw failure
        case .done(let value): return value
        case .failed(let error): throw refused(error)
        }
    }

    /// How `withKey`'s session ended.
    private enum Outcome<T: Sendable>: Sendable {
        case missing, denied(XKSFailure), done(T), failed(PKCS11Error)
    }

    /// Runs `work` on a session; the token failing is `InternalException`.
    private func run<T: Sendable>(_ work: @escaping @Sendable (PKCS11Session) throws(PKCS11Error) -> T) async throws(XKSFailure) -> T {
        do {
            return try await pool.withSession(work)
        } catch {
            throw XKSFailure(.internalFailure, "The HSM failed: \(PKCS11Error.name(of: error.code)).")
        }
    }
}

/// A request the proxy refuses: the specification's error name, and a message for the caller
/// (printable ASCII, never a secret).
struct XKSFailure: Error {
    var name: XKS.ErrorName
    var message: String
    init(_ name: XKS.ErrorName, _ message: String) {
        self.name = name
        self.message = message
    }
}
