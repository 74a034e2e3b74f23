import Foundation
import KMSStorage

extension KeyManagementService {
    public struct ImportKeyMaterialInput: Sendable {
        public var keyID: String
        public var importToken: [UInt8]
        public var encryptedKeyMaterial: [UInt8]
        public var validTo: Date?
        public var expirationModel: String?
        public var importType: String?
        public var keyMaterialDescription: String?
        public var keyMaterialID: String?

        public init(keyID: String, importToken: [UInt8], encryptedKeyMaterial: [UInt8], validTo: Date? = nil, expirationModel: String? = nil,
                    importType: String? = nil, keyMaterialDescription: String? = nil, keyMaterialID: String? = nil) {
            self.keyID = keyID
            self.importToken = importToken
            self.encryptedKeyMaterial = encryptedKeyMaterial
            self.validTo = validTo
            self.expirationModel = expirationModel
            self.importType = importType
            self.keyMaterialDescription = keyMaterialDescription
            self.keyMaterialID = keyMaterialID
        }
    }

    /// Imports material into a key whose origin is `EXTERNAL` (`PendingImport` or `Enabled`),
    /// or reimports the same material (after it expired or was deleted, or to change its
    /// expiry). The key becomes `Enabled`.
    ///
    /// Errors: `InvalidImportTokenException` (not a token of this key),
    /// `ExpiredImportTokenException`, `InvalidCiphertextException` (does not unwrap with the
    /// token's key and algorithm), `IncorrectKeyMaterialException` (does not fit the key spec,
    /// or is not the material imported before).
    ///
    /// - Returns: the key ARN and the `KeyMaterialId`.
    public func importKeyMaterial(_ input: ImportKeyMaterialInput, _ context: RequestContext) async throws(KMSError) -> (keyARN: String, materialID: String) {
        let expirationModel = input.expirationModel ?? "KEY_MATERIAL_EXPIRES"
        let now = clock.now()
        switch (expirationModel, input.validTo) {
        case ("KEY_MATERIAL_EXPIRES", nil):
            throw KMSError.validation("ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES.")
        case ("KEY_MATERIAL_DOES_NOT_EXPIRE", .some):
            throw KMSError.validation("ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.")
        case (_, let validTo?) where validTo <= now || validTo > now + 365 * 86_400:
            throw KMSError.validation("ValidTo must be in the future and at most 365 days from now.")
        default: break
        }
        var conditions: [String: [String]] = ["kms:ExpirationModel": [expirationModel]]
        if let validTo = input.validTo { conditions["kms:ValidTo"] = [String(Int(validTo.timeIntervalSince1970))] }
        return try await updatingKey(input.keyID, context, action: "kms:ImportKeyMaterial") { key throws(KMSError) in
            try await authorize(context, AccessRequest("kms:ImportKeyMaterial", conditions: conditions), key: key)
            try requireImportable(key)
            guard key.state == .pendingImport || key.state == .enabled else {
                throw KMSError.invalidState("\(key.arn) is \(key.state.rawValue); material can be imported into a key that is PendingImport or Enabled.")
            }
            if input.importType != nil || input.keyMaterialID != nil, key.spec != .symmetricDefault {
                throw KMSError.validation("ImportType and KeyMaterialId are only valid with symmetric encryption keys.")
            }
            let material = try await unwrapImported(input, for: key, now: now)
            let materialID = rootKey.importedMaterialID(keyID: key.id, material: material)
            let validated = try ImportedKeyMaterial.validated(material, for: key.spec)
            let current = key.currentMaterialVersion == 0 ? nil
                : try await storeCall { () throws(StoreError) in try await store.keyMaterial(keyID: key.id, region: key.region, version: key.currentMaterialVersion) }
            let importType = input.importType ?? (current == nil ? "NEW_KEY_MATERIAL" : "EXISTING_KEY_MATERIAL")
            var updated = key
            updated.state = key.state == .pendingImport ? .enabled : key.state
            updated.materialValidTo = input.validTo
            var mutations: [Mutation]
            switch (importType, current) {
            case ("NEW_KEY_MATERIAL", nil):
                guard input.keyMaterialID == nil else { throw KMSError.validation("KeyMaterialId cannot be given with ImportType NEW_KEY_MATERIAL.") }
                updated.currentMaterialVersion = 1
                let wrapped = try rootKey.wrapKeyMaterial(validated, keyARN: key.arn, version: 1)
                mutations = [.insertKeyMaterial(KeyMaterialRecord(keyID: key.id, region: key.region, version: 1, wrapped: wrapped, creationDate: now,
                                                                  materialID: materialID, description: input.keyMaterialDescription))]
            case ("NEW_KEY_MATERIAL", .some):
                throw KMSError(.unsupportedOperation, "Importing new key material into \(key.arn) for on-demand rotation is not supported by this server yet.")
            case (_, nil):
                throw KMSError(.incorrectKeyMaterial, "No key material has been imported into \(key.arn) yet; import it with ImportType NEW_KEY_MATERIAL.")
            case (_, var record?):
                // The same material again: its ID (a MAC of key ID and material) must match.
                guard rootKey.isImportedMaterialID(record.materialID, keyID: key.id, material: material),
                      input.keyMaterialID.map({ rootKey.isImportedMaterialID($0, keyID: key.id, material: material) }) ?? true
                else { throw KMSError(.incorrectKeyMaterial, "The key material is not the key material previously imported into \(key.arn).") }
                record.wrapped = try rootKey.wrapKeyMaterial(validated, keyARN: key.arn, version: record.version)
                if let description = input.keyMaterialDescription { record.description = description }
                mutations = [.replaceKeyMaterial(record)]
            }
            context.audit.setResponseElements(["keyId": .string(key.arn), "keyMaterialId": .string(materialID)])
            return ([.updateKey(updated)] + mutations, (key.arn, materialID))
        }
    }

    /// The plaintext material of an import; token and ciphertext checked as AWS checks them.
    private func unwrapImported(_ input: ImportKeyMaterialInput, for key: KMSKey, now: Date) async throws(KMSError) -> [UInt8] {
        let invalidToken = KMSError(.invalidImportToken, "The import token is invalid for \(key.arn).")
        guard let id = Self.importParametersID(input.importToken),
              let parameters = try await storeCall({ () throws(StoreError) in try await store.importParameters(id: id) }),
              parameters.keyID == key.id, parameters.region == key.region
        else { throw invalidToken }
        guard parameters.validTo > now else {
            throw KMSError(.expiredImportToken, "The import token expired at \(AuditTime.iso8601(parameters.validTo)); get new parameters with GetParametersForImport.")
        }
        let wrappingKey = try rootKey.unwrapKeyMaterial(parameters.wrappedPrivateKey, as: AsymmetricKeyMaterial.self,
                                                        keyARN: parameters.wrappingBinding, version: 0)
        guard let material = ImportedKeyMaterial.unwrap(input.encryptedKeyMaterial, with: wrappingKey, algorithm: parameters.algorithm) else {
            throw KMSError.invalidCiphertext
        }
        return material
    }
}
