import Foundation
import KMSService

extension OperationHandler {
    struct EnableKeyRotationRequest: Decodable {
        var keyId: String
        var rotationPeriodInDays: Int?
    }

    static let enableKeyRotation = OperationHandler { (r: EnableKeyRotationRequest, service, context) throws(KMSError) in
        try await service.enableKeyRotation(keyID: r.keyId, rotationPeriodInDays: r.rotationPeriodInDays, context)
        return NoOutput()
    }

    static let disableKeyRotation = OperationHandler { (r: KeyIdRequest, service, context) throws(KMSError) in
        try await service.disableKeyRotation(keyID: r.keyId, context)
        return NoOutput()
    }

    struct GetKeyRotationStatusResponse: Encodable {
        var keyRotationEnabled: Bool
        var keyId: String
        var rotationPeriodInDays: Int?
        var nextRotationDate: Date?
    }

    static let getKeyRotationStatus = OperationHandler { (r: KeyIdRequest, service, context) throws(KMSError) in
        let status = try await service.getKeyRotationStatus(keyID: r.keyId, context)
        return GetKeyRotationStatusResponse(
            keyRotationEnabled: status.enabled, keyId: status.keyARN,
            rotationPeriodInDays: status.periodInDays, nextRotationDate: status.nextRotationDate)
    }

    struct KeyIdResponse: Encodable {
        var keyId: String
    }

    static let rotateKeyOnDemand = OperationHandler { (r: KeyIdRequest, service, context) throws(KMSError) in
        KeyIdResponse(keyId: try await service.rotateKeyOnDemand(keyID: r.keyId, context))
    }

    struct ListKeyRotationsRequest: Decodable {
        var keyId: String
        var includeKeyMaterial: String?
        var limit: Int?
        var marker: String?
    }

    struct RotationsListEntry: Encodable {
        var keyId: String
        var keyMaterialId: String
        var keyMaterialState: String
        var rotationDate: Date?
        var rotationType: String?
        var importState: String?
        var expirationModel: ExpirationModel?
        var validTo: Date?
        var keyMaterialDescription: String?
    }

    struct ListKeyRotationsResponse: Encodable {
        var rotations: [RotationsListEntry]
        var nextMarker: String?
        var truncated: Bool
    }

    static let listKeyRotations = OperationHandler { (r: ListKeyRotationsRequest, service, context) throws(KMSError) in
        let page = try await service.listKeyRotations(
            keyID: r.keyId, includeAllMaterial: r.includeKeyMaterial == "ALL_KEY_MATERIAL",
            limit: r.limit, marker: r.marker, context)
        return ListKeyRotationsResponse(
            rotations: page.entries.map {
                RotationsListEntry(
                    keyId: $0.keyID, keyMaterialId: $0.materialID, keyMaterialState: $0.materialState,
                    rotationDate: $0.rotationDate, rotationType: $0.rotationType?.rawValue, importState: $0.importState,
                    expirationModel: $0.expirationModel, validTo: $0.validTo, keyMaterialDescription: $0.description)
            },
            nextMarker: page.nextMarker, truncated: page.nextMarker != nil)
    }
}
