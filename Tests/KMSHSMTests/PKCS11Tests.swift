import CPKCS11
import Foundation
import Synchronization
import Testing

@testable import KMSHSM

/// The PKCS#11 layer against SoftHSM2 (Debian's `softhsm2`), on a token of the test's own.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: SoftHSM.module), "needs softhsm2 (scripts/setup installs it)"))
struct PKCS11Tests {
    @Test func aGeneratedKeyEncryptsInsideTheTokenAndNeverLeavesIt() throws {
        let token = try SoftHSM.token()
        let session = try PKCS11Session(module: token.module, slot: token.slot, pin: SoftHSM.pin)
        let key = try session.generateAESKey(label: "key-1")
        #expect(try session.findKey(label: "key-1") == key)
        #expect(try session.findKey(label: "key-2") == nil)
        #expect(try session.flag(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), of: key))
        #expect(try !session.flag(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), of: key))
        let refused = #expect(throws: PKCS11Error.self) { _ = try session.value(of: key) }
        #expect(refused?.code == UInt(CKR_ATTRIBUTE_SENSITIVE))

        let iv = [UInt8](repeating: 9, count: 12)
        let sealed = try session.encryptAESGCM(key: key, iv: iv, aad: Array("context".utf8), plaintext: Array("in the HSM".utf8))
        #expect(sealed.count == 10 + 16)
        #expect(try session.decryptAESGCM(key: key, iv: iv, aad: Array("context".utf8), ciphertext: sealed) == Array("in the HSM".utf8))
        #expect(throws: PKCS11Error.self) { _ = try session.decryptAESGCM(key: key, iv: iv, aad: Array("other".utf8), ciphertext: sealed) }
        var flipped = sealed
        flipped[0] ^= 1
        #expect(throws: PKCS11Error.self) { _ = try session.decryptAESGCM(key: key, iv: iv, aad: Array("context".utf8), ciphertext: flipped) }
    }

    @Test func aWrongPinOrAMissingTokenIsNamed() throws {
        let token = try SoftHSM.token()
        let wrong = #expect(throws: PKCS11Error.self) { _ = try PKCS11Session(module: token.module, slot: token.slot, pin: "0000") }
        #expect(wrong?.code == UInt(CKR_PIN_INCORRECT))
        let missing = #expect(throws: PKCS11Error.self) { _ = try token.module.slot(tokenLabel: "no-such-token") }
        #expect(missing?.code == UInt(CKR_TOKEN_NOT_PRESENT))
    }
}

/// A SoftHSM2 token initialised for one test, in a directory of its own.
enum SoftHSM {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"
    static let pin = "5678"
    /// SoftHSM reads its configuration once, when the module is first initialised: one
    /// directory for the process, a token per test inside it.
    static let directory: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftkms-softhsm-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory.appendingPathComponent("tokens"), withIntermediateDirectories: true)
        let configuration = directory.appendingPathComponent("softhsm2.conf")
        try? "directories.tokendir = \(directory.path)/tokens\n".write(to: configuration, atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", configuration.path, 1)
        return directory
    }()

    /// A new token: initialised through the module itself, since SoftHSM2 does not see what
    /// another process does to its tokens once it is loaded.
    static func token() throws -> (module: PKCS11Module, slot: CK_SLOT_ID) {
        _ = directory
        let module = try PKCS11Module.load(path: Self.module)
        return (
            module,
            try tokens.withLock { _ in try module.initializeFreeToken(label: "t-" + UUID().uuidString.prefix(8), soPIN: "1234", userPIN: pin) }
        )
    }

    /// One initialisation at a time: SoftHSM2 makes a new free slot after each.
    static let tokens = Mutex(())
}

/// The session pool: many concurrent callers on a few sessions, every one served.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: SoftHSM.module), "needs softhsm2 (scripts/setup installs it)"))
struct PKCS11SessionPoolTests {
    @Test func fiftyConcurrentCallersShareTwoSessions() async throws {
        let token = try SoftHSM.token()
        let pool = PKCS11SessionPool(module: token.module, slot: token.slot, pin: SoftHSM.pin, limit: 2)
        let key = try await pool.withSession { session throws(PKCS11Error) in try session.generateAESKey(label: "pooled") }
        let iv = [UInt8](repeating: 1, count: 12)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<50 {
                group.addTask {
                    let message = Array("message \(n)".utf8)
                    return try await pool.withSession { session throws(PKCS11Error) in
                        let sealed = try session.encryptAESGCM(key: key, iv: iv, aad: [], plaintext: message)
                        return try session.decryptAESGCM(key: key, iv: iv, aad: [], ciphertext: sealed) == message
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 50 && results.allSatisfy { $0 })
    }

    @Test func aWrongPinReachesTheCallerAndFreesItsPlace() async throws {
        let token = try SoftHSM.token()
        let pool = PKCS11SessionPool(module: token.module, slot: token.slot, pin: "0000", limit: 1)
        for _ in 0..<3 {
            let error = await #expect(throws: PKCS11Error.self) { _ = try await pool.withSession { _ throws(PKCS11Error) in 1 } }
            #expect(error?.code == UInt(CKR_PIN_INCORRECT))
        }
    }
}
