import Foundation

/// The keys (and one ciphertext per symmetric key) a benchmark run uses, made once per
/// server by `kms-load setup` and reused by every `kms-load run`.
struct Fixture: Codable, Sendable {
    var symmetric: [String]
    /// Base64 CiphertextBlob of 100 bytes under each symmetric key, in the same order.
    var blobs: [String]
    var hmac: [String]
    var p256: [String]
    var ed25519: [String]
    var rsa2048: [String]

    static func load(_ path: String) throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func save(_ path: String) throws {
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path))
    }

    /// Makes `keys` symmetric keys with a blob each, and one key of each kind in `kinds` that
    /// the server supports.
    static func make(_ client: KMSClient, keys: Int, kinds: Set<String>, concurrency: Int = 16) async throws -> Fixture {
        let plaintext = Data(repeating: 0x61, count: 100).base64EncodedString()
        let pairs = try await withThrowingTaskGroup(of: [(Int, String, String)].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var made: [(Int, String, String)] = []
                    for i in stride(from: worker, to: keys, by: concurrency) {
                        let meta = try await client.json("CreateKey", ["Description": "benchmark \(i)"])["KeyMetadata"] as? [String: Any]
                        guard let id = meta?["KeyId"] as? String else { throw LoadError("CreateKey returned no KeyId") }
                        let blob = try await client.json("Encrypt", ["KeyId": id, "Plaintext": plaintext])["CiphertextBlob"] as? String ?? ""
                        made.append((i, id, blob))
                    }
                    return made
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }.sorted { $0.0 < $1.0 }
        }
        // A kind the server refuses is left empty, and its scenarios are not run.
        func one(_ spec: String, _ usage: String) async throws -> [String] {
            guard kinds.contains(spec),
                let meta = try? await client.json("CreateKey", ["KeySpec": spec, "KeyUsage": usage])["KeyMetadata"] as? [String: Any],
                let id = meta["KeyId"] as? String
            else { return [] }
            return [id]
        }
        return Fixture(
            symmetric: pairs.map(\.1), blobs: pairs.map(\.2),
            hmac: try await one("HMAC_256", "GENERATE_VERIFY_MAC"), p256: try await one("ECC_NIST_P256", "SIGN_VERIFY"),
            ed25519: try await one("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"), rsa2048: try await one("RSA_2048", "SIGN_VERIFY"))
    }
}
