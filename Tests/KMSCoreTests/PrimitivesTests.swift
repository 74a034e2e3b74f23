import Crypto
import Foundation
import Testing

@testable import KMSCore

/// Published vectors through our own AES-GCM and HKDF wrappers.
@Suite struct PrimitivesTests {
    @Test func aesGCMWycheproof() throws {
        var checked = 0, refused = 0
        for group in try Wycheproof.load("aes_gcm_test").testGroups {
            for test in group.tests {
                let key = SymmetricKey(data: test.bytes("key"))
                let (iv, aad, msg, ct, tag) = (test.bytes("iv"), test.bytes("aad"), test.bytes("msg"), test.bytes("ct"), test.bytes("tag"))
                guard group.keySize == 256, group.ivSize == 96, group.tagSize == 128 else {
                    // Our wrapper takes only AES-256 with 96-bit IVs and 128-bit tags.
                    expectKMSError(.invalidCiphertext, "tcId \(test.tcId)") { try AES256GCM.open(ct, tag: tag, key: key, iv: iv, aad: aad) }
                    refused += 1
                    continue
                }
                if test.result == "valid" {
                    let sealed = try AES256GCM.seal(msg, key: key, iv: iv, aad: aad)
                    #expect(sealed.ciphertext == ct && sealed.tag == tag, "tcId \(test.tcId)")
                    #expect(try Array(AES256GCM.open(ct, tag: tag, key: key, iv: iv, aad: aad)) == msg, "tcId \(test.tcId)")
                } else {
                    #expect(throws: KMSError.invalidCiphertext, "tcId \(test.tcId)") { try AES256GCM.open(ct, tag: tag, key: key, iv: iv, aad: aad) }
                }
                checked += 1
            }
        }
        #expect(checked > 50 && refused > 50)
    }

    @Test func hkdfSHA256Wycheproof() throws {
        var checked = 0
        for group in try Wycheproof.load("hkdf_sha256_test").testGroups {
            for test in group.tests {
                let size = try #require(test.size)
                let ikm = SymmetricKey(data: test.bytes("ikm"))
                if test.result == "valid" {
                    let okm = try HKDFSHA256.derive(ikm, salt: test.bytes("salt"), info: test.bytes("info"), length: size)
                    #expect(okm.withUnsafeBytes { Array($0) } == test.bytes("okm"), "tcId \(test.tcId)")
                } else {
                    expectKMSError(.internalFailure, "tcId \(test.tcId)") {
                        try HKDFSHA256.derive(ikm, salt: test.bytes("salt"), info: test.bytes("info"), length: size)
                    }
                }
                checked += 1
            }
        }
        #expect(checked > 50)
    }

    /// Full-length tags must verify (valid) or be refused (invalid); a truncated tag is never
    /// accepted (AWS's VerifyMac compares whole MACs), but must be a prefix of our MAC when valid.
    @Test(arguments: MacAlgorithm.allCases)
    func hmacWycheproof(algorithm: MacAlgorithm) throws {
        let file = "hmac_sha\(algorithm.byteCount * 8)_test"
        var full = 0, truncated = 0
        for group in try Wycheproof.load(file).testGroups {
            for test in group.tests {
                let material = try HMACKeyMaterial(unsafeRawBytes: test.bytes("key"))
                let (msg, tag) = (test.bytes("msg"), test.bytes("tag"))
                let mac = try material.mac(msg, algorithm: algorithm)
                #expect(mac.count == algorithm.byteCount)
                if group.tagSize == algorithm.byteCount * 8 {
                    #expect(try material.isValid(tag, for: msg, algorithm: algorithm) == (test.result == "valid"), "tcId \(test.tcId)")
                    if test.result == "valid" { #expect(mac == tag, "tcId \(test.tcId)") }
                    full += 1
                } else {
                    #expect(try !material.isValid(tag, for: msg, algorithm: algorithm), "tcId \(test.tcId)")
                    if test.result == "valid" { #expect(Array(mac.prefix(tag.count)) == tag, "tcId \(test.tcId)") }
                    truncated += 1
                }
            }
        }
        #expect(full > 20 && truncated > 20)
    }

    @Test func randomUUIDsAreVersion4AndDistinct() {
        let ids = (0..<1000).map { _ in UUID.randomLowercased() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let chars = Array(id)
            #expect(id.count == 36 && id == id.lowercased() && UUID(uuidString: id) != nil)
            #expect(chars[14] == "4" && "89ab".contains(chars[19]))
        }
    }

    /// RFC 9562's version 7: the first 48 bits are the milliseconds, which read back; the test
    /// vector's time (2022-02-22 19:22:22 UTC) gives its prefix.
    @Test func timeOrderedUUIDsNameTheirMillisecond() {
        let id = UUID.timeOrderedLowercased(millis: 0x017F_22E2_79B0)
        #expect(id.hasPrefix("017f22e2-79b0-7") && "89ab".contains(Array(id)[19]) && UUID(uuidString: id) != nil)
        #expect(UUID.timeOrderedMillis(id) == 0x017F_22E2_79B0)
        #expect(UUID.timeOrderedMillis("017F22E2-79B0-7CC3-98C4-DC0C0C07398F") == 0x017F_22E2_79B0)
        #expect(UUID.timeOrderedMillis(UUID.randomLowercased()) == nil && UUID.timeOrderedMillis("not a uuid") == nil)
        let ids = (0..<1000).map { UUID.timeOrderedLowercased(millis: 1_796_000_000_000 + Int64($0)) }
        #expect(Set(ids).count == ids.count && ids == ids.sorted())
    }
}
