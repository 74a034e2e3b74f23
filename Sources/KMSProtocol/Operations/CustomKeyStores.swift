import Foundation
import KMSService

/// The six custom key store operations on the wire.
extension OperationHandler {
    struct CustomKeyStoreIdRequest: Decodable {
        var customKeyStoreId: String
    }

    struct XksProxyAuthenticationCredential: Decodable {
        var accessKeyId: String
        var rawSecretAccessKey: String
    }

    /// Create and Update requests' members of external key stores.
    protocol XksProxyMembers {
        var xksProxyUriEndpoint: String? { get }
        var xksProxyUriPath: String? { get }
        var xksProxyVpcEndpointServiceName: String? { get }
        var xksProxyVpcEndpointServiceOwner: String? { get }
        var xksProxyAuthenticationCredential: XksProxyAuthenticationCredential? { get }
        var xksProxyConnectivity: String? { get }
    }

    struct CreateCustomKeyStoreRequest: Decodable, XksProxyMembers {
        var customKeyStoreName: String
        var customKeyStoreType: CustomKeyStoreType?
        var cloudHsmClusterId: String?
        var trustAnchorCertificate: String?
        var keyStorePassword: String?
        var xksProxyUriEndpoint: String?
        var xksProxyUriPath: String?
        var xksProxyVpcEndpointServiceName: String?
        var xksProxyVpcEndpointServiceOwner: String?
        var xksProxyAuthenticationCredential: XksProxyAuthenticationCredential?
        var xksProxyConnectivity: String?
    }

    struct CreateCustomKeyStoreResponse: Encodable {
        var customKeyStoreId: String
    }

    static let createCustomKeyStore = OperationHandler { (r: CreateCustomKeyStoreRequest, service, context) throws(KMSError) in
        CreateCustomKeyStoreResponse(
            customKeyStoreId: try await service.createCustomKeyStore(
                .init(
                    name: r.customKeyStoreName, type: r.customKeyStoreType, cloudHSMClusterID: r.cloudHsmClusterId,
                    trustAnchorCertificate: r.trustAnchorCertificate, keyStorePassword: r.keyStorePassword, xksProxy: r.xksProxyInput),
                context))
    }

    static let connectCustomKeyStore = OperationHandler { (r: CustomKeyStoreIdRequest, service, context) throws(KMSError) in
        try await service.connectCustomKeyStore(id: r.customKeyStoreId, context)
        return NoOutput()
    }

    static let disconnectCustomKeyStore = OperationHandler { (r: CustomKeyStoreIdRequest, service, context) throws(KMSError) in
        try await service.disconnectCustomKeyStore(id: r.customKeyStoreId, context)
        return NoOutput()
    }

    static let deleteCustomKeyStore = OperationHandler { (r: CustomKeyStoreIdRequest, service, context) throws(KMSError) in
        try await service.deleteCustomKeyStore(id: r.customKeyStoreId, context)
        return NoOutput()
    }

    struct UpdateCustomKeyStoreRequest: Decodable, XksProxyMembers {
        var customKeyStoreId: String
        var newCustomKeyStoreName: String?
        var keyStorePassword: String?
        var cloudHsmClusterId: String?
        var xksProxyUriEndpoint: String?
        var xksProxyUriPath: String?
        var xksProxyVpcEndpointServiceName: String?
        var xksProxyVpcEndpointServiceOwner: String?
        var xksProxyAuthenticationCredential: XksProxyAuthenticationCredential?
        var xksProxyConnectivity: String?
    }

    static let updateCustomKeyStore = OperationHandler { (r: UpdateCustomKeyStoreRequest, service, context) throws(KMSError) in
        try await service.updateCustomKeyStore(
            .init(
                id: r.customKeyStoreId, newName: r.newCustomKeyStoreName, keyStorePassword: r.keyStorePassword,
                cloudHSMClusterID: r.cloudHsmClusterId, xksProxy: r.xksProxyInput),
            context)
        return NoOutput()
    }

    struct DescribeCustomKeyStoresRequest: Decodable {
        var customKeyStoreId: String?
        var customKeyStoreName: String?
        var limit: Int?
        var marker: String?
    }

    /// `CustomKeyStoresListEntry`: never the password.
    struct CustomKeyStoresListEntry: Encodable {
        var customKeyStoreId: String
        var customKeyStoreName: String
        var customKeyStoreType: String
        var cloudHsmClusterId: String?
        var trustAnchorCertificate: String?
        var connectionState: String
        var connectionErrorCode: String?
        var creationDate: Date
        var xksProxyConfiguration: XksProxyConfiguration?

        /// `XksProxyConfigurationType`: never the secret access key.
        struct XksProxyConfiguration: Encodable {
            var connectivity: String
            var accessKeyId: String
            var uriEndpoint: String
            var uriPath: String
        }

        init(_ store: CustomKeyStore) {
            xksProxyConfiguration = store.xksProxy.map {
                XksProxyConfiguration(connectivity: $0.connectivity, accessKeyId: $0.accessKeyID, uriEndpoint: $0.uriEndpoint, uriPath: $0.uriPath)
            }
            customKeyStoreId = store.id
            customKeyStoreName = store.name
            customKeyStoreType = store.type.rawValue
            cloudHsmClusterId = store.cloudHSMClusterID
            trustAnchorCertificate = store.trustAnchorCertificate
            connectionState = store.connectionState.rawValue
            connectionErrorCode = store.connectionErrorCode?.rawValue
            creationDate = store.creationDate
        }
    }

    struct DescribeCustomKeyStoresResponse: Encodable {
        var customKeyStores: [CustomKeyStoresListEntry]
        var nextMarker: String?
        var truncated: Bool
    }

    static let describeCustomKeyStores = OperationHandler { (r: DescribeCustomKeyStoresRequest, service, context) throws(KMSError) in
        let page = try await service.describeCustomKeyStores(
            id: r.customKeyStoreId, name: r.customKeyStoreName, limit: r.limit, marker: r.marker, context)
        return DescribeCustomKeyStoresResponse(
            customKeyStores: page.stores.map(CustomKeyStoresListEntry.init), nextMarker: page.nextMarker, truncated: page.nextMarker != nil)
    }
}

extension OperationHandler.XksProxyMembers {
    /// The `XksProxy*` members, all nil when none was given.
    var xksProxyInput: KeyManagementService.XKSProxyInput {
        .init(
            uriEndpoint: xksProxyUriEndpoint, uriPath: xksProxyUriPath, connectivity: xksProxyConnectivity,
            accessKeyID: xksProxyAuthenticationCredential?.accessKeyId, secretAccessKey: xksProxyAuthenticationCredential?.rawSecretAccessKey,
            namesVPCEndpointService: xksProxyVpcEndpointServiceName != nil || xksProxyVpcEndpointServiceOwner != nil)
    }
}
