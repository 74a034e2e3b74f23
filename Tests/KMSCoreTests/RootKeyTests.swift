import Foundation
import Testing

@testable import KMSCore

@Suite struct RootKeyTests {
    let root = try! RootKey(rawBytes: RootKey.generateRawBytes())
    let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    @Test func wrappedMaterialUnwrapsOnlyForItsKeyAndVersion() throws {
        let material = SymmetricKeyMaterial.generate()
        let wrapped = try root.wrapKeyMaterial(material, keyARN: arn, version: 2)
        let raw = material.withUnsafeRawBytes { Array($0) }
        #expect(try root.unwrapKeyMaterial(wrapped, as: SymmetricKeyMaterial.self, keyARN: arn, version: 2).withUnsafeRawBytes { Array($0) } == raw)
        #expect(wrapped.count == 1 + 12 + 32 + 16)
        #expect(!wrapped.windows(ofCount: 8).contains { Array($0) == Array(raw[0..<8]) })
        expectKMSError(.internalFailure) { try root.unwrapKeyMaterial(wrapped, as: SymmetricKeyMaterial.self, keyARN: arn, version: 1) }
        expectKMSError(.internalFailure) { try root.unwrapKeyMaterial(wrapped, as: SymmetricKeyMaterial.self, keyARN: arn + "0", version: 2) }
        let other = try RootKey(rawBytes: RootKey.generateRawBytes())
        expectKMSError(.internalFailure) { try other.unwrapKeyMaterial(wrapped, as: SymmetricKeyMaterial.self, keyARN: arn, version: 2) }
    }

    @Test func credentialsAreBoundToTheirAccessKeyID() throws {
        let sealed = try root.sealCredential(secret: "s3cr3t-s3cr3t-s3cr3t", accessKeyID: "AKIAEXAMPLE")
        #expect(try root.openCredential(sealed, accessKeyID: "AKIAEXAMPLE") == "s3cr3t-s3cr3t-s3cr3t")
        expectKMSError(.internalFailure) { try root.openCredential(sealed, accessKeyID: "AKIAOTHER") }
        // A wrapped credential is no wrapped key material: separate derived keys.
        expectKMSError(.internalFailure) { try root.unwrapKeyMaterial(sealed, as: HMACKeyMaterial.self, keyARN: "AKIAEXAMPLE", version: 0) }
    }

    /// The fingerprint names one root key (a backup's manifest carries it) and shows none of
    /// its bytes: an HKDF output of a label of its own, fixed for a given key.
    @Test func theFingerprintNamesTheKeyWithoutShowingIt() throws {
        let raw = [UInt8](repeating: 7, count: 32)
        let key = try RootKey(rawBytes: raw)
        #expect(key.fingerprint == (try RootKey(rawBytes: raw)).fingerprint)
        #expect(key.fingerprint.count == 32 && key.fingerprint.allSatisfy(\.isHexDigit))
        #expect(key.fingerprint != root.fingerprint)
        #expect(!key.fingerprint.contains("0707070707"))
    }

    @Test func rootKeyMustBe32Bytes() {
        expectKMSError(.internalFailure) { try RootKey(rawBytes: [UInt8](repeating: 1, count: 16)) }
    }
}

extension Array {
    func windows(ofCount n: Int) -> [ArraySlice<Element>] {
        count < n ? [] : (0...(count - n)).map { self[$0..<($0 + n)] }
    }
}
