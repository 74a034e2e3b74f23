import Foundation
import KMSService

extension OperationHandler {
    struct GetParametersForImportRequest: Decodable {
        var keyId: String
        var wrappingAlgorithm: WrappingAlgorithmSpec
        var wrappingKeySpec: WrappingKeySpec
    }

    struct GetParametersForImportResponse: Encodable {
        var keyId: String
        var importToken: Data
        var publicKey: Data
        var parametersValidTo: Date
    }

    static let getParametersForImport = OperationHandler { (r: GetParametersForImportRequest, service, context) throws(KMSError) in
        let out = try await service.getParametersForImport(
            keyID: r.keyId, algorithm: r.wrappingAlgorithm, wrappingKeySpec: r.wrappingKeySpec, context)
        return GetParametersForImportResponse(
            keyId: out.keyARN, importToken: Data(out.importToken), publicKey: Data(out.publicKey),
            parametersValidTo: out.validTo)
    }

    struct ImportKeyMaterialRequest: Decodable {
        var keyId: String
        var importToken: Data
        var encryptedKeyMaterial: Data
        var validTo: Date?
        var expirationModel: ExpirationModel?
        var importType: ImportType?
        var keyMaterialDescription: String?
        var keyMaterialId: String?
    }

    struct ImportKeyMaterialResponse: Encodable {
        var keyId: String
        var keyMaterialId: String
    }

    static let importKeyMaterial = OperationHandler { (r: ImportKeyMaterialRequest, service, context) throws(KMSError) in
        let out = try await service.importKeyMaterial(
            .init(
                keyID: r.keyId, importToken: [UInt8](r.importToken), encryptedKeyMaterial: [UInt8](r.encryptedKeyMaterial), validTo: r.validTo,
                expirationModel: r.expirationModel, importType: r.importType, keyMaterialDescription: r.keyMaterialDescription,
                keyMaterialID: r.keyMaterialId), context)
        return ImportKeyMaterialResponse(keyId: out.keyARN, keyMaterialId: out.materialID)
    }

    struct DeleteImportedKeyMaterialRequest: Decodable {
        var keyId: String
        var keyMaterialId: String?
    }

    struct DeleteImportedKeyMaterialResponse: Encodable {
        var keyId: String
        var keyMaterialId: String?
    }

    static let deleteImportedKeyMaterial = OperationHandler { (r: DeleteImportedKeyMaterialRequest, service, context) throws(KMSError) in
        let out = try await service.deleteImportedKeyMaterial(keyID: r.keyId, materialID: r.keyMaterialId, context)
        return DeleteImportedKeyMaterialResponse(keyId: out.keyARN, keyMaterialId: out.materialID)
    }
}
