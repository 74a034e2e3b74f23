import Foundation
import KMSStorage

extension KeyManagementService {
    public struct CreateCustomKeyStoreInput: Sendable {
        public var name: String
        public var type: CustomKeyStoreType?
        public var cloudHSMClusterID: String?
        public var trustAnchorCertificate: String?
        /// The token user's PIN; sealed under the root key before it is stored.
        public var keyStorePassword: String?
        /// The `XksProxy*` members (external key stores).
        public var xksProxy: XKSProxyInput

        public init(
            name: String, type: CustomKeyStoreType?, cloudHSMClusterID: String?, trustAnchorCertificate: String?, keyStorePassword: String?,
            xksProxy: XKSProxyInput
        ) {
            self.name = name
            self.type = type
            self.cloudHSMClusterID = cloudHSMClusterID
            self.trustAnchorCertificate = trustAnchorCertificate
            self.keyStorePassword = keyStorePassword
            self.xksProxy = xksProxy
        }
    }

    /// The `XksProxy*` members of Create and UpdateCustomKeyStore; all nil when none was given.
    public struct XKSProxyInput: Sendable {
        public var uriEndpoint: String?
        public var uriPath: String?
        public var connectivity: String?
        public var accessKeyID: String?
        /// The raw secret access key: sealed under the root key before it is stored.
        public var secretAccessKey: String?
        /// Whether `XksProxyVpcEndpointServiceName` or `…Owner` was given.
        public var namesVPCEndpointService: Bool

        public init(
            uriEndpoint: String? = nil, uriPath: String? = nil, connectivity: String? = nil, accessKeyID: String? = nil,
            secretAccessKey: String? = nil, namesVPCEndpointService: Bool = false
        ) {
            self.uriEndpoint = uriEndpoint
            self.uriPath = uriPath
            self.connectivity = connectivity
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.namesVPCEndpointService = namesVPCEndpointService
        }

        var isEmpty: Bool {
            uriEndpoint == nil && uriPath == nil && connectivity == nil && accessKeyID == nil && secretAccessKey == nil && !namesVPCEndpointService
        }

        /// VPC endpoint services are AWS's network: a proxy here is reached at a public endpoint.
        func refuseVPCEndpointService() throws(KMSError) {
            if connectivity == "VPC_ENDPOINT_SERVICE" || namesVPCEndpointService {
                throw KMSError(
                    .unsupportedOperation,
                    "XksProxyConnectivity VPC_ENDPOINT_SERVICE has no meaning outside AWS: use PUBLIC_ENDPOINT with the proxy's https:// endpoint.")
            }
        }
    }

    /// Creates a custom key store, DISCONNECTED. A CloudHSM key store is over a registered HSM
    /// token (`HSMCluster`) whose trust anchor certificate the caller must present; its password
    /// is checked only when it connects (as at AWS). An external key store's proxy must answer
    /// GetHealthStatus now. Returns the new store's ID.
    public func createCustomKeyStore(_ input: CreateCustomKeyStoreInput, _ context: RequestContext) async throws(KMSError) -> String {
        try await authorizeAccountAction(context, AccessRequest(.createCustomKeyStore))
        let type = input.type ?? .cloudHSM
        if type == .external { return try await createExternalKeyStore(input, context) }
        if !input.xksProxy.isEmpty {
            throw KMSError.validation("XksProxy parameters are valid only for custom key stores of type EXTERNAL_KEY_STORE.")
        }
        guard let clusterID = input.cloudHSMClusterID, let anchor = input.trustAnchorCertificate, let password = input.keyStorePassword else {
            throw KMSError.validation(
                "CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are required for a custom key store of type AWS_CLOUDHSM.")
        }
        let existing = try await store.customKeyStores(account: context.account, region: context.region)
        try checkQuota(existing, context)
        guard let cluster = try await store.hsmCluster(id: clusterID) else {
            throw KMSError(.cloudHsmClusterNotFound, "CloudHSM cluster '\(clusterID)' does not exist.")
        }
        if existing.contains(where: { $0.name == input.name }) { throw Self.nameInUse(input.name) }
        if existing.contains(where: { $0.cloudHSMClusterID == clusterID }) {
            throw KMSError(.cloudHsmClusterInUse, "CloudHSM cluster '\(clusterID)' is already associated with a custom key store.")
        }
        guard HSMCluster.sameCertificate(anchor, cluster.trustAnchorCertificate) else {
            throw KMSError(.incorrectTrustAnchor, "The trust anchor certificate is not the one of CloudHSM cluster '\(clusterID)'.")
        }
        let id = CustomKeyStore.newID()
        let created = CustomKeyStore(
            id: id, account: context.account, region: context.region, name: input.name, type: .cloudHSM, creationDate: clock.now(),
            cloudHSMClusterID: clusterID, trustAnchorCertificate: anchor,
            sealedPassword: try rootKey.sealKeyStorePassword(password, storeID: id))
        context.audit.setResponseElements(["customKeyStoreId": .string(id)])
        try await store.commit([.insertCustomKeyStore(created)], recording: context, ifExists: Self.nameInUse(input.name))
        logger.info("custom key store created", metadata: ["customKeyStoreId": "\(id)", "requestId": "\(context.requestID)"])
        return id
    }

    private func createExternalKeyStore(_ input: CreateCustomKeyStoreInput, _ context: RequestContext) async throws(KMSError) -> String {
        if input.cloudHSMClusterID != nil || input.trustAnchorCertificate != nil || input.keyStorePassword != nil {
            throw KMSError.validation(
                "CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are valid only for custom key stores of type AWS_CLOUDHSM.")
        }
        let proxy = input.xksProxy
        try proxy.refuseVPCEndpointService()
        guard let endpoint = proxy.uriEndpoint, let path = proxy.uriPath, let accessKeyID = proxy.accessKeyID, let secret = proxy.secretAccessKey,
            let connectivity = proxy.connectivity
        else {
            throw KMSError.validation(
                "XksProxyConnectivity, XksProxyUriEndpoint, XksProxyUriPath and XksProxyAuthenticationCredential are required for a custom key store of type EXTERNAL_KEY_STORE."
            )
        }
        let existing = try await store.customKeyStores(account: context.account, region: context.region)
        try checkQuota(existing, context)
        if existing.contains(where: { $0.name == input.name }) { throw Self.nameInUse(input.name) }
        if existing.contains(where: { $0.xksProxy?.uriEndpoint == endpoint && $0.xksProxy?.uriPath == path }) { throw Self.proxyURIInUse() }
        let id = CustomKeyStore.newID()
        let settings = XKSProxySettings(uriEndpoint: endpoint, uriPath: path, connectivity: connectivity, accessKeyID: accessKeyID)
        let created = CustomKeyStore(
            id: id, account: context.account, region: context.region, name: input.name, type: .external, creationDate: clock.now(),
            xksProxy: settings, sealedPassword: try rootKey.sealKeyStorePassword(secret, storeID: id))
        try await checkProxy(try xksProxy(of: created), operation: "CreateCustomKeyStore", requestID: context.requestID)
        context.audit.setResponseElements(["customKeyStoreId": .string(id)])
        try await store.commit([.insertCustomKeyStore(created)], recording: context, ifExists: Self.nameInUse(input.name))
        logger.info("custom key store created", metadata: ["customKeyStoreId": "\(id)", "requestId": "\(context.requestID)"])
        return id
    }

    /// `LimitExceededException` when the account has its quota of stores in the region.
    private func checkQuota(_ existing: [CustomKeyStore], _ context: RequestContext) throws(KMSError) {
        guard existing.count < quotas.customKeyStoresPerRegion else {
            throw KMSError(
                .limitExceeded,
                "Account \(context.account) already has \(quotas.customKeyStoresPerRegion) custom key stores in \(context.region).")
        }
    }

    static func proxyURIInUse() -> KMSError {
        KMSError(
            .xksProxyUriInUse,
            "The concatenation of the XksProxyUriEndpoint and XksProxyUriPath is already associated with another external key store in this account and region."
        )
    }

    static func nameInUse(_ name: String) -> KMSError {
        KMSError(.customKeyStoreNameInUse, "A custom key store named '\(name)' already exists in this account and region.")
    }
}
