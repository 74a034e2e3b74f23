import Foundation
import Testing
@testable import KMSCore
@testable import KMSService

/// Imported key material through the service, with an injected clock: the import token's
/// life, the material's expiry, deletion and reimport, and every error AWS names.
@Suite struct ImportKeyMaterialTests {
    /// Wraps `material` for `parameters` as a caller would (RSA-OAEP, or RSA-OAEP of a fresh
    /// AES key then AES key wrap with padding).
    static func wrap(_ material: [UInt8], _ parameters: KeyManagementService.ImportParametersOutput, _ algorithm: ImportWrappingAlgorithm) throws -> [UInt8] {
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

    func parameters(_ f: ServiceFixture, _ key: KMSKey, _ algorithm: ImportWrappingAlgorithm = .rsaesOAEPSHA256) async throws -> KeyManagementService.ImportParametersOutput {
        try await f.service.getParametersForImport(keyID: key.id, algorithm: algorithm.rawValue, wrappingKeySpec: "RSA_2048", f.context)
    }

    func importMaterial(_ f: ServiceFixture, _ key: KMSKey, _ material: [UInt8], algorithm: ImportWrappingAlgorithm = .rsaesOAEPSHA256,
                        validTo: Date? = nil) async throws -> String {
        let p = try await parameters(f, key, algorithm)
        return try await f.service.importKeyMaterial(.init(
            keyID: key.id, importToken: p.importToken, encryptedKeyMaterial: try Self.wrap(material, p, algorithm), validTo: validTo,
            expirationModel: validTo == nil ? "KEY_MATERIAL_DOES_NOT_EXPIRE" : nil), f.context).materialID
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
        let opened = try SymmetricKeyMaterial(unsafeRawBytes: material).decrypt(try SymmetricCiphertext(parsing: [UInt8](blob)), context: EncryptionContext([:]))
        #expect(String(decoding: opened, as: UTF8.self) == "imported")
    }

    @Test func importTokensExpireAndBelongToTheirKey() async throws {
        let f = try ServiceFixture()
        let (a, b) = (try await external(f), try await external(f))
        let material = [UInt8](repeating: 7, count: 32)
        let p = try await parameters(f, a)
        let wrapped = try Self.wrap(material, p, .rsaesOAEPSHA256)
        func attempt(_ key: KMSKey, token: [UInt8], _ encrypted: [UInt8]) async -> KMSError.Code? {
            await errorCode { _ = try await f.service.importKeyMaterial(.init(keyID: key.id, importToken: token, encryptedKeyMaterial: encrypted,
                                                                             expirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"), f.context) }
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
        #expect(described.state == .enabled && described.expirationModel == "KEY_MATERIAL_EXPIRES")
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

    @Test func validationOfExpiryAndWhereImportIsRefused() async throws {
        let f = try ServiceFixture()
        let key = try await external(f)
        let p = try await parameters(f, key)
        let wrapped = try Self.wrap([UInt8](repeating: 2, count: 32), p, .rsaesOAEPSHA256)
        func attempt(validTo: Date?, model: String?) async -> KMSError.Code? {
            await errorCode { _ = try await f.service.importKeyMaterial(.init(keyID: key.id, importToken: p.importToken, encryptedKeyMaterial: wrapped,
                                                                             validTo: validTo, expirationModel: model), f.context) }
        }
        #expect(await attempt(validTo: nil, model: nil) == .validation)
        #expect(await attempt(validTo: f.clock.now() + 86_400, model: "KEY_MATERIAL_DOES_NOT_EXPIRE") == .validation)
        #expect(await attempt(validTo: f.clock.now() - 1, model: nil) == .validation)
        #expect(await attempt(validTo: f.clock.now() + 366 * 86_400, model: nil) == .validation)
        let generated = try await f.createKey()
        #expect(await errorCode { _ = try await f.service.getParametersForImport(keyID: generated.id, algorithm: "RSAES_OAEP_SHA_256", wrappingKeySpec: "RSA_2048", f.context) } == .unsupportedOperation)
        #expect(await errorCode { _ = try await f.service.getParametersForImport(keyID: key.id, algorithm: "RSAES_PKCS1_V1_5", wrappingKeySpec: "RSA_2048", f.context) } == .validation)
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
