import Foundation
import KMSHSM
import KMSService

/// The root key sealed by an HSM, as Vault's PKCS#11 seal keeps its root key: an AES-256 key
/// in a PKCS#11 token (sensitive, never extractable) encrypts the root key, and only that
/// ciphertext is on disk (`root.key.sealed`). The root key is unsealed by the token into the
/// server's memory at start; without the token and its PIN the file opens nothing.
///
/// File: `swiftkms-sealed-root-key-v1:` and the base64 of IV (12 bytes) || AES-256-GCM
/// ciphertext || tag, with AAD `swiftkms/root-key-seal/v1`, and a newline.
struct RootKeySeal {
    let module: String
    let tokenLabel: String
    let keyLabel: String
    /// The PIN of the token's user (from `SWIFTKMS_ROOT_KEY_PKCS11_PIN`, never a flag).
    let pin: String

    static let prefix = "swiftkms-sealed-root-key-v1:"
    static let aad = Array("swiftkms/root-key-seal/v1".utf8)

    private func session() throws -> PKCS11Session {
        do {
            let module = try PKCS11Module.load(path: self.module)
            return try PKCS11Session(module: module, slot: try module.slot(tokenLabel: tokenLabel), pin: pin)
        } catch {
            throw CommandFailure("cannot log in to token '\(tokenLabel)' of \(module): \(error)")
        }
    }

    /// Seals raw root key bytes with the token's sealing key, made in the token if absent.
    func seal(_ raw: [UInt8]) throws -> [UInt8] {
        let session = try session()
        do {
            let key = try session.findKey(label: keyLabel) ?? session.generateAESKey(label: keyLabel)
            let iv = SecureRandom.bytes(12)
            let sealed = try session.encryptAESGCM(key: key, iv: iv, aad: Self.aad, plaintext: raw)
            return Array((Self.prefix + Data(iv + sealed).base64EncodedString() + "\n").utf8)
        } catch {
            throw CommandFailure("cannot seal the root key with '\(keyLabel)' in token '\(tokenLabel)': \(error)")
        }
    }

    /// The root key of a sealed file's contents.
    func unseal(_ contents: [UInt8], file: String) throws -> RootKey {
        let text = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))), data.count == 12 + 32 + 16
        else { throw CommandFailure("\(file) is not a sealed root key.") }
        let session = try session()
        var raw: [UInt8]
        do {
            guard let key = try session.findKey(label: keyLabel) else {
                throw CommandFailure("token '\(tokenLabel)' has no key labelled '\(keyLabel)' to unseal \(file) with.")
            }
            raw = try session.decryptAESGCM(key: key, iv: Array(data.prefix(12)), aad: Self.aad, ciphertext: Array(data.dropFirst(12)))
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("the token's key '\(keyLabel)' does not unseal \(file): \(error)")
        }
        defer { Zeroize.wipe(&raw) }
        return try RootKey(rawBytes: raw)
    }
}
