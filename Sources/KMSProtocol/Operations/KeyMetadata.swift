import Foundation
import KMSService

/// `KeyMetadata` as DescribeKey, CreateKey and others return it.
struct KeyMetadata: Encodable {
    var awsAccountId: String
    var keyId: String
    var arn: String
    var creationDate: Date
    var enabled: Bool
    var description: String
    var keyUsage: String
    var keyState: String
    var deletionDate: Date?
    var validTo: Date?
    var expirationModel: ExpirationModel?
    var pendingDeletionWindowInDays: Int?
    var origin: String
    var keyManager: String
    var customerMasterKeySpec: String
    var keySpec: String
    var encryptionAlgorithms: [String]?
    var signingAlgorithms: [String]?
    var keyAgreementAlgorithms: [String]?
    var macAlgorithms: [String]?
    var multiRegion: Bool
    var multiRegionConfiguration: WireMultiRegionConfiguration?
    var currentKeyMaterialId: String?
    var customKeyStoreId: String?
    var cloudHsmClusterId: String?
    var xksKeyConfiguration: XksKeyConfiguration?

    /// `XksKeyConfigurationType`: the external key's ID.
    struct XksKeyConfiguration: Encodable {
        var id: String
    }

    enum CodingKeys: String, CodingKey {
        case awsAccountId = "AWSAccountId"
        case keyId, arn, creationDate, enabled, description, keyUsage, keyState, deletionDate, validTo, expirationModel
        case pendingDeletionWindowInDays, origin, keyManager, customerMasterKeySpec, keySpec
        case encryptionAlgorithms, signingAlgorithms, keyAgreementAlgorithms, macAlgorithms, multiRegion, multiRegionConfiguration
        case currentKeyMaterialId, customKeyStoreId, cloudHsmClusterId, xksKeyConfiguration
    }

    /// - Parameter multiRegion: the key's configuration when it is a multi-Region key.
    init(
        _ key: KMSKey, multiRegion configuration: MultiRegionConfiguration? = nil, currentMaterialID: String? = nil,
        cloudHSMClusterID: String? = nil
    ) {
        awsAccountId = key.account
        keyId = key.id
        arn = key.arn
        creationDate = key.creationDate
        enabled = key.enabled
        description = key.description
        keyUsage = key.usage.rawValue
        keyState = key.displayedState.rawValue
        deletionDate = key.deletionDate
        pendingDeletionWindowInDays = key.pendingWindowInDays
        validTo = key.materialValidTo
        expirationModel = key.expirationModel
        origin = key.origin.rawValue
        keyManager = key.keyManager.rawValue
        customerMasterKeySpec = key.spec.rawValue
        keySpec = key.spec.rawValue
        encryptionAlgorithms = Self.names(key.encryptionAlgorithms)
        signingAlgorithms = Self.names(key.signingAlgorithms)
        keyAgreementAlgorithms = Self.names(key.keyAgreementAlgorithms)
        macAlgorithms = Self.names(key.macAlgorithms)
        multiRegion = key.isMultiRegion
        multiRegionConfiguration = configuration.map(WireMultiRegionConfiguration.init)
        currentKeyMaterialId = currentMaterialID
        customKeyStoreId = key.customKeyStoreID
        cloudHsmClusterId = cloudHSMClusterID
        xksKeyConfiguration = key.xksKeyID.map { XksKeyConfiguration(id: $0) }
    }

    /// The metadata of `key`, with its multi-Region configuration, current material's ID and
    /// custom key store's cluster.
    static func of(_ key: KMSKey, _ service: KeyManagementService) async throws(KMSError) -> KeyMetadata {
        KeyMetadata(
            key, multiRegion: try await service.multiRegionConfiguration(of: key), currentMaterialID: try await service.currentMaterialID(of: key),
            cloudHSMClusterID: try await service.cloudHSMClusterID(of: key))
    }

    /// An algorithm list as AWS returns it: absent rather than empty.
    static func names<A: RawRepresentable<String>>(_ algorithms: [A]) -> [String]? {
        algorithms.isEmpty ? nil : algorithms.map(\.rawValue)
    }
}

/// `MultiRegionConfiguration` on the wire.
struct WireMultiRegionConfiguration: Encodable {
    struct Member: Encodable {
        var arn: String
        var region: String
    }

    var multiRegionKeyType: String
    var primaryKey: Member
    var replicaKeys: [Member]

    init(_ configuration: MultiRegionConfiguration) {
        multiRegionKeyType = configuration.keyType
        primaryKey = Member(arn: configuration.primaryKey.arn, region: configuration.primaryKey.region)
        replicaKeys = configuration.replicaKeys.map { Member(arn: $0.arn, region: $0.region) }
    }
}

struct KeyMetadataResponse: Encodable {
    var keyMetadata: KeyMetadata
}

/// A `Tag` on the wire.
struct WireTag: Codable {
    var tagKey: String
    var tagValue: String

    init(_ tag: Tag) {
        tagKey = tag.key
        tagValue = tag.value
    }

    var tag: Tag { Tag(key: tagKey, value: tagValue) }
}
