import ArgumentParser
import Foundation
import KMSService

extension Admin {
    /// Moves a deployment from a root key file to a root key sealed by an HSM (`RootKeySeal`).
    struct SealRootKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal-root-key",
            abstract:
                "Seal an existing root key file with a key in a PKCS#11 token (give --root-key-pkcs11-module and --root-key-pkcs11-token-label, and the PIN in SWIFTKMS_ROOT_KEY_PKCS11_PIN), then delete the plaintext file.",
            discussion:
                "Writes --root-key-file (default DATA_DIR/root.key.sealed), checks that it unseals to the same root key, then overwrites and removes the plaintext file unless --keep-plaintext-root-key. Stop the servers first, and start them again with the same --root-key-pkcs11-* options."
        )
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "The root key file to seal. (default: DATA_DIR/root.key)") var plaintextRootKeyFile: String?
        @Flag(help: "Keep the plaintext root key file (to store it offline yourself).") var keepPlaintextRootKey = false

        func run() async throws {
            guard let seal = try data.rootKeySeal else { throw ValidationError("Give --root-key-pkcs11-module and --root-key-pkcs11-token-label.") }
            let plaintextFile = plaintextRootKeyFile ?? data.resolvedDataDir + "/root.key"
            let sealedFile = data.resolvedRootKeyFile
            guard sealedFile != plaintextFile else { throw ValidationError("--root-key-file must name the sealed file, not \(plaintextFile).") }
            guard !FileManager.default.fileExists(atPath: sealedFile) else { throw CommandFailure("\(sealedFile) exists already.") }
            let plain = try DataDirectory.loadOrCreateRootKey(at: plaintextFile, logger: Admin.quietLogger, create: false)
            var contents = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plaintextFile)))
            defer { Zeroize.wipe(&contents) }
            let encoded = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard var raw = Data(base64Encoded: encoded).map(Array.init) else { throw CommandFailure("\(plaintextFile) is not a root key file.") }
            defer { Zeroize.wipe(&raw) }
            try DataDirectory.writeOwnerOnly(sealedFile, bytes: try seal.seal(raw))
            let unsealed = try DataDirectory.loadOrCreateRootKey(at: sealedFile, sealedBy: seal, logger: Admin.quietLogger, create: false)
            guard unsealed.fingerprint == plain.fingerprint else {
                try? FileManager.default.removeItem(atPath: sealedFile)
                throw CommandFailure("\(sealedFile) did not unseal to the same root key; nothing changed.")
            }
            if !keepPlaintextRootKey { try Self.destroy(plaintextFile, length: contents.count) }
            print(
                """
                sealed \(plaintextFile) into \(sealedFile) with key '\(seal.keyLabel)' of token '\(seal.tokenLabel)' (root key fingerprint \(plain.fingerprint)).
                \(keepPlaintextRootKey ? "kept \(plaintextFile): store it offline, then remove it." : "overwrote and removed \(plaintextFile).")
                Start the servers with the same --root-key-pkcs11-module, --root-key-pkcs11-token-label and SWIFTKMS_ROOT_KEY_PKCS11_PIN.
                """)
        }

        /// Overwrites a file with zeros (synced) before removing it.
        static func destroy(_ file: String, length: Int) throws {
            let fd = open(file, O_WRONLY)
            guard fd >= 0 else { throw CommandFailure("cannot open \(file): \(String(cString: strerror(errno)))") }
            let zeros = [UInt8](repeating: 0, count: length)
            let written = write(fd, zeros, zeros.count)
            fsync(fd)
            close(fd)
            guard written == length, unlink(file) == 0 else { throw CommandFailure("cannot remove \(file): \(String(cString: strerror(errno)))") }
        }
    }
}
