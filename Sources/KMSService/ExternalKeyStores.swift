import Foundation
import KMSStorage
import KMSXKSClient

/// External key stores: their keys' material is SwiftKMS's own, and every ciphertext is sealed
/// again by an external key in the store's XKS proxy (double encryption,
/// `SymmetricCiphertext.wrappedThroughXKS`). The proxy's failures become the exceptions and
/// messages of the specification's table; `errorMessage`s of proxies are logged, never returned.
extension KeyManagementService {
    /// The proxy of an external key store, with its secret access key opened.
    func xksProxy(of keyStore: CustomKeyStore) throws(KMSError) -> XKSClient.Proxy {
        guard let settings = keyStore.xksProxy else { throw KMSError.internalFailure() }
        let secret = try rootKey.openKeyStorePassword(keyStore.sealedPassword, storeID: keyStore.id)
        return XKSClient.Proxy(settings: settings, secret: secret, region: keyStore.region)
    }

    /// The message AWS gives for a failure (the specification's table of KMS exception messages).
    static func xksMessage(_ failure: XKSClient.Failure) -> String {
        switch failure {
        case .proxy(.invalidState):
            "The external key associated with this KMS key in an external key store is not enabled in the external key manager. Enable the external key in the external key manager and retry the request."
        case .proxy(.invalidCiphertext):
            "The external key store proxy rejected the request because the specified ciphertext or encryption context is corrupted, missing, or otherwise invalid."
        case .proxy(.invalidKeyUsage):
            "The external key associated with this KMS key in an external key store does not support the requested operation. Enable the operation on the key in your external key manager, and try the request again."
        case .proxy(.authenticationFailed):
            "The external key store proxy rejected the request because it could not authenticate AWS KMS. Verify the XKS proxy authentication credentials for your external key store and update if necessary."
        case .proxy(.accessDenied):
            "The external key store proxy denied access to the operation. Verify that the user and the external key are both authorized for this operation, and try the request again."
        case .proxy(.keyNotFound):
            "The external key associated with this KMS key in an external key store was not found in its external key manager. If the external key ID associated with this KMS key is incorrect, create a new KMS key with the correct external key ID."
        case .proxy(.invalidURIPath):
            "The external key store proxy rejected the request because of an invalid URI path. Verify the URI path for your external key store and update if necessary."
        case .proxy(.unsupportedOperation):
            "The external key store proxy rejected the request because it does not support the requested operation. If you see this error repeatedly, report it to your external key store proxy administrator."
        case .proxy(.dependencyTimeout):
            "The external key store proxy did not respond to the request in the time allotted. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator."
        case .proxy(.throttling):
            "The external key store proxy rejected the request due to a very high request rate. Reduce the frequency of your calls using KMS keys in this external key store."
        case .proxy(.internalFailure):
            "The external key store proxy rejected the request because it cannot communicate with the external key manager. Verify that the external key store proxy configuration is correct and that the external key manager is available."
        case .unreachable:
            "AWS KMS cannot communicate with the external key store proxy. This might be a transient network issue. If you see this error repeatedly, verify that your external key store proxy is active and is connected to the network, and that its endpoint URI is correct in your external keystore."
        case .tls:
            "AWS KMS cannot establish a TLS connection to the external key store proxy. Verify the TLS configuration, including its certificate."
        case .timedOut:
            "AWS KMS rejected the request because the external key store proxy did not respond in time. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator."
        case .proxy(.validation), .malformed:
            "AWS KMS cannot interpret the response from the external key store proxy. If you see this error repeatedly, report it to your external key store proxy administrator."
        }
    }

    /// Create/UpdateCustomKeyStore's exception for a failed GetHealthStatus.
    static func managementError(_ failure: XKSClient.Failure) -> KMSError {
        let code: KMSError.Code =
            switch failure {
            case .proxy(.authenticationFailed): .xksProxyIncorrectAuthenticationCredential
            case .proxy(.invalidURIPath): .xksProxyInvalidConfiguration
            case .proxy(.dependencyTimeout), .proxy(.throttling), .unreachable, .tls, .timedOut: .xksProxyUriUnreachable
            default: .xksProxyInvalidResponse
            }
        return KMSError(code, xksMessage(failure))
    }

    /// ConnectCustomKeyStore's `ConnectionErrorCode` for a failed GetHealthStatus.
    static func connectionErrorCode(_ failure: XKSClient.Failure) -> ConnectionErrorCode {
        switch failure {
        case .proxy(.authenticationFailed), .proxy(.accessDenied): .xksProxyAccessDenied
        case .proxy(.invalidURIPath): .xksProxyInvalidConfiguration
        case .proxy(.dependencyTimeout), .timedOut: .xksProxyTimedOut
        case .tls: .xksProxyInvalidTLSConfiguration
        case .unreachable, .proxy(.throttling): .xksProxyNotReachable
        default: .xksProxyInvalidResponse
        }
    }

    /// GetHealthStatus: the proxy answers, and at least one of its key managers can serve.
    func proxyHealth(_ proxy: XKSClient.Proxy, operation: String, requestID: String) async throws(XKSClient.Failure) {
        let health = try await xks.health(proxy, metadata: XKS.RequestMetadata(kmsOperation: operation, kmsRequestId: requestID))
        guard health.ekmFleetDetails?.contains(where: { $0.healthStatus == "ACTIVE" || $0.healthStatus == "DEGRADED" }) == true else {
            throw .proxy(.internalFailure)
        }
    }

    /// Create/UpdateCustomKeyStore's check of a proxy's settings, failures as their exceptions.
    func checkProxy(_ proxy: XKSClient.Proxy, operation: String, requestID: String) async throws(KMSError) {
        do throws(XKSClient.Failure) {
            try await proxyHealth(proxy, operation: operation, requestID: requestID)
        } catch {
            logger.notice("XKS proxy check failed", metadata: ["operation": "\(operation)", "failure": "\(error)"])
            throw Self.managementError(error)
        }
    }

    /// Connects an external key store in the background: GetHealthStatus, then CONNECTED or
    /// FAILED with the reason. Leaves a store that is no longer CONNECTING alone.
    func finishConnectingExternal(_ connecting: CustomKeyStore, requestID: String) async {
        var failure: ConnectionErrorCode?
        do {
            try await proxyHealth(try xksProxy(of: connecting), operation: "ConnectCustomKeyStore", requestID: requestID)
        } catch let error as XKSClient.Failure {
            failure = Self.connectionErrorCode(error)
        } catch {
            failure = .internalError
        }
        await recordConnection(connecting, failure: failure)
    }

    /// The key's external key store, which must be connected (`KMSInvalidStateException`).
    private func connectedExternalStore(of key: KMSKey) async throws(KMSError) -> CustomKeyStore {
        guard let storeID = key.customKeyStoreID, let keyStore = try await store.customKeyStore(id: storeID), keyStore.connectionState == .connected
        else {
            throw KMSError.invalidState(
                "This KMS key is in a custom key store that is not connected to its external key store proxy. Connect the external key store and try the request again."
            )
        }
        return keyStore
    }

    private func requestMetadata(_ key: KMSKey, _ request: RequestContext) -> XKS.RequestMetadata {
        XKS.RequestMetadata(
            awsPrincipalArn: request.principal.arn, kmsKeyArn: key.arn, kmsOperation: request.audit.request.eventName,
            kmsRequestId: request.requestID, kmsViaService: request.viaService)
    }

    /// A cryptographic operation's exception for a failed proxy call: KMSInvalidStateException.
    private func cryptographicError(_ failure: XKSClient.Failure, _ key: KMSKey) -> KMSError {
        logger.notice("XKS proxy call failed", metadata: ["keyId": "\(key.id)", "failure": "\(failure)"])
        return KMSError.invalidState(Self.xksMessage(failure))
    }

    /// Seals a blob made by the key's own material with its external key.
    func wrapInXKS(_ sealed: [UInt8], under key: KMSKey, context: EncryptionContext, request: RequestContext) async throws(KMSError) -> [UInt8] {
        let proxy = try xksProxy(of: try await connectedExternalStore(of: key))
        let keyID = key.xksKeyID ?? ""
        let metadata = requestMetadata(key, request)
        return try await SymmetricCiphertext.wrappedThroughXKS(sealed, context: context) { plaintext, aad throws(KMSError) in
            do throws(XKSClient.Failure) {
                return try await xks.encrypt(proxy, keyID: keyID, plaintext: plaintext, aad: aad, metadata: metadata)
            } catch {
                throw cryptographicError(error, key)
            }
        }
    }

    /// Removes the external key's layer of a blob.
    func unwrapInXKS(
        _ blob: SymmetricCiphertext, with key: KMSKey, context: EncryptionContext, request: RequestContext
    ) async throws(KMSError)
        -> SymmetricCiphertext
    {
        let proxy = try xksProxy(of: try await connectedExternalStore(of: key))
        let keyID = key.xksKeyID ?? ""
        let metadata = requestMetadata(key, request)
        return try await blob.unwrappedThroughXKS(context: context) { sealed, aad throws(KMSError) in
            do throws(XKSClient.Failure) {
                return try await xks.decrypt(proxy, keyID: keyID, sealed: sealed, aad: aad, metadata: metadata)
            } catch {
                throw cryptographicError(error, key)
            }
        }
    }

    /// CreateKey's check of the external key: GetKeyMetadata says AES_256, ENCRYPT and DECRYPT,
    /// ENABLED; failures as CreateKey's exceptions.
    func checkExternalKey(_ xksKeyID: String, in keyStore: CustomKeyStore, _ request: RequestContext) async throws(KMSError) {
        let proxy = try xksProxy(of: keyStore)
        let metadata = XKS.RequestMetadata(awsPrincipalArn: request.principal.arn, kmsOperation: "CreateKey", kmsRequestId: request.requestID)
        let answer: XKS.KeyMetadataResponse
        do throws(XKSClient.Failure) {
            answer = try await xks.keyMetadata(proxy, keyID: xksKeyID, metadata: metadata)
        } catch {
            logger.notice("XKS proxy GetKeyMetadata failed", metadata: ["xksKeyId": "\(xksKeyID)", "failure": "\(error)"])
            switch error {
            case .proxy(.keyNotFound): throw KMSError(.xksKeyNotFound, Self.xksMessage(error))
            case .proxy(.invalidState), .proxy(.invalidKeyUsage), .proxy(.unsupportedOperation):
                throw KMSError(.xksKeyInvalidConfiguration, Self.xksMessage(error))
            case .proxy(.accessDenied): throw KMSError.invalidState(Self.xksMessage(error))
            default: throw KMSError(.customKeyStoreInvalidState, Self.xksMessage(error))
            }
        }
        guard answer.keySpec == "AES_256" else {
            throw KMSError(
                .xksKeyInvalidConfiguration, "The external key \(xksKeyID) is not a 256-bit AES key (its KeySpec is \(answer.keySpec ?? "-")).")
        }
        guard let usage = answer.keyUsage, usage.contains("ENCRYPT"), usage.contains("DECRYPT") else {
            throw KMSError(.xksKeyInvalidConfiguration, "The external key \(xksKeyID) must allow both ENCRYPT and DECRYPT.")
        }
        guard answer.keyStatus == "ENABLED" else {
            throw KMSError(.xksKeyInvalidConfiguration, "The external key \(xksKeyID) is not enabled in the external key manager.")
        }
    }
}
