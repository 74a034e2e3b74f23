import Foundation
import Testing

@testable import KMSCore

@Suite struct SymmetricCiphertextTests {
    let material = SymmetricKeyMaterial.generate()
    let account = "111122223333"
    let keyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
    let context = EncryptionContext(["app": "demo", "tenant": "42"])

    func seal(_ plaintext: [UInt8], keyID: String? = nil, version: UInt32 = 1) throws -> [UInt8] {
        try material.encrypt(plaintext, context: context, account: account, keyID: keyID ?? self.keyID, materialVersion: version)
    }

    @Test(arguments: [1, 16, 255, 4096])
    func roundTrip(length: Int) throws {
        let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let blob = try seal(plaintext, version: 7)
        #expect(blob.count == SymmetricCiphertext.headerLength + length + SymmetricCiphertext.tagLength)
        let parsed = try SymmetricCiphertext(parsing: blob)
        #expect(parsed.account == account && parsed.keyID == keyID && parsed.materialVersion == 7)
        #expect(Array(try material.decrypt(parsed, context: context)) == plaintext)
    }

    @Test func multiRegionKeyIDRoundTrips() throws {
        let mrk = "mrk-1234abcd12ab34cd56ef1234567890ab"
        let parsed = try SymmetricCiphertext(parsing: try seal([1, 2, 3], keyID: mrk))
        #expect(parsed.keyID == mrk)
        #expect(Array(try material.decrypt(parsed, context: context)) == [1, 2, 3])
    }

    @Test func encryptionIsRandomized() throws {
        #expect(try seal([1, 2, 3]) != seal([1, 2, 3]))
    }

    @Test func everySingleBitFlipIsRejected() throws {
        let blob = try seal(Array("attack at dawn".utf8))
        for index in blob.indices {
            for bit in 0..<8 {
                var tampered = blob
                tampered[index] ^= UInt8(1 << bit)
                #expect(throws: KMSError.invalidCiphertext, "byte \(index) bit \(bit)") {
                    // Even with the right material, a flip anywhere (header included) fails.
                    _ = try material.decrypt(try SymmetricCiphertext(parsing: tampered), context: context)
                }
            }
        }
    }

    @Test func truncatedAndExtendedBlobsAreRejected() throws {
        let blob = try seal([9, 9, 9])
        for length in [0, 1, 61, 62, 77, blob.count - 1] {
            #expect(throws: KMSError.invalidCiphertext) {
                _ = try material.decrypt(try SymmetricCiphertext(parsing: blob.prefix(length)), context: context)
            }
        }
        #expect(throws: KMSError.invalidCiphertext) {
            _ = try material.decrypt(try SymmetricCiphertext(parsing: blob + [0]), context: context)
        }
    }

    @Test func contextMustMatchExactly() throws {
        let parsed = try SymmetricCiphertext(parsing: try seal([42]))
        let wrong: [[String: String]] = [
            [:], ["app": "demo"], ["app": "demo", "tenant": "43"], ["app": "demo", "tenant": "42", "x": ""],
            ["App": "demo", "tenant": "42"], ["app": "demo", "tenant": "42 "],
        ]
        for pairs in wrong {
            #expect(throws: KMSError.invalidCiphertext, "\(pairs)") { try material.decrypt(parsed, context: EncryptionContext(pairs)) }
        }
        #expect(throws: KMSError.invalidCiphertext) { try SymmetricKeyMaterial.generate().decrypt(parsed, context: context) }
        #expect(Array(try material.decrypt(parsed, context: EncryptionContext(["tenant": "42", "app": "demo"]))) == [42])
    }

    @Test func canonicalContextIsOrderIndependentAndUnambiguous() {
        let a = EncryptionContext(["b": "2", "a": "1", "é": "x"]).canonicalBytes
        let b = EncryptionContext(["é": "x", "a": "1", "b": "2"]).canonicalBytes
        #expect(a == b)
        #expect(EncryptionContext(["ab": "c"]).canonicalBytes != EncryptionContext(["a": "bc"]).canonicalBytes)
        #expect(EncryptionContext().canonicalBytes == [0, 0, 0, 0])
        #expect(EncryptionContext(["a": "1"]).canonicalBytes == [0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0x31])
    }

    /// Made by tests/interop/blobformat.py (Python `cryptography`) from docs/ciphertext-format.md.
    /// This blob must decrypt forever: change the format only with a new version byte.
    static let golden =
        "01003131313132323232333333331234abcd12ab34cd56ef1234567890ab00000003a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babb7678fcc5d2eb0da2acaecf591beca76c9169eba404329154f9b05f2fdcc7b89157437826237011"

    @Test func goldenBlobStaysReadable() throws {
        let material = try SymmetricKeyMaterial(unsafeRawBytes: Array(0..<32) as [UInt8])
        let context = EncryptionContext(["app": "golden", "purpose": "test"])
        let blob = [UInt8](hex: Self.golden)
        let parsed = try SymmetricCiphertext(parsing: blob)
        #expect(parsed.account == "111122223333" && parsed.keyID == "1234abcd-12ab-34cd-56ef-1234567890ab" && parsed.materialVersion == 3)
        #expect(String(decoding: try material.decrypt(parsed, context: context), as: UTF8.self) == "SwiftKMS golden blob v1")
        let remade = try material.encrypt(
            Array("SwiftKMS golden blob v1".utf8), context: context, account: "111122223333",
            keyID: "1234abcd-12ab-34cd-56ef-1234567890ab", materialVersion: 3,
            derivationNonce: Array(0xA0..<0xB0), iv: Array(0xB0..<0xBC))
        #expect(remade == blob)
    }
}
