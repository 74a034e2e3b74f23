import Foundation

/// A custom key store: where the material of its keys lives (an HSM token reached through
/// PKCS#11, standing in for AWS's CloudHSM cluster), and whether the service is connected to it.
public struct CustomKeyStore: Sendable, Equatable {
    /// `cks-` and 17 hex digits, as AWS's.
    public var id: String
    public var account: String
    public var region: String
    /// Unique in the account and region (`CustomKeyStoreNameInUseException`).
    public var name: String
    public var type: CustomKeyStoreType
    public var creationDate: Date
    public var connectionState: ConnectionState
    /// Why the last connection failed; set only while `FAILED`.
    public var connectionErrorCode: ConnectionErrorCode?
    /// `AWS_CLOUDHSM`: the registered cluster (`HSMCluster`) and its trust anchor certificate.
    public var cloudHSMClusterID: String?
    public var trustAnchorCertificate: String?
    /// `EXTERNAL_KEY_STORE`: where its XKS proxy is, and the access key ID it signs with.
    public var xksProxy: XKSProxySettings?
    /// The `KeyStorePassword` (the token's user PIN) or the XKS proxy's secret access key, sealed under the root key and bound to the
    /// store's ID (`RootKey.sealKeyStorePassword`); never stored in the clear.
    public var sealedPassword: [UInt8]
    /// Incremented by every change; storage refuses a write based on a stale revision.
    public var revision: Int64

    public init(
        id: String, account: String, region: String, name: String, type: CustomKeyStoreType, creationDate: Date,
        connectionState: ConnectionState = .disconnected, connectionErrorCode: ConnectionErrorCode? = nil,
        cloudHSMClusterID: String? = nil, trustAnchorCertificate: String? = nil, xksProxy: XKSProxySettings? = nil, sealedPassword: [UInt8] = [],
        revision: Int64 = 0
    ) {
        self.xksProxy = xksProxy
        self.id = id
        self.account = account
        self.region = region
        self.name = name
        self.type = type
        self.creationDate = creationDate
        self.connectionState = connectionState
        self.connectionErrorCode = connectionErrorCode
        self.cloudHSMClusterID = cloudHSMClusterID
        self.trustAnchorCertificate = trustAnchorCertificate
        self.sealedPassword = sealedPassword
        self.revision = revision
    }

    /// A fresh ID: `cks-` and 17 random hex digits.
    public static func newID() -> String {
        "cks-" + String(Hex.encode(SecureRandom.bytes(9)).prefix(17))
    }
}

/// How an external key store reaches its XKS proxy: `uriEndpoint` + `uriPath` + `/health` or
/// `/keys/{XksKeyId}/…`, signed (SigV4, service `kms-xks-proxy`) with `accessKeyID` and the
/// store's sealed secret.
public struct XKSProxySettings: Sendable, Equatable {
    /// `https://` and a host name, with an optional port.
    public var uriEndpoint: String
    /// `/kms/xks/v1` or `/<prefix>/kms/xks/v1`.
    public var uriPath: String
    /// `PUBLIC_ENDPOINT` (the only connectivity that has a meaning here).
    public var connectivity: String
    public var accessKeyID: String

    public init(uriEndpoint: String, uriPath: String, connectivity: String, accessKeyID: String) {
        self.uriEndpoint = uriEndpoint
        self.uriPath = uriPath
        self.connectivity = connectivity
        self.accessKeyID = accessKeyID
    }
}

/// What stands for an AWS CloudHSM cluster here: a PKCS#11 token, registered by an
/// administrator (`swiftkms admin register-hsm-cluster`), which CloudHSM key stores name by ID.
public struct HSMCluster: Sendable, Equatable {
    /// `cluster-` and 11 characters of `[2-7a-z]`, as AWS's cluster IDs.
    public var id: String
    /// The PKCS#11 module (a shared library), as a path on every node.
    public var modulePath: String
    /// The label of the token in that module.
    public var tokenLabel: String
    /// The PEM certificate CreateCustomKeyStore must be given as `TrustAnchorCertificate`.
    public var trustAnchorCertificate: String
    public var creationDate: Date

    public init(id: String, modulePath: String, tokenLabel: String, trustAnchorCertificate: String, creationDate: Date) {
        self.id = id
        self.modulePath = modulePath
        self.tokenLabel = tokenLabel
        self.trustAnchorCertificate = trustAnchorCertificate
        self.creationDate = creationDate
    }

    /// A fresh ID: `cluster-` and 11 random characters of the base32 alphabet AWS's use.
    public static func newID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        return "cluster-" + String(SecureRandom.bytes(11).map { alphabet[Int($0 & 31)] })
    }

    /// Whether two PEM certificates are the same certificate (whitespace and line breaks aside).
    public static func sameCertificate(_ a: String, _ b: String) -> Bool {
        func normalized(_ pem: String) -> [UInt8] { Array(pem.utf8.filter { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }) }
        return ConstantTime.equals(normalized(a), normalized(b))
    }
}
