import Crypto
import Foundation

/// The messages of AWS's External Key Store (XKS) Proxy API, version 1 (`../shared/spec/xks/`),
/// as SwiftKMS sends them to a proxy and as `swiftkms xks-proxy` answers them. JSON over HTTPS,
/// binary fields in standard Base64; member names as the specification spells them.
public enum XKS {
    /// The SigV4 service name of every request to a proxy.
    public static let signingService = "kms-xks-proxy"
    /// The one encryption algorithm of version 1.
    public static let aesGCM = "AES_GCM"
    /// The one CDIV algorithm of version 1.
    public static let sha256 = "SHA_256"
    /// Largest `ciphertextMetadata` a proxy may return, in bytes.
    public static let maximumCiphertextMetadata = 20

    /// What KMS tells the proxy about the request behind a call: who asked, for which key, in
    /// which KMS operation. Optional members are omitted when nil.
    public struct RequestMetadata: Codable, Sendable, Equatable {
        public var awsPrincipalArn: String?
        public var awsSourceVpc: String?
        public var awsSourceVpce: String?
        public var kmsKeyArn: String?
        public var kmsOperation: String?
        public var kmsRequestId: String?
        public var kmsViaService: String?

        public init(
            awsPrincipalArn: String? = nil, kmsKeyArn: String? = nil, kmsOperation: String, kmsRequestId: String, kmsViaService: String? = nil
        ) {
            self.awsPrincipalArn = awsPrincipalArn
            self.kmsKeyArn = kmsKeyArn
            self.kmsOperation = kmsOperation
            self.kmsRequestId = kmsRequestId
            self.kmsViaService = kmsViaService
        }
    }

    /// GetHealthStatus and GetKeyMetadata: the metadata only.
    public struct MetadataOnlyRequest: Codable, Sendable {
        public var requestMetadata: RequestMetadata?
        public init(requestMetadata: RequestMetadata) { self.requestMetadata = requestMetadata }
    }

    public struct EncryptRequest: Codable, Sendable {
        public var requestMetadata: RequestMetadata?
        public var plaintext: String?
        public var encryptionAlgorithm: String?
        public var additionalAuthenticatedData: String?
        public var ciphertextDataIntegrityValueAlgorithm: String?

        public init(requestMetadata: RequestMetadata, plaintext: [UInt8], additionalAuthenticatedData: [UInt8]?) {
            self.requestMetadata = requestMetadata
            self.plaintext = Data(plaintext).base64EncodedString()
            encryptionAlgorithm = XKS.aesGCM
            self.additionalAuthenticatedData = additionalAuthenticatedData.map { Data($0).base64EncodedString() }
            ciphertextDataIntegrityValueAlgorithm = XKS.sha256
        }
    }

    public struct EncryptResponse: Codable, Sendable {
        public var ciphertext: String?
        public var ciphertextMetadata: String?
        public var initializationVector: String?
        public var authenticationTag: String?
        public var ciphertextDataIntegrityValue: String?

        public init(
            ciphertext: [UInt8], ciphertextMetadata: [UInt8]?, initializationVector: [UInt8], authenticationTag: [UInt8],
            ciphertextDataIntegrityValue: [UInt8]?
        ) {
            self.ciphertext = Data(ciphertext).base64EncodedString()
            self.ciphertextMetadata = ciphertextMetadata.map { Data($0).base64EncodedString() }
            self.initializationVector = Data(initializationVector).base64EncodedString()
            self.authenticationTag = Data(authenticationTag).base64EncodedString()
            self.ciphertextDataIntegrityValue = ciphertextDataIntegrityValue.map { Data($0).base64EncodedString() }
        }
    }

    public struct DecryptRequest: Codable, Sendable {
        public var requestMetadata: RequestMetadata?
        public var ciphertext: String?
        public var ciphertextMetadata: String?
        public var encryptionAlgorithm: String?
        public var additionalAuthenticatedData: String?
        public var initializationVector: String?
        public var authenticationTag: String?

        public init(
            requestMetadata: RequestMetadata, ciphertext: [UInt8], ciphertextMetadata: [UInt8]?, additionalAuthenticatedData: [UInt8]?,
            initializationVector: [UInt8], authenticationTag: [UInt8]
        ) {
            self.requestMetadata = requestMetadata
            self.ciphertext = Data(ciphertext).base64EncodedString()
            self.ciphertextMetadata = ciphertextMetadata.map { Data($0).base64EncodedString() }
            encryptionAlgorithm = XKS.aesGCM
            self.additionalAuthenticatedData = additionalAuthenticatedData.map { Data($0).base64EncodedString() }
            self.initializationVector = Data(initializationVector).base64EncodedString()
            self.authenticationTag = Data(authenticationTag).base64EncodedString()
        }
    }

    public struct DecryptResponse: Codable, Sendable {
        public var plaintext: String?
        public init(plaintext: [UInt8]) { self.plaintext = Data(plaintext).base64EncodedString() }
    }

    public struct KeyMetadataResponse: Codable, Sendable {
        public var keySpec: String?
        public var keyUsage: [String]?
        public var keyStatus: String?
        public init(keySpec: String, keyUsage: [String], keyStatus: String) {
            self.keySpec = keySpec
            self.keyUsage = keyUsage
            self.keyStatus = keyStatus
        }
    }

    public struct HealthResponse: Codable, Sendable {
        public struct EKM: Codable, Sendable {
            public var id: String?
            public var model: String?
            /// ACTIVE, DEGRADED or UNAVAILABLE.
            public var healthStatus: String?
            public init(id: String, model: String, healthStatus: String) {
                self.id = id
                self.model = model
                self.healthStatus = healthStatus
            }
        }
        public var xksProxyFleetSize: Int?
        public var xksProxyVendor: String?
        public var xksProxyModel: String?
        public var ekmVendor: String?
        public var ekmFleetDetails: [EKM]?
        public init(xksProxyFleetSize: Int, xksProxyVendor: String, xksProxyModel: String, ekmVendor: String, ekmFleetDetails: [EKM]) {
            self.xksProxyFleetSize = xksProxyFleetSize
            self.xksProxyVendor = xksProxyVendor
            self.xksProxyModel = xksProxyModel
            self.ekmVendor = ekmVendor
            self.ekmFleetDetails = ekmFleetDetails
        }
    }

    /// A proxy's error body: `errorName` is one of `ErrorName`; `errorMessage` (optional) is
    /// printable ASCII, under 512 characters.
    public struct ErrorResponse: Codable, Sendable {
        public var errorName: String?
        public var errorMessage: String?
        public init(errorName: String, errorMessage: String?) {
            self.errorName = errorName
            self.errorMessage = errorMessage
        }
    }

    /// The error names of the specification's table, with their HTTP status.
    public enum ErrorName: String, Sendable, CaseIterable {
        case validation = "ValidationException"
        case invalidState = "InvalidStateException"
        case invalidCiphertext = "InvalidCiphertextException"
        case invalidKeyUsage = "InvalidKeyUsageException"
        case authenticationFailed = "AuthenticationFailedException"
        case accessDenied = "AccessDeniedException"
        case keyNotFound = "KeyNotFoundException"
        case invalidURIPath = "InvalidUriPathException"
        case throttling = "ThrottlingException"
        case unsupportedOperation = "UnsupportedOperationException"
        case dependencyTimeout = "DependencyTimeoutException"
        case internalFailure = "InternalException"

        public var httpStatus: Int {
            switch self {
            case .validation, .invalidState, .invalidCiphertext, .invalidKeyUsage: 400
            case .authenticationFailed: 401
            case .accessDenied: 403
            case .keyNotFound, .invalidURIPath: 404
            case .throttling: 429
            case .unsupportedOperation: 501
            case .dependencyTimeout: 503
            case .internalFailure: 500
            }
        }
    }

    /// The Ciphertext Data Integrity Value (Appendix C): SHA-256 over the AAD of the request and
    /// the ciphertext metadata, IV, ciphertext and tag of the response, concatenated.
    public static func ciphertextDataIntegrityValue(
        aad: [UInt8], ciphertextMetadata: [UInt8], iv: [UInt8], ciphertext: [UInt8], tag: [UInt8]
    ) -> [UInt8] {
        var hash = SHA256()
        for part in [aad, ciphertextMetadata, iv, ciphertext, tag] { hash.update(data: part) }
        return Array(hash.finalize())
    }

    /// Whether `id` can name an external key: 1 to 128 letters, digits, `-`, `.` and `_`.
    public static func isValidExternalKeyID(_ id: Substring) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.isASCIIAlphanumeric(or: "-._")
    }
}

/// What an XKS proxy's Encrypt returns: IV (12 or 16 bytes), up to 20 bytes of ciphertext
/// metadata, the 16-byte tag and the ciphertext (as long as the plaintext).
public struct XKSSealed: Sendable, Equatable {
    public var iv: [UInt8]
    public var ciphertextMetadata: [UInt8]
    public var tag: [UInt8]
    public var ciphertext: [UInt8]

    public init(iv: [UInt8], ciphertextMetadata: [UInt8], tag: [UInt8], ciphertext: [UInt8]) {
        self.iv = iv
        self.ciphertextMetadata = ciphertextMetadata
        self.tag = tag
        self.ciphertext = ciphertext
    }
}
