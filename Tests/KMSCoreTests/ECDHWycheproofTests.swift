import Foundation
import Testing

@testable import KMSCore

/// Wycheproof ECDH vectors through `AsymmetricKeyMaterial.deriveSharedSecret`: the private
/// scalar is loaded as a SEC 1 ECPrivateKey, the peer key is DER SPKI as DeriveSharedSecret takes it.
@Suite struct ECDHWycheproofTests {
    /// (file, curve OID as DER TLV, scalar length)
    static let curves: [(String, [UInt8], Int)] = [
        ("ecdh_secp256r1_test", [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], 32),
        ("ecdh_secp384r1_test", [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22], 48),
        ("ecdh_secp521r1_test", [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23], 66),
    ]

    /// ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] namedCurve }
    static func sec1(scalar: [UInt8], curve: [UInt8], length: Int) -> [UInt8] {
        let trimmed = Array(scalar.drop { $0 == 0 })
        let padded = [UInt8](repeating: 0, count: length - trimmed.count) + trimmed
        let body: [UInt8] = [0x02, 0x01, 0x01, 0x04, UInt8(length)] + padded + [0xa0, UInt8(curve.count)] + curve
        return [0x30] + (body.count < 128 ? [UInt8(body.count)] : [0x81, UInt8(body.count)]) + body
    }

    @Test(arguments: curves.map(\.0))
    func ecdhVectors(file: String) throws {
        let (_, oid, length) = Self.curves.first { $0.0 == file }!
        var valid = 0, invalid = 0
        for group in try Wycheproof.load(file).testGroups {
            for test in group.tests where test.result != "acceptable" {
                let key = try AsymmetricKeyMaterial(unsafeRawBytes: Self.sec1(scalar: test.bytes("private"), curve: oid, length: length))
                if test.result == "valid" {
                    #expect(try key.deriveSharedSecret(peerPublicKey: test.bytes("public")) == test.bytes("shared"), "\(file) tcId \(test.tcId)")
                    valid += 1
                } else {
                    expectKMSError(.validation, "\(file) tcId \(test.tcId) \(test.fields["comment"] ?? "")") {
                        try key.deriveSharedSecret(peerPublicKey: test.bytes("public"))
                    }
                    invalid += 1
                }
            }
        }
        #expect(valid > 100 && invalid > 20)
    }
}
