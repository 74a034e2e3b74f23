/// AWS's key-state table, in one place: the state a key starts in, the state each lifecycle
/// event moves it to, and which actions each state allows. Pure: operations and background
/// jobs ask it and store what it answers. A new key state (custom key stores add
/// `Creating` and `Unavailable` transitions) is added here and nowhere else.
public enum KeyLifecycle {
    /// Something that happens to a key and may change its state.
    public enum Event: Sendable, Hashable {
        /// EnableKey.
        case enable
        /// DisableKey.
        case disable
        /// ScheduleKeyDeletion. A multi-Region primary with replicas outlives them: it waits
        /// in `PendingReplicaDeletion` until its last replica is deleted.
        case scheduleDeletion(hasReplicas: Bool)
        /// The last replica of a primary was deleted.
        case lastReplicaDeleted
        /// CancelKeyDeletion. The key comes back `Disabled`, or `PendingImport` when it is a
        /// key for imported material that has none.
        case cancelDeletion(hasMaterial: Bool)
        /// The key's current material was imported (first import, or reimport).
        case currentMaterialImported
        /// The key's current imported material was deleted (DeleteImportedKeyMaterial, or its
        /// `ValidTo` passed).
        case currentMaterialDeleted
    }

    /// The state a new key (or a new replica) starts in: keys for imported material wait for it.
    public static func initialState(origin: KeyOrigin) -> KeyState {
        origin == .external ? .pendingImport : .enabled
    }

    /// Whether the key is waiting to be deleted, its own window running or its replicas'.
    public static func isPendingDeletion(_ state: KeyState) -> Bool {
        state == .pendingDeletion || state == .pendingReplicaDeletion
    }

    /// The state `event` moves a key in `key.state` to; `KMSInvalidStateException` when the
    /// event is not allowed in that state. The same state when the event changes nothing.
    public static func state(after event: Event, of key: KMSKey) throws(KMSError) -> KeyState {
        let state = key.state
        switch event {
        case .enable, .disable:
            if isPendingDeletion(state) { throw pendingDeletion(key) }
            guard state == .enabled || state == .disabled else { throw KMSError.invalidState("\(key.arn) is \(state.rawValue).") }
            return event == .enable ? .enabled : .disabled
        case .scheduleDeletion(let hasReplicas):
            if isPendingDeletion(state) { throw pendingDeletion(key) }
            return hasReplicas ? .pendingReplicaDeletion : .pendingDeletion
        case .lastReplicaDeleted:
            return state == .pendingReplicaDeletion ? .pendingDeletion : state
        case .cancelDeletion(let hasMaterial):
            guard isPendingDeletion(state) else { throw KMSError.invalidState("\(key.arn) is not pending deletion.") }
            return hasMaterial ? .disabled : .pendingImport
        case .currentMaterialImported:
            return state == .pendingImport ? .enabled : state
        case .currentMaterialDeleted:
            // A key pending deletion stays so: its window (or its replicas') keeps running.
            return isPendingDeletion(state) ? state : .pendingImport
        }
    }

    /// What an action needs of the key's state.
    public enum Requirement: Sendable, Hashable {
        /// Any state.
        case none
        /// `Enabled`: cryptographic operations, and the ones that configure rotation or grants.
        case enabled
        /// Any state but `PendingDeletion` and `PendingReplicaDeletion`.
        case notPendingDeletion
        /// Any state but `PendingDeletion`, `PendingReplicaDeletion` and `Unavailable`: EnableKey
        /// and DisableKey.
        case available
        /// `Enabled` or `PendingImport`: ImportKeyMaterial.
        case importable
        /// `Enabled` or `PendingImport`, `DisabledException` when disabled: ReplicateKey.
        case replicable
    }

    /// The row of the key-state table for `action`.
    public static func requirement(of action: KMSAction) -> Requirement {
        switch action {
        case .encrypt, .decrypt, .reEncryptFrom, .reEncryptTo, .generateDataKey, .generateDataKeyWithoutPlaintext,
            .generateDataKeyPair, .generateDataKeyPairWithoutPlaintext, .sign, .verify, .generateMac, .verifyMac,
            .deriveSharedSecret, .getPublicKey, .createGrant, .rotateKeyOnDemand, .enableKeyRotation, .disableKeyRotation:
            .enabled
        case .enableKey, .disableKey:
            .available
        case .createAlias, .updateAlias, .tagResource, .untagResource, .updateKeyDescription,
            .scheduleKeyDeletion, .getParametersForImport, .updatePrimaryRegion:
            .notPendingDeletion
        case .importKeyMaterial:
            .importable
        case .replicateKey:
            .replicable
        case .cancelKeyDeletion, .createKey, .deleteAlias, .deleteImportedKeyMaterial, .describeKey, .generateRandom,
            .getKeyLastUsage, .getKeyPolicy, .getKeyRotationStatus, .listAliases, .listGrants, .listKeyPolicies,
            .listKeyRotations, .listKeys, .listResourceTags, .listRetirableGrants, .putKeyPolicy, .retireGrant, .revokeGrant,
            .connectCustomKeyStore, .createCustomKeyStore, .deleteCustomKeyStore, .describeCustomKeyStores,
            .disconnectCustomKeyStore, .updateCustomKeyStore, .lookupEvents:
            .none
        }
    }

    /// Refuses `action` on a key whose state does not allow it, with AWS's error for that
    /// state (`displayedState`): `DisabledException` or `KMSInvalidStateException`.
    public static func check(_ action: KMSAction, on key: KMSKey) throws(KMSError) {
        let state = key.displayedState
        switch requirement(of: action) {
        case .none:
            return
        case .enabled:
            switch state {
            case .enabled: return
            case .disabled: throw KMSError(.disabled, "\(key.arn) is disabled.")
            case .pendingDeletion, .pendingReplicaDeletion: throw pendingDeletion(key)
            case .pendingImport: throw KMSError.invalidState("\(key.arn) is pending import.")
            case .unavailable:
                throw KMSError.invalidState("\(key.arn) is unavailable: its custom key store \(key.customKeyStoreID ?? "") is not connected.")
            case .creating, .updating: throw KMSError.invalidState("\(key.arn) is \(state.rawValue.lowercased()).")
            }
        case .notPendingDeletion:
            if isPendingDeletion(state) { throw pendingDeletion(key) }
        case .available:
            if isPendingDeletion(state) { throw pendingDeletion(key) }
            if state == .unavailable {
                throw KMSError.invalidState("\(key.arn) is unavailable: connect its custom key store \(key.customKeyStoreID ?? "") first.")
            }
        case .importable:
            guard state == .pendingImport || state == .enabled else {
                throw KMSError.invalidState("\(key.arn) is \(state.rawValue); material can be imported into a key that is PendingImport or Enabled.")
            }
        case .replicable:
            switch state {
            case .enabled, .pendingImport: return
            case .disabled: throw KMSError(.disabled, "\(key.arn) is disabled.")
            default: throw KMSError.invalidState("\(key.arn) is \(state.rawValue) and cannot be replicated.")
            }
        }
    }

    private static func pendingDeletion(_ key: KMSKey) -> KMSError {
        KMSError.invalidState("\(key.arn) is pending deletion.")
    }
}
