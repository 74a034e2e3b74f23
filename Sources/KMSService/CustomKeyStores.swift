import CPKCS11
import Foundation
import KMSHSM
import KMSStorage

/// What the custom key store operations share, and how keys in a CloudHSM key store are used:
/// their material is an AES-256 key in the store's HSM token, which seals and opens format-1
/// blobs itself (`SymmetricCiphertext.sealedInHSM`). A store is usable while its state in the
/// database is CONNECTED; each process opens its own sessions to the token when it first needs
/// them (`HSMConnections`).
extension KeyManagementService {
    /// The caller's custom key store of that ID; `CustomKeyStoreNotFoundException` otherwise.
    func customKeyStore(id: String, _ context: RequestContext) async throws(KMSError) -> CustomKeyStore {
        guard let found = try await store.customKeyStore(id: id), found.account == context.account, found.region == context.region else {
            throw KMSError(.customKeyStoreNotFound, "Custom key store '\(id)' does not exist in this account and region.")
        }
        return found
    }

    /// `CloudHsmClusterId` of a key in a CloudHSM key store; nil for other keys.
    public func cloudHSMClusterID(of key: KMSKey) async throws(KMSError) -> String? {
        guard let id = key.customKeyStoreID else { return nil }
        return try await store.customKeyStore(id: id)?.cloudHSMClusterID
    }

    /// Reads the key's custom key store (cached) to say whether the key is `Unavailable`.
    func noteStoreConnection(_ key: inout KMSKey) async throws(KMSError) {
        guard let id = key.customKeyStoreID else { return }
        key.customKeyStoreConnected = try await store.customKeyStore(id: id)?.connectionState == .connected
    }

    // MARK: Connecting

    /// Connects a CloudHSM key store in the background (ConnectCustomKeyStore has answered):
    /// checks the token and the password, then moves the store from CONNECTING to CONNECTED,
    /// or to FAILED with the reason. Leaves a store that is no longer CONNECTING alone.
    func finishConnecting(_ connecting: CustomKeyStore) async {
        let failure = await openConnection(connecting, verifyingPassword: true).failure
        await recordConnection(connecting, failure: failure)
        if failure != nil { hsm.close(storeID: connecting.id) }
    }

    /// Moves a store from CONNECTING to CONNECTED, or to FAILED with `failure`; leaves one that
    /// is no longer CONNECTING alone.
    func recordConnection(_ connecting: CustomKeyStore, failure: ConnectionErrorCode?) async {
        do {
            guard var current = try await store.customKeyStore(id: connecting.id), current.connectionState == .connecting else { return }
            current.connectionState = failure == nil ? .connected : .failed
            current.connectionErrorCode = failure
            _ = try await store.commitUnlessChanged([.updateCustomKeyStore(current)])
            logger.notice(
                "custom key store connection finished",
                metadata: [
                    "customKeyStoreId": "\(current.id)", "connectionState": "\(current.connectionState.rawValue)",
                    "connectionErrorCode": "\(failure?.rawValue ?? "-")",
                ])
        } catch {
            logger.error("custom key store connection not recorded", metadata: ["customKeyStoreId": "\(connecting.id)"])
        }
    }

    /// Opens (and registers) a session pool on the store's token. With `verifyingPassword`, the
    /// password is checked against the token now; otherwise when the first session logs in.
    private func openConnection(
        _ keyStore: CustomKeyStore, verifyingPassword: Bool
    ) async -> (connection: HSMConnections.Connection?, failure: ConnectionErrorCode?) {
        guard let clusterID = keyStore.cloudHSMClusterID, let cluster = try? await store.hsmCluster(id: clusterID) else {
            return (nil, .clusterNotFound)
        }
        guard let password = try? rootKey.openKeyStorePassword(keyStore.sealedPassword, storeID: keyStore.id) else {
            return (nil, .internalError)
        }
        let identity = HSMConnections.identity(of: keyStore)
        let opened = try? await KeyGeneration.offloaded { () throws(KMSError) -> (HSMConnections.Connection?, ConnectionErrorCode?) in
            let module: PKCS11Module
            let slot: CK_SLOT_ID
            do throws(PKCS11Error) {
                module = try PKCS11Module.load(path: cluster.modulePath)
                slot = try module.slot(tokenLabel: cluster.tokenLabel)
            } catch {
                return (nil, .clusterNotFound)
            }
            if verifyingPassword {
                do throws(PKCS11Error) {
                    try PKCS11Session.verifyPIN(module: module, slot: slot, pin: password)
                } catch {
                    return (nil, Self.connectionErrorCode(error))
                }
            }
            return (HSMConnections.Connection(pool: PKCS11SessionPool(module: module, slot: slot, pin: password), identity: identity), nil)
        }
        guard let (connection, failure) = opened, let connection else { return (nil, opened?.1 ?? .internalError) }
        hsm.register(connection, for: keyStore.id)
        return (connection, failure)
    }

    /// The `ConnectionErrorCode` of a failed login.
    static func connectionErrorCode(_ error: PKCS11Error) -> ConnectionErrorCode {
        switch Int32(truncatingIfNeeded: error.code) {
        case Int32(CKR_PIN_INCORRECT), Int32(CKR_PIN_INVALID), Int32(CKR_PIN_LEN_RANGE): .invalidCredentials
        case Int32(CKR_PIN_LOCKED): .userLockedOut
        case Int32(CKR_USER_PIN_NOT_INITIALIZED): .userNotFound
        default: error.meansTokenGone ? .networkErrors : .internalError
        }
    }

    // MARK: Using keys in an HSM

    /// Runs `work` on a session of the token holding `key`'s material, with the handle of its
    /// AES key. A store that is not connected, a key missing from the token, or a token gone
    /// away (which fails the store, with its keys then `Unavailable`) is `KMSInvalidStateException`;
    /// the token's refusal of the one operation is `refused(error)`.
    func inHSM<T: Sendable>(
        _ key: KMSKey, refused: (PKCS11Error) -> KMSError, _ work: @escaping (PKCS11Session, CK_OBJECT_HANDLE) throws(PKCS11Error) -> T
    ) async throws(KMSError) -> T {
        guard let storeID = key.customKeyStoreID, let keyStore = try await store.customKeyStore(id: storeID),
            keyStore.connectionState == .connected
        else { throw KMSError.invalidState("\(key.arn) is unavailable: its custom key store \(key.customKeyStoreID ?? "") is not connected.") }
        let label = key.id
        let found = try await withToken(of: keyStore, refused: refused) { connection, session throws(PKCS11Error) -> T? in
            try Self.withKeyHandle(label, connection, session, work)
        }
        guard let found else {
            let present = await tokenPresent(keyStore)
            if !present {
                await fail(keyStore, .networkErrors)
                throw KMSError.invalidState("The custom key store \(storeID) of \(key.arn) failed; disconnect it, then connect it.")
            }
            throw KMSError.invalidState("The key material of \(key.arn) is not in its custom key store \(storeID).")
        }
        return found
    }

    /// Runs `work` on a session of a connected store's token (opening this process's pool on
    /// first use). A token gone away fails the store: `KMSInvalidStateException`.
    func withToken<T: Sendable>(
        of keyStore: CustomKeyStore, refused: (PKCS11Error) -> KMSError,
        _ work: @escaping (HSMConnections.Connection, PKCS11Session) throws(PKCS11Error) -> T
    ) async throws(KMSError) -> T {
        var connection = hsm.connection(for: keyStore)
        if connection == nil { connection = await openConnection(keyStore, verifyingPassword: false).connection }
        guard let connection else { throw KMSError.invalidState("The custom key store \(keyStore.id) cannot be reached.") }
        do {
            return try await connection.pool.withSession { session throws(PKCS11Error) -> T in try work(connection, session) }
        } catch  where error.meansTokenGone || error.code == UInt(CKR_PIN_INCORRECT) {
            await fail(keyStore, error.meansTokenGone ? .networkErrors : .invalidCredentials)
            throw KMSError.invalidState("The custom key store \(keyStore.id) failed; disconnect it, then connect it.")
        } catch {
            throw refused(error)
        }
    }

    /// Runs `work` with the handle of the token key labelled `label`; a handle looked up earlier
    /// that names an object no longer there is looked up once more. Nil when there is none.
    private static func withKeyHandle<T>(
        _ label: String, _ connection: HSMConnections.Connection, _ session: PKCS11Session,
        _ work: (PKCS11Session, CK_OBJECT_HANDLE) throws(PKCS11Error) -> T
    ) throws(PKCS11Error) -> T? {
        guard let handle = try connection.key(label, in: session) else { return nil }
        do {
            return try work(session, handle)
        } catch {
            connection.forget(label)
            guard error.meansStaleHandle else { throw error }
            guard let fresh = try connection.key(label, in: session) else { return nil }
            return try work(session, fresh)
        }
    }

    /// Whether the store's token is still there (a key missing from it may mean it went away).
    private func tokenPresent(_ keyStore: CustomKeyStore) async -> Bool {
        guard let clusterID = keyStore.cloudHSMClusterID, let cluster = try? await store.hsmCluster(id: clusterID),
            let module = try? PKCS11Module.load(path: cluster.modulePath)
        else { return false }
        return module.hasToken(label: cluster.tokenLabel)
    }

    /// Marks a connected store FAILED after its token went away, and drops this process's pool.
    private func fail(_ keyStore: CustomKeyStore, _ code: ConnectionErrorCode) async {
        hsm.close(storeID: keyStore.id)
        var failed = keyStore
        failed.connectionState = .failed
        failed.connectionErrorCode = code
        _ = try? await store.commitUnlessChanged([.updateCustomKeyStore(failed)])
        logger.error("custom key store failed", metadata: ["customKeyStoreId": "\(keyStore.id)", "connectionErrorCode": "\(code.rawValue)"])
    }

    /// Encrypts with a key whose material is in an HSM.
    func sealInHSM(_ plaintext: [UInt8], under key: KMSKey, context: EncryptionContext) async throws(KMSError) -> [UInt8] {
        try await SymmetricCiphertext.sealedInHSM(
            plaintext, context: context, account: key.account, keyID: key.id, materialVersion: key.currentMaterialVersion
        ) { iv, aad, plaintext throws(KMSError) in
            try await inHSM(key, refused: { error in refusedInHSM(key, error) }) { session, handle throws(PKCS11Error) in
                try session.encryptAESGCM(key: handle, iv: iv, aad: aad, plaintext: plaintext)
            }
        }
    }

    /// Decrypts a blob of a key whose material is in an HSM; a blob the token does not open is
    /// `InvalidCiphertextException`.
    func openInHSM(_ blob: SymmetricCiphertext, with key: KMSKey, context: EncryptionContext) async throws(KMSError) -> Data {
        guard blob.materialVersion == key.currentMaterialVersion else { throw KMSError.invalidCiphertext }
        return Data(
            try await blob.openInHSM(context: context) { iv, aad, sealed throws(KMSError) in
                try await inHSM(key, refused: { _ in KMSError.invalidCiphertext }) { session, handle throws(PKCS11Error) in
                    try session.decryptAESGCM(key: handle, iv: iv, aad: aad, ciphertext: sealed)
                }
            })
    }

    /// An operation the token should have done and refused: logged (function and CKR only).
    func refusedInHSM(_ key: KMSKey, _ error: PKCS11Error) -> KMSError {
        logger.error("HSM refused an operation", metadata: ["keyId": "\(key.id)", "error": "\(error)"])
        return KMSError.internalFailure()
    }

    /// Generates the key's AES-256 key in its store's token, labelled with the key ID:
    /// sensitive and not extractable, so its value never leaves the token.
    func generateInHSM(_ key: KMSKey, _ keyStore: CustomKeyStore) async throws(KMSError) {
        let label = key.id
        _ = try await withToken(of: keyStore, refused: { error in refusedInHSM(key, error) }) { _, session throws(PKCS11Error) in
            try session.generateAESKey(label: label)
        }
    }

    /// Destroys the token key of a key that is gone (deleted, or never committed). A store
    /// that is not connected keeps it, as AWS leaves key material in a disconnected cluster.
    func destroyInHSM(_ key: KMSKey) async {
        do {
            try await inHSM(key, refused: { error in refusedInHSM(key, error) }) { session, handle throws(PKCS11Error) in
                try session.destroy(handle)
            }
            hsm.connection(forID: key.customKeyStoreID)?.forget(key.id)
        } catch {
            logger.notice("key left in its custom key store's token", metadata: ["keyId": "\(key.id)", "error": "\(error.code.rawValue)"])
        }
    }
}
