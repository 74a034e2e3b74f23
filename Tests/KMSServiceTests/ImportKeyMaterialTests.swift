import Foundation
import Testing

@testable import KMSCore
@testable import KMSService

/// Imported key material through the service, with an injected clock: the import token's
/// life, the material's expiry, deletion and reimport, and every error AWS names.
@Suite struct ImportKeyMaterialTests {
    /// Wraps `material` for `parameters` as a caller would (RSA-OAEP, or RSA-OAEP of a fresh
    /// AES key then AES key wrap with padding).
    static func wrap(
        _ material: [UInt8], _ parameters: KeyManagementService.ImportParametersOutput, _ algorithm: ImportWrappingAlgorithm
    ) throws -> [UInt8] {
        let publicKey = try #require(OpenSSLKeyPair.publicKey(spki: parameters.publicKey))
        let hash: HashAlgorithm = algorithm == .rsaesOAEPSHA1 || algorithm == .rsaAESKeyWrapSHA1 ? .sha1 : .sha256
        guard algorithm == .rsaAESKeyWrapSHA1 || algorithm == .rsaAESKeyWrapSHA256 else {
            return try publicKey.encryptOAEP(material, digest: hash.openSSL)
        }
        let aesKey = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return try publicKey.encryptOAEP(aesKey, digest: hash.openSSL) + (try #require(AESKeyWrap.wrapWithPadding(material, key: aesKey)))
    }

    func external(_ f: ServiceFixture, _ input: KeyManagementService.CreateKeyInput = .init(origin: .external)) async throws -> KMSKey {
        try await f.createKey(input)
    }

    func parameters(
        _ f: ServiceFixture, _ key: KMSKey, _ algorithm: ImportWrappingAlgorithm = .rsaesOAEPSHA256
    ) async throws -> KeyManagementService.ImportParametersOutput {
        try await f.service.getParametersForImport(
            keyID: key.id, algorithm: WrappingAlgorithmSpec(rawValue: algorithm.rawValue)!, wrappingKeySpec: .rsa2048, f.context)
    }

    func importMaterial(
        _ f: ServiceFixture, _ key: KMSKey, _ material: [UInt8], algorithm: ImportWrappingAlgorithm = .rsaesOAEPSHA256,
        validTo: Date? = nil
    ) async throws -> String {
        let p = try await parameters(f, key, algorithm)
        return try await f.service.importKeyMaterial(
            .init(
                keyID: key.id, importToken: p.importToken, encryptedKeyMaterial: try Self.wrap(material, p, algorithm), validTo: validTo,
                expirationModel: validTo == nil ? .doesNotExpire : nil), f.context
        ).materialID
    }

    @Test(arguments: [ImportWrappingAlgorithm.rsaesOAEPSHA1, .rsaesOAEPSHA256, .rsaAESKeyWrapSHA1, .rsaAESKeyWrapSHA256])
    func symmetricMaterialIsTheOneImported(_ algorithm: ImportWrappingAlgorithm) async throws {
        let f = try ServiceFixture()
        let key = try await external(f)
        #expect(key.state == .pendingImport)
        #expect(await errorCode { _ = try await f.encrypt(key.id) } == .invalidState)
        let material = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let id = try await importMaterial(f, key, material, algorithm: algorithm)
        #expect(id.count == 64)
        let blob = try await f.encrypt(key.id, "imported")
        // Opened with the imported bytes, outside the service.
        let opened = try SymmetricKeyMaterial(unsafeRawBytes: material).decrypt(
            try SymmetricCiphertext(parsing: [UInt8](blob)), context: EncryptionContext([:]))
        #expect(String(decoding: opened, as: UTF8.self) == "imported")
    }

    @Test func importTokensExpireAndBelongToTheirKey() async throws {
        let f = try ServiceFixture()
        let (a, b) = (try await external(f), try await external(f))
        let material = [UInt8](repeating: 7, count: 32)
        let p = try await parameters(f, a)
        let wrapped = try Self.wrap(material, p, .rsaesOAEPSHA256)
        func attempt(_ key: KMSKey, token: [UInt8], _ encrypted: [UInt8]) async -> KMSError.Code? {
            await errorCode {
                _ = try await f.service.importKeyMaterial(
                    .init(
                        keyID: key.id, importToken: token, encryptedKeyMaterial: encrypted,
                        expirationModel: .doesNotExpire), f.context)
            }
        }
        #expect(await attempt(b, token: p.importToken, wrapped) == .invalidImportToken)
        #expect(await attempt(a, token: Array("garbage".utf8), wrapped) == .invalidImportToken)
        #expect(await attempt(a, token: p.importToken, Array(wrapped.reversed())) == .invalidCiphertext)
        #expect(await attempt(a, token: p.importToken, try Self.wrap([1, 2, 3], p, .rsaesOAEPSHA256)) == .incorrectKeyMaterial)
        f.clock.advance(days: 1.01)
        #expect(await attempt(a, token: p.importToken, wrapped) == .expiredImportToken)
        #expect(try await f.service.store.key(id: a.id, region: a.region)?.state == .pendingImport)
    }

    @Test func expiredMaterialIsDeletedAndOnlyTheSameMaterialRestoresTheKey() async throws {
        let f = try ServiceFixture()
        let key = try await external(f)
        let material = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let id = try await importMaterial(f, key, material, validTo: f.clock.now() + 86_400)
        var described = try await f.service.describeKey(keyID: key.id, f.context)
        #expect(described.state == .enabled && described.expirationModel == .expires)
        let blob = try await f.encrypt(key.id, "kept")
        #expect(try await f.service.expireImportedKeyMaterial().isEmpty)
        f.clock.advance(days: 2)
        #expect(try await f.service.expireImportedKeyMaterial() == [key.id])
        described = try await f.service.describeKey(keyID: key.id, f.context)
        #expect(described.state == .pendingImport && described.materialValidTo == nil)
        #expect(await errorCode { _ = try await f.decrypt(blob) } == .invalidState)
        // Other material is refused; the same material restores the key and old ciphertexts.
        #expect(await errorCode { _ = try await importMaterial(f, key, [UInt8](repeating: 1, count: 32)) } == .incorrectKeyMaterial)
        #expect(try await importMaterial(f, key, material) == id)
        #expect(try await f.decrypt(blob) == "kept")
        // Deleting on demand does the same.
        #expect(try await f.service.deleteImportedKeyMaterial(keyID: key.id, materialID: nil, f.context).materialID == id)
        #expect(await errorCode { _ = try await f.encrypt(key.id) } == .invalidState)
        _ = try await importMaterial(f, key, material)
        #expect(try await f.decrypt(blob) == "kept")
        let entries = try await f.service.listKeyRotations(keyID: key.id, includeAllMaterial: true, limit: nil, marker: nil, f.context).entries
        #expect(entries.count == 1 && entries[0].importState == "IMPORTED" && entries[0].materialID == id)
    }

    func importNew(
        _ f: ServiceFixture, _ key: KMSKey, _ material: [UInt8], validTo: Date? = nil, context: RequestContext? = nil
    ) async throws -> String {
        let context = context ?? f.context
        let p = try await f.service.getParametersForImport(keyID: key.id, algorithm: .rsaesOAEPSHA256, wrappingKeySpec: .rsa2048, context)
        return try await f.service.importKeyMaterial(
            .init(
                keyID: key.id, importToken: p.importToken, encryptedKeyMaterial: try Self.wrap(material, p, .rsaesOAEPSHA256), validTo: validTo,
                expirationModel: validTo == nil ? .doesNotExpire : nil, importType: .newKeyMaterial), context
        ).materialID
    }

    @Test func newImportedMaterialWaitsForAnOnDemandRotation() async throws {
        let f = try ServiceFixture()
        let key = try await external(f)
        let (m1, m2, m3) = (
            (0..<32).map { _ in UInt8.random(in: 0...255) }, (0..<32).map { _ in UInt8.random(in: 0...255) }, [UInt8](repeating: 3, count: 32)
        )
        let id1 = try await importMaterial(f, key, m1)
        let blob1 = try await f.encrypt(key.id, "first")
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) } == .invalidState)
        #expect(await errorCode { _ = try await importNew(f, key, m1) } == .incorrectKeyMaterial)
        let id2 = try await importNew(f, key, m2, validTo: f.clock.now() + 10 * 86_400)
        #expect(await errorCode { _ = try await importNew(f, key, m3) } == .invalidState)
        var entries = try await f.service.listKeyRotations(keyID: key.id, includeAllMaterial: true, limit: nil, marker: nil, f.context).entries
        #expect(entries.map(\.materialID) == [id1, id2] && entries.map(\.materialState) == ["CURRENT", "PENDING_ROTATION"])
        #expect(entries[1].validTo == f.clock.now() + 10 * 86_400 && entries[1].expirationModel == .expires)
        // Until the rotation, the first material encrypts.
        #expect(try SymmetricCiphertext(parsing: [UInt8](try await f.encrypt(key.id))).materialVersion == 1)

        #expect(try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) == key.arn)
        let blob2 = try await f.encrypt(key.id, "second")
        let opened = try SymmetricKeyMaterial(unsafeRawBytes: m2).decrypt(
            try SymmetricCiphertext(parsing: [UInt8](blob2)), context: EncryptionContext([:]))
        #expect(String(decoding: opened, as: UTF8.self) == "second")
        #expect(try await f.decrypt(blob1) == "first")
        entries = try await f.service.listKeyRotations(keyID: key.id, includeAllMaterial: false, limit: nil, marker: nil, f.context).entries
        #expect(entries.count == 1 && entries[0].materialID == id2 && entries[0].rotationType == .onDemand && entries[0].materialState == "CURRENT")
        #expect(try await f.service.describeKey(keyID: key.id, f.context).materialValidTo == f.clock.now() + 10 * 86_400)
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: key.id, f.context) } == .invalidState)

        // Non-current material expires on its own: its ciphertexts stop decrypting, the key stays usable.
        _ = try await importMaterial(f, key, m1, validTo: f.clock.now() + 5 * 86_400)
        f.clock.advance(days: 6)
        #expect(try await f.service.expireImportedKeyMaterial() == [key.id])
        #expect(try await f.service.describeKey(keyID: key.id, f.context).state == .enabled)
        #expect(await errorCode { _ = try await f.decrypt(blob1) } == .invalidCiphertext)
        #expect(try await f.decrypt(blob2) == "second")
        // The current one's expiry takes the key to PendingImport.
        f.clock.advance(days: 5)
        #expect(try await f.service.expireImportedKeyMaterial() == [key.id])
        #expect(try await f.service.describeKey(keyID: key.id, f.context).state == .pendingImport)
        // Reimporting the current material restores the key; the older one, its ciphertexts.
        _ = try await importMaterial(f, key, m1)
        #expect(try await f.service.describeKey(keyID: key.id, f.context).state == .pendingImport)
        _ = try await importMaterial(f, key, m2)
        #expect(try await f.decrypt(blob1) == "first")
        #expect(try await f.decrypt(blob2) == "second")
        // Deleting a named version.
        #expect(try await f.service.deleteImportedKeyMaterial(keyID: key.id, materialID: id1, f.context).materialID == id1)
        #expect(await errorCode { _ = try await f.decrypt(blob1) } == .invalidCiphertext)
    }

    @Test func aMultiRegionKeyRotatesToImportedMaterialOnceEveryReplicaHasIt() async throws {
        let f = try ServiceFixture()
        let west = f.context(region: "eu-west-1")
        let primary = try await f.createKey(.init(origin: .external, multiRegion: true))
        let (m1, m2) = ((0..<32).map { _ in UInt8.random(in: 0...255) }, (0..<32).map { _ in UInt8.random(in: 0...255) })
        _ = try await importMaterial(f, primary, m1)
        let replica = try await f.service.replicateKey(.init(keyID: primary.id, replicaRegion: "eu-west-1"), f.context).replica
        func importExisting(_ material: [UInt8]) async throws {
            let p = try await f.service.getParametersForImport(keyID: replica.id, algorithm: .rsaesOAEPSHA256, wrappingKeySpec: .rsa2048, west)
            _ = try await f.service.importKeyMaterial(
                .init(
                    keyID: replica.id, importToken: p.importToken,
                    encryptedKeyMaterial: try Self.wrap(material, p, .rsaesOAEPSHA256),
                    expirationModel: .doesNotExpire, importType: .existingKeyMaterial), west)
        }
        try await importExisting(m1)
        #expect(try await f.service.describeKey(keyID: replica.id, west).state == .enabled)
        // NEW_KEY_MATERIAL goes to the primary; each replica takes the same with EXISTING_KEY_MATERIAL.
        #expect(await errorCode { _ = try await importNew(f, replica, m2, context: west) } == .unsupportedOperation)
        let id2 = try await importNew(f, primary, m2)
        var states = try await f.service.listKeyRotations(keyID: primary.id, includeAllMaterial: true, limit: nil, marker: nil, f.context).entries
            .map(\.materialState)
        #expect(states == ["CURRENT", "PENDING_MULTI_REGION_IMPORT_AND_ROTATION"])
        #expect(await errorCode { _ = try await f.service.rotateKeyOnDemand(keyID: primary.id, f.context) } == .invalidState)
        try await importExisting(m2)
        states = try await f.service.listKeyRotations(keyID: primary.id, includeAllMaterial: true, limit: nil, marker: nil, f.context).entries.map(
            \.materialState)
        #expect(states == ["CURRENT", "PENDING_ROTATION"])
        _ = try await f.service.rotateKeyOnDemand(keyID: primary.id, f.context)
        let blob = try await f.service.encrypt(
            keyID: replica.id, plaintext: Data("rotated in both".utf8), context: EncryptionContext([:]), algorithm: nil,
            dryRun: nil, west
        ).ciphertextBlob
        #expect(try SymmetricCiphertext(parsing: blob).materialVersion == 2)
        #expect(try await f.decrypt(Data(blob)) == "rotated in both")
        #expect(
            try await f.service.listKeyRotations(keyID: replica.id, includeAllMaterial: false, limit: nil, marker: nil, west).entries.map(
                \.materialID) == [id2])
    }

    /// A primary waiting for its replicas (`PendingReplicaDeletion`) stays so when its imported
    /// material is deleted, by the user or by expiry: it used to go `PendingImport`, and its
    /// deletion window never started.
    @Test(arguments: [false, true])
    func deletingMaterialOfAPrimaryWaitingForItsReplicasKeepsItPendingDeletion(byExpiry: Bool) async throws {
        let f = try ServiceFixture()
        let west = f.context(region: "eu-west-1")
        let primary = try await f.createKey(.init(origin: .external, multiRegion: true))
        _ = try await importMaterial(
            f, primary, (0..<32).map { _ in UInt8.random(in: 0...255) },
            validTo: byExpiry ? f.clock.now() + 86_400 : nil)
        let replica = try await f.service.replicateKey(.init(keyID: primary.id, replicaRegion: "eu-west-1"), f.context).replica
        #expect(try await f.service.scheduleKeyDeletion(keyID: primary.id, pendingWindowInDays: 7, f.context).state == .pendingReplicaDeletion)
        if byExpiry {
            f.clock.advance(days: 2)
            #expect(try await f.service.expireImportedKeyMaterial() == [primary.id])
        } else {
            _ = try await f.service.deleteImportedKeyMaterial(keyID: primary.id, materialID: nil, f.context)
        }
        #expect(try await f.service.describeKey(keyID: primary.id, f.context).state == .pendingReplicaDeletion)
        // Its window starts when the last replica goes.
        _ = try await f.service.scheduleKeyDeletion(keyID: replica.id, pendingWindowInDays: 7, west)
        f.clock.advance(days: 7)
        #expect(try await f.service.deleteKeysDueForDeletion() == [replica.id])
        #expect(try await f.service.describeKey(keyID: primary.id, f.context).state == .pendingDeletion)
        f.clock.advance(days: 7)
        #expect(try await f.service.deleteKeysDueForDeletion() == [primary.id])
    }

    @Test func validationOfExpiryAndWhereImportIsRefused() async throws {
        let f = try ServiceFixture()
        let key = try await external(f)
        let p = try await parameters(f, key)
        let wrapped = try Self.wrap([UInt8](repeating: 2, count: 32), p, .rsaesOAEPSHA256)
        func attempt(validTo: Date?, model: ExpirationModel?) async -> KMSError.Code? {
            await errorCode {
                _ = try await f.service.importKeyMaterial(
                    .init(
                        keyID: key.id, importToken: p.importToken, encryptedKeyMaterial: wrapped,
                        validTo: validTo, expirationModel: model), f.context)
            }
        }
        #expect(await attempt(validTo: nil, model: nil) == .validation)
        #expect(await attempt(validTo: f.clock.now() + 86_400, model: .doesNotExpire) == .validation)
        #expect(await attempt(validTo: f.clock.now() - 1, model: nil) == .validation)
        #expect(await attempt(validTo: f.clock.now() + 366 * 86_400, model: nil) == .validation)
        let generated = try await f.createKey()
        #expect(
            await errorCode {
                _ = try await f.service.getParametersForImport(keyID: generated.id, algorithm: .rsaesOAEPSHA256, wrappingKeySpec: .rsa2048, f.context)
            } == .unsupportedOperation)
        #expect(
            await errorCode {
                _ = try await f.service.getParametersForImport(keyID: key.id, algorithm: .rsaesPKCS1V15, wrappingKeySpec: .rsa2048, f.context)
            } == .validation)
    }

    @Test func asymmetricAndHMACMaterial() async throws {
        let f = try ServiceFixture()
        // An ECC private key (PKCS#8), wrapped with RSA-AES as AWS requires for private keys.
        let ecc = try await external(f, .init(keyUsage: .signVerify, keySpec: .eccNistP256, origin: .external))
        let pair = try AsymmetricKeyMaterial.generate(.eccNistP256)
        let pkcs8 = try pair.withUnsafeRawBytes { Array($0) }
        _ = try await importMaterial(f, ecc, pkcs8, algorithm: .rsaAESKeyWrapSHA256)
        #expect(try await f.service.getPublicKey(keyID: ecc.id, f.context).publicKey == (try pair.publicKeyDER()))
        // A P-384 key does not fit a P-256 KMS key.
        let other = try AsymmetricKeyMaterial.generate(.eccNistP384).withUnsafeRawBytes { Array($0) }
        let ecc2 = try await external(f, .init(keyUsage: .signVerify, keySpec: .eccNistP256, origin: .external))
        #expect(await errorCode { _ = try await importMaterial(f, ecc2, other, algorithm: .rsaAESKeyWrapSHA256) } == .incorrectKeyMaterial)
        // HMAC: lengths from the digest size to the block size.
        let hmac = try await external(f, .init(keyUsage: .generateVerifyMac, keySpec: .hmac256, origin: .external))
        #expect(await errorCode { _ = try await importMaterial(f, hmac, [UInt8](repeating: 3, count: 31)) } == .incorrectKeyMaterial)
        let secret = [UInt8](repeating: 9, count: 40)
        _ = try await importMaterial(f, hmac, secret)
        let mac = try await f.service.generateMac(keyID: hmac.id, message: Data("m".utf8), algorithm: .hmacSHA256, dryRun: nil, f.context)
        #expect(Array(mac.mac) == (try HMACKeyMaterial(unsafeRawBytes: secret).mac(Data("m".utf8), algorithm: .hmacSHA256)))
    }
}
