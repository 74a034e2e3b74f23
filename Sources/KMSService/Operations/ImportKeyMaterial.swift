import Foundation
import KMSStorage

extension KeyManagementService {
    public struct ImportKeyMaterialInput: Sendable {
        public var keyID: String
        public var importToken: [UInt8]
        public var encryptedKeyMaterial: [UInt8]
        public var validTo: Date?
        public var expirationModel: ExpirationModel?
        public var importType: ImportType?
        public var keyMaterialDescription: String?
        public var keyMaterialID: String?

        public init(
            keyID: String, importToken: [UInt8], encryptedKeyMaterial: [UInt8], validTo: Date? = nil, expirationModel: ExpirationModel? = nil,
            importType: ImportType? = nil, keyMaterialDescription: String? = nil, keyMaterialID: String? = nil
        ) {
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
    /// or reimports material imported before (after it expired or was deleted, or to change
    /// its expiry). `NEW_KEY_MATERIAL` into a symmetric key that has material makes the next
    /// version, `PENDING_ROTATION` until RotateKeyOnDemand makes it current; a multi-Region
    /// primary's replicas then take the same material with `EXISTING_KEY_MATERIAL`. Importing
    /// the current material makes the key `Enabled`. The plaintext material is zeroed once wrapped.
    ///
    /// Errors: `InvalidImportTokenException` (not a token of this key),
    /// `ExpiredImportTokenException`, `InvalidCiphertextException` (does not unwrap with the
    /// token's key and algorithm), `IncorrectKeyMaterialException` (does not fit the key spec,
    /// or is not the material imported before).
    ///
    /// - Returns: the key ARN and the `KeyMaterialId`.
    public func importKeyMaterial(
        _ input: ImportKeyMaterialInput, _ context: RequestContext
    ) async throws(KMSError) -> (keyARN: String, materialID: String) {
        let expirationModel = input.expirationModel ?? .expires
        let now = clock.now()
        switch (expirationModel, input.validTo) {
        case (.expires, nil):
            throw KMSError.validation("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
        case (.doesNotExpire, .some):
            throw KMSError.validation("ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.")
        case (_, let validTo?) where validTo <= now || validTo > now + 365 * 86_400:
            throw KMSError.validation("ValidTo must be in the future and at most 365 days from now.")
        default: break
        }
        var conditions: [String: [String]] = ["kms:ExpirationModel": [expirationModel.rawValue]]
        if let validTo = input.validTo { conditions["kms:ValidTo"] = [String(Int(validTo.timeIntervalSince1970))] }
        return try await updatingKey(input.keyID, context, action: .importKeyMaterial) { key throws(KMSError) in
            try await authorize(context, AccessRequest(.importKeyMaterial, conditions: conditions), key: key)
            try requireImportable(key)
            try KeyLifecycle.check(.importKeyMaterial, on: key)
            if input.importType != nil || input.keyMaterialID != nil, key.spec != .symmetricDefault {
                throw KMSError.validation("ImportType and KeyMaterialId are only valid with symmetric encryption keys.")
            }
            var material = try await unwrapImported(input, for: key, now: now)
            defer { Zeroize.wipe(&material) }
            let materialID = rootKey.importedMaterialID(keyID: key.id, material: material)
            let validated = try ImportedKeyMaterial.validated(material, for: key.spec)
            let records = try await store.keyMaterials(keyID: key.id, region: key.region)
            let importType = input.importType ?? (key.currentMaterialVersion == 0 ? .newKeyMaterial : .existingKeyMaterial)
            var updated = key
            var mutations: [Mutation]
            // The same material again: its ID (a MAC of key ID and material) names the version.
            let same = records.first { rootKey.isImportedMaterialID($0.materialID, keyID: key.id, material: material) }
            switch (importType, key.currentMaterialVersion) {
            case (.newKeyMaterial, let current):
                guard input.keyMaterialID == nil else { throw KMSError.validation("KeyMaterialId cannot be given with ImportType NEW_KEY_MATERIAL.") }
                try requireNotReplica(key, operation: "ImportKeyMaterial with ImportType NEW_KEY_MATERIAL")
                guard same == nil else {
                    throw KMSError(
                        .incorrectKeyMaterial,
                        "This key material was imported into \(key.arn) before; import it with ImportType EXISTING_KEY_MATERIAL.")
                }
                // After the first: material for the next on-demand rotation (PENDING_ROTATION).
                guard !records.contains(where: { $0.version > current }) else {
                    throw KMSError.invalidState("\(key.arn) already has key material pending rotation; rotate to it with RotateKeyOnDemand first.")
                }
                let version = current + 1
                let wrapped = try rootKey.wrapKeyMaterial(validated, keyARN: key.arn, version: version)
                let record = KeyMaterialRecord(
                    keyID: key.id, region: key.region, version: version, wrapped: wrapped, creationDate: now,
                    materialID: materialID, description: input.keyMaterialDescription, validTo: input.validTo)
                mutations = [.insertKeyMaterial(record)]
                if current == 0 {
                    updated.currentMaterialVersion = version
                    updated.materialValidTo = input.validTo
                    updated.state = try KeyLifecycle.state(after: .currentMaterialImported, of: key)
                } else {
                    // Each replica takes the same material later (EXISTING_KEY_MATERIAL): it gets the version's ID now.
                    for replica in try await relatedKeys(of: key) {
                        var placeholder = record
                        placeholder.region = replica.region
                        placeholder.wrapped = []
                        mutations += [.updateKey(replica), .insertKeyMaterial(placeholder)]
                    }
                }
            case (_, 0):
                throw KMSError(
                    .incorrectKeyMaterial, "No key material has been imported into \(key.arn) yet; import it with ImportType NEW_KEY_MATERIAL.")
            default:
                guard var record = same,
                    input.keyMaterialID.map({ rootKey.isImportedMaterialID($0, keyID: key.id, material: material) }) ?? true
                else { throw KMSError(.incorrectKeyMaterial, "The key material is not the key material previously imported into \(key.arn).") }
                record.wrapped = try rootKey.wrapKeyMaterial(validated, keyARN: key.arn, version: record.version)
                record.validTo = input.validTo
                if let description = input.keyMaterialDescription { record.description = description }
                mutations = [.replaceKeyMaterial(record)]
                if record.version == key.currentMaterialVersion {
                    updated.materialValidTo = input.validTo
                    updated.state = try KeyLifecycle.state(after: .currentMaterialImported, of: key)
                }
            }
            context.audit.setResponseElements(["keyId": .string(key.arn), "keyMaterialId": .string(materialID)])
            return ([.updateKey(updated)] + mutations, (key.arn, materialID))
        }
    }

    /// The plaintext material of an import; token and ciphertext checked as AWS checks them.
    private func unwrapImported(_ input: ImportKeyMaterialInput, for key: KMSKey, now: Date) async throws(KMSError) -> [UInt8] {
        let invalidToken = KMSError(.invalidImportToken, "The import token is invalid for \(key.arn).")
        guard let id = Self.importParametersID(input.importToken),
            let parameters = try await store.importParameters(id: id),
            parameters.keyID == key.id, parameters.region == key.region
        else { throw invalidToken }
        guard parameters.validTo > now else {
            throw KMSError(
                .expiredImportToken,
                "The import token expired at \(AuditTime.iso8601(parameters.validTo)); get new parameters with GetParametersForImport.")
        }
        let wrappingKey = try rootKey.unwrapKeyMaterial(
            parameters.wrappedPrivateKey, as: AsymmetricKeyMaterial.self,
            keyARN: parameters.wrappingBinding, version: 0)
        guard let material = ImportedKeyMaterial.unwrap(input.encryptedKeyMaterial, with: wrappingKey, algorithm: parameters.algorithm) else {
            throw KMSError.invalidCiphertext
        }
        return material
    }
}
