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
        /// Whether any `XksProxy*` member was given.
        public var namesXksProxy: Bool

        public init(
            name: String, type: CustomKeyStoreType?, cloudHSMClusterID: String?, trustAnchorCertificate: String?, keyStorePassword: String?,
            namesXksProxy: Bool
        ) {
            self.name = name
            self.type = type
            self.cloudHSMClusterID = cloudHSMClusterID
            self.trustAnchorCertificate = trustAnchorCertificate
            self.keyStorePassword = keyStorePassword
            self.namesXksProxy = namesXksProxy
        }
    }

    /// Creates a CloudHSM key store, DISCONNECTED, over a registered HSM token (`HSMCluster`)
    /// whose trust anchor certificate the caller must present. The password is checked only when
    /// the store connects (as at AWS). Returns the new store's ID.
    public func createCustomKeyStore(_ input: CreateCustomKeyStoreInput, _ context: RequestContext) async throws(KMSError) -> String {
        try await authorizeAccountAction(context, AccessRequest(.createCustomKeyStore))
        let type = input.type ?? .cloudHSM
        guard type == .cloudHSM else {
            throw KMSError(.unsupportedOperation, "Custom key stores of type EXTERNAL_KEY_STORE are not supported by this server yet.")
        }
        if input.namesXksProxy {
            throw KMSError.validation("XksProxy parameters are valid only for custom key stores of type EXTERNAL_KEY_STORE.")
        }
        guard let clusterID = input.cloudHSMClusterID, let anchor = input.trustAnchorCertificate, let password = input.keyStorePassword else {
            throw KMSError.validation(
                "CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are required for a custom key store of type AWS_CLOUDHSM.")
        }
        guard let cluster = try await store.hsmCluster(id: clusterID) else {
            throw KMSError(.cloudHsmClusterNotFound, "CloudHSM cluster '\(clusterID)' does not exist.")
        }
        let existing = try await store.customKeyStores(account: context.account, region: context.region)
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

    static func nameInUse(_ name: String) -> KMSError {
        KMSError(.customKeyStoreNameInUse, "A custom key store named '\(name)' already exists in this account and region.")
    }
}
