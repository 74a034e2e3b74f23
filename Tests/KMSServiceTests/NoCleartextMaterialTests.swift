import Foundation
import Testing

@testable import KMSService

/// Key material must never reach storage in the clear: this test learns real material through
/// the service's internal API, then looks for it in every file of the data directory.
@Suite struct NoCleartextMaterialTests {
    @Test func materialIsNowhereInTheDataDirectory() async throws {
        let f = try ServiceFixture()
        defer { try? FileManager.default.removeItem(at: f.directory) }
        var secrets: [[UInt8]] = []
        for _ in 0..<5 {
            let key = try await f.createKey()
            _ = try await f.encrypt(key.id)
            let material = try #require(try await f.service.material(of: key, version: 1, as: SymmetricKeyMaterial.self))
            secrets.append(material.withUnsafeRawBytes { Array($0) })
        }
        for spec in [KeySpec.rsa2048, .eccNistP256, .eccNistEdwards25519] {
            let key = try await f.createKey(.init(keyUsage: .signVerify, keySpec: spec))
            let material = try #require(try await f.service.material(of: key, version: 1, as: AsymmetricKeyMaterial.self))
            let pkcs8 = try material.withUnsafeRawBytes { Array($0) }
            // PKCS#8 whole, and its last 32 bytes alone.
            secrets += [pkcs8, Array(pkcs8.suffix(32))]
        }
        let hmac = try await f.createKey(.init(keyUsage: .generateVerifyMac, keySpec: .hmac512))
        secrets.append(try #require(try await f.service.material(of: hmac, version: 1, as: HMACKeyMaterial.self)).withUnsafeRawBytes { Array($0) })
        // Sanity: the scanner finds bytes that are there.
        let files = try FileManager.default.contentsOfDirectory(at: f.directory, includingPropertiesForKeys: nil)
        #expect(files.map(\.lastPathComponent).contains("db.sqlite3-wal"))
        let contents = try files.map { try [UInt8](Data(contentsOf: $0)) }
        #expect(contents.contains { contains($0, Array("ENCRYPT_DECRYPT".utf8)) })

        for secret in secrets {
            let forms = [
                secret, Array(Data(secret).base64EncodedString().utf8), Array(secret.map { String(format: "%02x", $0) }.joined().utf8),
                Array(secret.prefix(16)),
            ]
            for (file, content) in zip(files, contents) {
                for form in forms {
                    #expect(!contains(content, form), "\(file.lastPathComponent) holds key material")
                }
            }
        }
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
