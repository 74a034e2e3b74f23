/// A custom key store's kind (`CustomKeyStoreType`).
public enum CustomKeyStoreType: String, Sendable, CaseIterable, Codable {
    case cloudHSM = "AWS_CLOUDHSM"
    case external = "EXTERNAL_KEY_STORE"
}

/// A custom key store's `ConnectionState`.
public enum ConnectionState: String, Sendable, CaseIterable, Codable {
    case connected = "CONNECTED", connecting = "CONNECTING", failed = "FAILED", disconnected = "DISCONNECTED"
    case disconnecting = "DISCONNECTING"
}

/// Why a connection failed (`ConnectionErrorCode`), as AWS names them.
public enum ConnectionErrorCode: String, Sendable, CaseIterable, Codable {
    case invalidCredentials = "INVALID_CREDENTIALS", clusterNotFound = "CLUSTER_NOT_FOUND", networkErrors = "NETWORK_ERRORS"
    case internalError = "INTERNAL_ERROR", insufficientCloudHSMHSMs = "INSUFFICIENT_CLOUDHSM_HSMS", userLockedOut = "USER_LOCKED_OUT"
    case userNotFound = "USER_NOT_FOUND", userLoggedIn = "USER_LOGGED_IN", subnetNotFound = "SUBNET_NOT_FOUND"
    case insufficientFreeAddressesInSubnet = "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET", xksProxyAccessDenied = "XKS_PROXY_ACCESS_DENIED"
    case xksProxyNotReachable = "XKS_PROXY_NOT_REACHABLE", xksVPCEndpointServiceNotFound = "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND"
    case xksProxyInvalidResponse = "XKS_PROXY_INVALID_RESPONSE", xksProxyInvalidConfiguration = "XKS_PROXY_INVALID_CONFIGURATION"
    case xksVPCEndpointServiceInvalidConfiguration = "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION"
    case xksProxyTimedOut = "XKS_PROXY_TIMED_OUT", xksProxyInvalidTLSConfiguration = "XKS_PROXY_INVALID_TLS_CONFIGURATION"
}

/// What each custom key store operation requires of the store's connection state, as AWS's
/// `CustomKeyStoreInvalidStateException` documents it; the one place that says so, as
/// `KeyLifecycle` is for keys. Every refusal is that exception.
public enum CustomKeyStoreLifecycle {
    public enum Action: Sendable, Hashable, CaseIterable {
        case connect, disconnect, delete
        /// UpdateCustomKeyStore changing only `NewCustomKeyStoreName`.
        case rename
        /// UpdateCustomKeyStore changing anything else.
        case update
        case createKey
        /// GenerateRandom with a `CustomKeyStoreId` (CloudHSM key stores).
        case generateRandom
    }

    /// What `action` does from `state`: the state it leaves the store in (connect and
    /// disconnect begin, and finish in the background), or nil for no change.
    public static func check(_ action: Action, in state: ConnectionState, store id: String) throws(KMSError) -> ConnectionState? {
        func refuse(_ why: String) -> KMSError {
            KMSError(.customKeyStoreInvalidState, "Custom key store \(id) is \(state.rawValue): \(why)")
        }
        switch action {
        case .connect:
            switch state {
            case .disconnected: return .connecting
            case .connecting, .connected: return nil
            case .disconnecting, .failed: throw refuse("disconnect it, then connect it.")
            }
        case .disconnect:
            switch state {
            case .connected, .connecting, .failed: return .disconnecting
            case .disconnecting, .disconnected: throw refuse("it is not connected.")
            }
        case .delete, .update:
            guard state == .disconnected else { throw refuse("disconnect it first.") }
            return nil
        case .rename:
            guard state == .disconnected || state == .connected else { throw refuse("it must be connected or disconnected.") }
            return nil
        case .createKey, .generateRandom:
            guard state == .connected else { throw refuse("connect it first.") }
            return nil
        }
    }
}
