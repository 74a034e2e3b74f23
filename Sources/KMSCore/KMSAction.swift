/// An action of the `kms` service, as key policies, identity policies, grants and audit
/// events name it (`kms:Encrypt`), and CloudTrail's LookupEvents, which this server answers too.
public enum KMSAction: String, Sendable, CaseIterable, CustomStringConvertible {
    case cancelKeyDeletion = "kms:CancelKeyDeletion"
    case connectCustomKeyStore = "kms:ConnectCustomKeyStore"
    case createAlias = "kms:CreateAlias"
    case createCustomKeyStore = "kms:CreateCustomKeyStore"
    case createGrant = "kms:CreateGrant"
    case createKey = "kms:CreateKey"
    case decrypt = "kms:Decrypt"
    case deleteAlias = "kms:DeleteAlias"
    case deleteCustomKeyStore = "kms:DeleteCustomKeyStore"
    case deleteImportedKeyMaterial = "kms:DeleteImportedKeyMaterial"
    case deriveSharedSecret = "kms:DeriveSharedSecret"
    case describeCustomKeyStores = "kms:DescribeCustomKeyStores"
    case describeKey = "kms:DescribeKey"
    case disableKey = "kms:DisableKey"
    case disableKeyRotation = "kms:DisableKeyRotation"
    case disconnectCustomKeyStore = "kms:DisconnectCustomKeyStore"
    case enableKey = "kms:EnableKey"
    case enableKeyRotation = "kms:EnableKeyRotation"
    case encrypt = "kms:Encrypt"
    case generateDataKey = "kms:GenerateDataKey"
    case generateDataKeyPair = "kms:GenerateDataKeyPair"
    case generateDataKeyPairWithoutPlaintext = "kms:GenerateDataKeyPairWithoutPlaintext"
    case generateDataKeyWithoutPlaintext = "kms:GenerateDataKeyWithoutPlaintext"
    case generateMac = "kms:GenerateMac"
    case generateRandom = "kms:GenerateRandom"
    case getKeyLastUsage = "kms:GetKeyLastUsage"
    case getKeyPolicy = "kms:GetKeyPolicy"
    case getKeyRotationStatus = "kms:GetKeyRotationStatus"
    case getParametersForImport = "kms:GetParametersForImport"
    case getPublicKey = "kms:GetPublicKey"
    case importKeyMaterial = "kms:ImportKeyMaterial"
    case listAliases = "kms:ListAliases"
    case listGrants = "kms:ListGrants"
    case listKeyPolicies = "kms:ListKeyPolicies"
    case listKeyRotations = "kms:ListKeyRotations"
    case listKeys = "kms:ListKeys"
    case listResourceTags = "kms:ListResourceTags"
    case listRetirableGrants = "kms:ListRetirableGrants"
    case putKeyPolicy = "kms:PutKeyPolicy"
    case reEncryptFrom = "kms:ReEncryptFrom"
    case reEncryptTo = "kms:ReEncryptTo"
    case replicateKey = "kms:ReplicateKey"
    case retireGrant = "kms:RetireGrant"
    case revokeGrant = "kms:RevokeGrant"
    case rotateKeyOnDemand = "kms:RotateKeyOnDemand"
    case scheduleKeyDeletion = "kms:ScheduleKeyDeletion"
    case sign = "kms:Sign"
    case tagResource = "kms:TagResource"
    case untagResource = "kms:UntagResource"
    case updateAlias = "kms:UpdateAlias"
    case updateCustomKeyStore = "kms:UpdateCustomKeyStore"
    case updateKeyDescription = "kms:UpdateKeyDescription"
    case updatePrimaryRegion = "kms:UpdatePrimaryRegion"
    case verify = "kms:Verify"
    case verifyMac = "kms:VerifyMac"
    /// CloudTrail's, for the audit trail's LookupEvents (on resource `*`).
    case lookupEvents = "cloudtrail:LookupEvents"

    /// The name without the service prefix (`Encrypt`), as error messages and grants spell it.
    public var name: String { String(rawValue.drop { $0 != ":" }.dropFirst()) }

    /// `kms:Encrypt`: messages and policies spell an action so.
    public var description: String { rawValue }

    /// The grant operation this action is, when a grant can allow it.
    public var grantOperation: GrantOperation? { GrantOperation(rawValue: name) }
}
