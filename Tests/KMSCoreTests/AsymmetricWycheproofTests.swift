import Foundation
import Testing

@testable import KMSCore

/// Wycheproof signature and RSA-OAEP vectors through our OpenSSL-backed key types: every
/// `valid` case accepted, every `invalid` one rejected (`acceptable` cases may go either way).
@Suite struct AsymmetricWycheproofTests {
    static let signatureFiles: [(file: String, algorithm: SigningAlgorithm)] = [
        ("rsa_pss_2048_sha256_mgf1_32_test", .rsassaPSSSHA256), ("rsa_pss_2048_sha384_mgf1_48_test", .rsassaPSSSHA384),
        ("rsa_pss_4096_sha512_mgf1_64_test", .rsassaPSSSHA512),
        ("rsa_signature_2048_sha256_test", .rsassaPKCS1SHA256), ("rsa_signature_2048_sha384_test", .rsassaPKCS1SHA384),
        ("rsa_signature_2048_sha512_test", .rsassaPKCS1SHA512), ("rsa_signature_3072_sha256_test", .rsassaPKCS1SHA256),
        ("rsa_signature_3072_sha384_test", .rsassaPKCS1SHA384), ("rsa_signature_3072_sha512_test", .rsassaPKCS1SHA512),
        ("rsa_signature_4096_sha256_test", .rsassaPKCS1SHA256), ("rsa_signature_4096_sha384_test", .rsassaPKCS1SHA384),
        ("rsa_signature_4096_sha512_test", .rsassaPKCS1SHA512),
        ("ecdsa_secp256r1_sha256_test", .ecdsaSHA256), ("ecdsa_secp384r1_sha384_test", .ecdsaSHA384),
        ("ecdsa_secp521r1_sha512_test", .ecdsaSHA512), ("ecdsa_secp256k1_sha256_test", .ecdsaSHA256),
        ("ed25519_test", .ed25519SHA512),
    ]

    @Test(arguments: signatureFiles.map(\.file))
    func signatureVectors(file: String) throws {
        let algorithm = Self.signatureFiles.first { $0.file == file }!.algorithm
        var valid = 0, invalid = 0
        for group in try Wycheproof.load(file).testGroups {
            let key = try #require(PublicKeyDER(group.bytes("publicKeyDer")), "\(file): key not read")
            for test in group.tests where test.result != "acceptable" {
                let ok = try key.isValidSignature(test.bytes("sig"), for: test.bytes("msg"), type: .raw, algorithm: algorithm)
                #expect(ok == (test.result == "valid"), "\(file) tcId \(test.tcId)")
                if test.result == "valid" {
                    valid += 1
                    // The same signature over the caller-made digest (MessageType DIGEST).
                    if let hash = algorithm.hash {
                        #expect(try key.isValidSignature(test.bytes("sig"), for: hash.hash(test.bytes("msg")), type: .digest, algorithm: algorithm))
                    }
                } else {
                    invalid += 1
                }
            }
        }
        #expect(valid > 0 && invalid > 0)
    }

    @Test(arguments: [
        "rsa_oaep_2048_sha1_mgf1sha1_test", "rsa_oaep_2048_sha256_mgf1sha256_test",
        "rsa_oaep_3072_sha256_mgf1sha256_test", "rsa_oaep_4096_sha256_mgf1sha256_test",
    ])
    func oaepVectors(file: String) throws {
        let algorithm: EncryptionAlgorithm = file.contains("sha1") ? .rsaesOaepSha1 : .rsaesOaepSha256
        var valid = 0, invalid = 0
        for group in try Wycheproof.load(file).testGroups {
            let key = try AsymmetricKeyMaterial(unsafeRawBytes: group.bytes("privateKeyPkcs8"))
            for test in group.tests where test.result != "acceptable" {
                // AWS KMS uses the empty OAEP label: a ciphertext made with another label must fail.
                let expectValid = test.result == "valid" && test.fields["label"] == ""
                if expectValid {
                    #expect(try key.decrypt(test.bytes("ct"), algorithm: algorithm) == test.bytes("msg"), "\(file) tcId \(test.tcId)")
                    valid += 1
                } else {
                    #expect(throws: KMSError.invalidCiphertext, "\(file) tcId \(test.tcId)") {
                        try key.decrypt(test.bytes("ct"), algorithm: algorithm)
                    }
                    invalid += 1
                }
            }
        }
        #expect(valid > 0 && invalid > 0)
    }

    @Test(arguments: Array(AsymmetricKeyMaterial.specs).sorted { $0.rawValue < $1.rawValue })
    func generatedKeysRoundTrip(spec: KeySpec) throws {
        let material = try AsymmetricKeyMaterial.generate(spec)
        let restored = try material.withUnsafeRawBytes { try AsymmetricKeyMaterial(unsafeRawBytes: Array($0)) }
        #expect(try restored.publicKeyDER() == material.publicKeyDER())
        let public_ = try #require(PublicKeyDER(try material.publicKeyDER()))
        let algorithms: [(SigningAlgorithm, MessageType)] =
            switch spec {
            case .eccNistP256, .eccSecgP256k1: [(.ecdsaSHA256, .raw)]
            case .eccNistP384: [(.ecdsaSHA384, .raw)]
            case .eccNistP521: [(.ecdsaSHA512, .raw)]
            case .eccNistEdwards25519: [(.ed25519SHA512, .raw), (.ed25519PHSHA512, .digest)]
            case .mlDsa44, .mlDsa65, .mlDsa87: [(.mlDSASHAKE256, .raw)]
            case .sm2: [(.sm2DSA, .raw), (.sm2DSA, .digest)]
            default: [(.rsassaPSSSHA256, .raw), (.rsassaPKCS1SHA512, .raw)]
            }
        for (algorithm, type) in algorithms {
            let message = Array((type == .digest ? String(repeating: "m", count: algorithm.hash!.byteCount) : "message").utf8)
            var other = message
            other[0] ^= 1
            let signature = try restored.sign(message, type: type, algorithm: algorithm)
            #expect(try public_.isValidSignature(signature, for: message, type: type, algorithm: algorithm), "\(algorithm)")
            #expect(try !public_.isValidSignature(signature, for: other, type: type, algorithm: algorithm), "\(algorithm)")
        }
        if spec == .sm2 {
            #expect(material.maximumPlaintextLength(.sm2pke) == 1024 && material.maximumPlaintextLength(.rsaesOaepSha256) == nil)
            let ciphertext = try material.encrypt([1, 2, 3], algorithm: .sm2pke, spec: .sm2)
            #expect(try restored.decrypt(ciphertext, algorithm: .sm2pke) == [1, 2, 3])
            #expect(throws: KMSError.invalidCiphertext) { try restored.decrypt(ciphertext, algorithm: .rsaesOaepSha256) }
        }
        if spec == .rsa2048 {
            #expect(material.maximumPlaintextLength(.rsaesOaepSha1) == 214 && material.maximumPlaintextLength(.rsaesOaepSha256) == 190)
            let ciphertext = try material.encrypt([1, 2, 3], algorithm: .rsaesOaepSha256, spec: .rsa2048)
            #expect(try restored.decrypt(ciphertext, algorithm: .rsaesOaepSha256) == [1, 2, 3])
            #expect(throws: KMSError.invalidCiphertext) { try restored.decrypt(ciphertext, algorithm: .rsaesOaepSha1) }
            expectKMSError(.validation) { try material.encrypt([UInt8](repeating: 0, count: 191), algorithm: .rsaesOaepSha256, spec: .rsa2048) }
        }
    }

    /// Pure ML-DSA with the empty context, as AWS signs RAW messages: a vector made with another
    /// context must not verify.
    @Test(arguments: ["mldsa_44_verify_test", "mldsa_65_verify_test", "mldsa_87_verify_test"])
    func mlDSAVerifyVectors(file: String) throws {
        var valid = 0, invalid = 0
        for group in try Wycheproof.load(file).testGroups {
            guard let key = PublicKeyDER(group.bytes("publicKeyDer")) else {
                // A malformed public key: every case of the group must be invalid.
                #expect(group.tests.allSatisfy { $0.result == "invalid" }, "\(file): key not read")
                invalid += group.tests.count
                continue
            }
            for test in group.tests {
                let expected = test.result == "valid" && (test.fields["ctx"] ?? "").isEmpty
                #expect(
                    try key.isValidSignature(test.bytes("sig"), for: test.bytes("msg"), type: .raw, algorithm: .mlDSASHAKE256) == expected,
                    "\(file) tcId \(test.tcId)")
                if expected { valid += 1 } else { invalid += 1 }
            }
        }
        #expect(valid > 10 && invalid > 10)
    }

    /// Keys from the PKCS#8 seed form give the vector's public key; their (hedged) signatures
    /// verify, and so do the vector's.
    @Test(arguments: ["mldsa_44_sign_seed_test", "mldsa_65_sign_seed_test", "mldsa_87_sign_seed_test"])
    func mlDSASeedVectors(file: String) throws {
        var checked = 0
        for group in try Wycheproof.load(file).testGroups {
            guard let key = try? AsymmetricKeyMaterial(unsafeRawBytes: group.bytes("privateKeyPkcs8")) else { continue }
            let spki = try key.publicKeyDER()
            #expect(Array(spki.suffix(group.bytes("publicKey").count)) == group.bytes("publicKey"), "\(file)")
            let verifier = try #require(PublicKeyDER(spki))
            for test in group.tests where test.result == "valid" && (test.fields["ctx"] ?? "").isEmpty && test.fields["msg"] != nil {
                let signature = try key.sign(test.bytes("msg"), type: .raw, algorithm: .mlDSASHAKE256)
                #expect(try verifier.isValidSignature(signature, for: test.bytes("msg"), type: .raw, algorithm: .mlDSASHAKE256))
                #expect(
                    try verifier.isValidSignature(test.bytes("sig"), for: test.bytes("msg"), type: .raw, algorithm: .mlDSASHAKE256),
                    "\(file) tcId \(test.tcId)")
                checked += 1
            }
        }
        #expect(checked > 10)
    }

    /// RFC 8032 §7.3's Ed25519ph vector ("abc"): libsodium's HashEdDSA is deterministic.
    @Test func ed25519phKnownAnswer() throws {
        let seed = [UInt8](hex: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
        let publicKey = [UInt8](hex: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
        let expected = [UInt8](
            hex: "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
                + "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406")
        #expect(try Ed25519ph.sign(Array("abc".utf8), seed: seed) == expected)
        #expect(Ed25519ph.isValidSignature(expected, for: Array("abc".utf8), publicKey: publicKey))
        #expect(!Ed25519ph.isValidSignature(expected, for: Array("abd".utf8), publicKey: publicKey))
        // The same key as a KMS key: PKCS#8 of the seed; DIGEST input is hashed again.
        let key = try AsymmetricKeyMaterial(unsafeRawBytes: [UInt8](hex: "302e020100300506032b657004220420") + seed)
        let digest = [UInt8](repeating: 7, count: 64)
        let signature = try key.sign(digest, type: .digest, algorithm: .ed25519PHSHA512)
        #expect(Ed25519ph.isValidSignature(signature, for: digest, publicKey: publicKey))
        expectKMSError(.validation) { try key.sign(digest, type: .raw, algorithm: .ed25519PHSHA512) }
        expectKMSError(.validation) { try key.sign(Array(digest.dropLast()), type: .digest, algorithm: .ed25519PHSHA512) }
    }
}
