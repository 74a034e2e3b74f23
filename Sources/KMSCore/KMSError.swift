/// An error the service reports to its caller, named as AWS KMS names it.
///
/// `message` is built by SwiftKMS itself and never contains secrets (key material,
/// plaintext, data keys, credentials). Every kind of bad ciphertext maps to one
/// `invalidCiphertext` error with one message, so that errors are no decryption oracle.
public struct KMSError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case accessDenied = "AccessDeniedException"
        case alreadyExists = "AlreadyExistsException"
        case cloudHsmClusterInUse = "CloudHsmClusterInUseException"
        case cloudHsmClusterNotFound = "CloudHsmClusterNotFoundException"
        case cloudHsmClusterNotRelated = "CloudHsmClusterNotRelatedException"
        case customKeyStoreHasCMKs = "CustomKeyStoreHasCMKsException"
        case customKeyStoreInvalidState = "CustomKeyStoreInvalidStateException"
        case customKeyStoreNameInUse = "CustomKeyStoreNameInUseException"
        case customKeyStoreNotFound = "CustomKeyStoreNotFoundException"
        case incorrectTrustAnchor = "IncorrectTrustAnchorException"
        case dependencyTimeout = "DependencyTimeoutException"
        case disabled = "DisabledException"
        case dryRunOperation = "DryRunOperationException"
        case incompleteSignature = "IncompleteSignatureException"
        case expiredImportToken = "ExpiredImportTokenException"
        case incorrectKey = "IncorrectKeyException"
        case incorrectKeyMaterial = "IncorrectKeyMaterialException"
        case internalFailure = "KMSInternalException"
        case invalidAliasName = "InvalidAliasNameException"
        case invalidArn = "InvalidArnException"
        case invalidCiphertext = "InvalidCiphertextException"
        case invalidGrantID = "InvalidGrantIdException"
        case invalidGrantToken = "InvalidGrantTokenException"
        case invalidImportToken = "InvalidImportTokenException"
        case invalidKeyUsage = "InvalidKeyUsageException"
        case invalidMac = "KMSInvalidMacException"
        case invalidMarker = "InvalidMarkerException"
        // CloudTrail's, for LookupEvents.
        case invalidEventCategory = "InvalidEventCategoryException"
        case invalidLookupAttributes = "InvalidLookupAttributesException"
        case invalidMaxResults = "InvalidMaxResultsException"
        case invalidNextToken = "InvalidNextTokenException"
        case invalidTimeRange = "InvalidTimeRangeException"
        /// A signature Verify finds wrong (unlike SigV4's `InvalidSignatureException`).
        case kmsInvalidSignature = "KMSInvalidSignatureException"
        case invalidSignature = "InvalidSignatureException"
        case invalidState = "KMSInvalidStateException"
        case keyUnavailable = "KeyUnavailableException"
        case limitExceeded = "LimitExceededException"
        case malformedPolicyDocument = "MalformedPolicyDocumentException"
        case missingAuthenticationToken = "MissingAuthenticationTokenException"
        case notFound = "NotFoundException"
        case serialization = "SerializationException"
        case tag = "TagException"
        case throttling = "ThrottlingException"
        case unknownOperation = "UnknownOperationException"
        case unrecognizedClient = "UnrecognizedClientException"
        case unsupportedOperation = "UnsupportedOperationException"
        case validation = "ValidationException"
        case xksKeyAlreadyInUse = "XksKeyAlreadyInUseException"
        case xksKeyInvalidConfiguration = "XksKeyInvalidConfigurationException"
        case xksKeyNotFound = "XksKeyNotFoundException"
        case xksProxyIncorrectAuthenticationCredential = "XksProxyIncorrectAuthenticationCredentialException"
        case xksProxyInvalidConfiguration = "XksProxyInvalidConfigurationException"
        case xksProxyInvalidResponse = "XksProxyInvalidResponseException"
        case xksProxyUriInUse = "XksProxyUriInUseException"
        case xksProxyUriUnreachable = "XksProxyUriUnreachableException"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The one error for every kind of unusable ciphertext: malformed, tampered with,
    /// wrong encryption context, unknown key or material version.
    public static let invalidCiphertext = KMSError(.invalidCiphertext, "")

    public static func validation(_ message: String) -> KMSError { KMSError(.validation, message) }
    public static func notFound(_ message: String) -> KMSError { KMSError(.notFound, message) }
    public static func keyNotFound(_ arn: String) -> KMSError { KMSError(.notFound, "Key '\(arn)' does not exist") }
    public static func aliasNotFound(_ arn: String) -> KMSError { KMSError(.notFound, "Alias \(arn) is not found.") }
    public static func invalidState(_ message: String) -> KMSError { KMSError(.invalidState, message) }
    /// An encryption, signing, MAC or key agreement algorithm the key's spec does not have.
    public static func incompatibleAlgorithm(_ algorithm: String, _ spec: KeySpec) -> KMSError {
        KMSError(.invalidKeyUsage, "Algorithm \(algorithm) is incompatible with key spec \(spec.rawValue).")
    }
    public static func internalFailure() -> KMSError {
        KMSError(.internalFailure, "The request was rejected because an internal exception occurred. The request can be retried.")
    }
}
