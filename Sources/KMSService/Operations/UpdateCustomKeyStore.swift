import Foundation
import KMSStorage

extension KeyManagementService {
    public struct UpdateCustomKeyStoreInput: Sendable {
        public var id: String
        public var newName: String?
        public var keyStorePassword: String?
        public var cloudHSMClusterID: String?
        /// The `XksProxy*` members (external key stores).
        public var xksProxy: XKSProxyInput

        public init(id: String, newName: String?, keyStorePassword: String?, cloudHSMClusterID: String?, xksProxy: XKSProxyInput) {
            self.id = id
            self.newName = newName
            self.keyStorePassword = keyStorePassword
            self.cloudHSMClusterID = cloudHSMClusterID
            self.xksProxy = xksProxy
        }
    }

    /// Renames a custom key store (connected or disconnected), or, while it is disconnected,
    /// changes its password or moves it to a related cluster: one registered over the same
    /// token, which holds its keys (`CloudHsmClusterNotRelatedException` otherwise). An external
    /// key store's credential and URI path may change while connected, its endpoint and
    /// connectivity only while disconnected; its proxy must answer GetHealthStatus at the new settings.
    public func updateCustomKeyStore(_ input: UpdateCustomKeyStoreInput, _ context: RequestContext) async throws(KMSError) {
        try await authorizeAccountAction(context, AccessRequest(.updateCustomKeyStore))
        let changesConnection = input.keyStorePassword != nil || input.cloudHSMClusterID != nil
        try await store.commitRetrying(recording: context) { () throws(KMSError) -> ServiceStore.Change<Void> in
            let current = try await customKeyStore(id: input.id, context)
            if current.type == .external { return try await updatedExternalKeyStore(current, input, context) }
            if !input.xksProxy.isEmpty {
                throw KMSError.validation("XksProxy parameters are valid only for custom key stores of type EXTERNAL_KEY_STORE.")
            }
            guard changesConnection || input.newName != nil else {
                throw KMSError.validation("Specify at least one property of the custom key store to update.")
            }
            _ = try CustomKeyStoreLifecycle.check(changesConnection ? .update : .rename, in: current.connectionState, store: input.id)
            var updated = current
            if let newName = input.newName, newName != current.name {
                let others = try await store.customKeyStores(account: context.account, region: context.region)
                if others.contains(where: { $0.name == newName }) { throw Self.nameInUse(newName) }
                updated.name = newName
            }
            if let clusterID = input.cloudHSMClusterID, clusterID != current.cloudHSMClusterID {
                guard let cluster = try await store.hsmCluster(id: clusterID) else {
                    throw KMSError(.cloudHsmClusterNotFound, "CloudHSM cluster '\(clusterID)' does not exist.")
                }
                guard let originalID = current.cloudHSMClusterID, let original = try await store.hsmCluster(id: originalID),
                    original.modulePath == cluster.modulePath, original.tokenLabel == cluster.tokenLabel
                else {
                    throw KMSError(
                        .cloudHsmClusterNotRelated,
                        "CloudHSM cluster '\(clusterID)' is not related to the cluster of custom key store \(input.id): it does not hold its keys.")
                }
                updated.cloudHSMClusterID = clusterID
                updated.trustAnchorCertificate = cluster.trustAnchorCertificate
            }
            if let password = input.keyStorePassword {
                updated.sealedPassword = try rootKey.sealKeyStorePassword(password, storeID: input.id)
            }
            return ServiceStore.Change([.updateCustomKeyStore(updated)], (), ifExists: input.newName.map(Self.nameInUse))
        }
        if changesConnection { hsm.close(storeID: input.id) }
    }

    private func updatedExternalKeyStore(
        _ current: CustomKeyStore, _ input: UpdateCustomKeyStoreInput, _ context: RequestContext
    ) async throws(KMSError) -> ServiceStore.Change<Void> {
        if input.keyStorePassword != nil || input.cloudHSMClusterID != nil {
            throw KMSError.validation("KeyStorePassword and CloudHsmClusterId are valid only for custom key stores of type AWS_CLOUDHSM.")
        }
        let proxy = input.xksProxy
        try proxy.refuseVPCEndpointService()
        guard !proxy.isEmpty || input.newName != nil else {
            throw KMSError.validation("Specify at least one property of the custom key store to update.")
        }
        if (proxy.accessKeyID == nil) != (proxy.secretAccessKey == nil) {
            throw KMSError.validation("XksProxyAuthenticationCredential needs both AccessKeyId and RawSecretAccessKey.")
        }
        let needsDisconnected = proxy.uriEndpoint != nil || proxy.connectivity != nil
        _ = try CustomKeyStoreLifecycle.check(needsDisconnected ? .update : .rename, in: current.connectionState, store: input.id)
        var updated = current
        let others = try await store.customKeyStores(account: context.account, region: context.region).filter { $0.id != current.id }
        if let newName = input.newName, newName != current.name {
            if others.contains(where: { $0.name == newName }) { throw Self.nameInUse(newName) }
            updated.name = newName
        }
        guard var settings = current.xksProxy else { throw KMSError.internalFailure() }
        settings.uriEndpoint = proxy.uriEndpoint ?? settings.uriEndpoint
        settings.uriPath = proxy.uriPath ?? settings.uriPath
        settings.connectivity = proxy.connectivity ?? settings.connectivity
        settings.accessKeyID = proxy.accessKeyID ?? settings.accessKeyID
        if others.contains(where: { $0.xksProxy?.uriEndpoint == settings.uriEndpoint && $0.xksProxy?.uriPath == settings.uriPath }) {
            throw Self.proxyURIInUse()
        }
        updated.xksProxy = settings
        if let secret = proxy.secretAccessKey { updated.sealedPassword = try rootKey.sealKeyStorePassword(secret, storeID: current.id) }
        if !proxy.isEmpty { try await checkProxy(try xksProxy(of: updated), operation: "UpdateCustomKeyStore", requestID: context.requestID) }
        return ServiceStore.Change([.updateCustomKeyStore(updated)], (), ifExists: input.newName.map(Self.nameInUse))
    }
}
