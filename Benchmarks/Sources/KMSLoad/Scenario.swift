import ArgumentParser
import Foundation

/// What a run sends: one operation (or the mixed workload) with a body built per request.
enum Scenario: String, CaseIterable, ExpressibleByArgument, Sendable {
    case encrypt100 = "encrypt-100", encrypt4k = "encrypt-4k", decrypt, generateDataKey = "generate-data-key", generateMac = "generate-mac"
    case signP256 = "sign-p256", signEd25519 = "sign-ed25519", signRSA2048 = "sign-rsa2048", describeKey = "describe-key"
    case createKey = "create-key", mixed
    /// Encrypt and Decrypt only, as `readsWithWrites` without its writes: its baseline.
    case reads = "encrypt-decrypt"
    /// 95 % Encrypt and Decrypt, 5 % writes that AWS services make all day on the same keys
    /// (CreateGrant, TagResource, UntagResource in turn).
    case readsWithWrites = "encrypt-decrypt-writes"
    /// For the bare endpoint: an Encrypt-100 request to a server that does nothing with it.
    case bare

    /// Whether the fixture has the keys this scenario needs.
    func isRunnable(with f: Fixture) -> Bool {
        switch self {
        case .generateMac: !f.hmac.isEmpty
        case .signP256: !f.p256.isEmpty
        case .signEd25519: !f.ed25519.isEmpty
        case .signRSA2048: !f.rsa2048.isEmpty
        default: !f.symmetric.isEmpty
        }
    }

    /// The request of iteration `n` with fixture `f` (using its first `keys` symmetric keys).
    func request(_ n: Int, _ f: Fixture, keys: Int) -> (operation: String, body: [UInt8]) {
        let k = n % keys
        switch self {
        case .encrypt100, .bare: return ("Encrypt", Self.json(["KeyId": f.symmetric[k], "Plaintext": Self.plain100]))
        case .encrypt4k: return ("Encrypt", Self.json(["KeyId": f.symmetric[k], "Plaintext": Self.plain4k]))
        case .decrypt: return ("Decrypt", Self.json(["CiphertextBlob": f.blobs[k]]))
        case .generateDataKey: return ("GenerateDataKey", Self.json(["KeyId": f.symmetric[k], "KeySpec": "AES_256"]))
        case .generateMac: return ("GenerateMac", Self.json(["KeyId": f.hmac[0], "Message": Self.plain100, "MacAlgorithm": "HMAC_SHA_256"]))
        case .signP256: return ("Sign", Self.json(["KeyId": f.p256[0], "Message": Self.plain100, "SigningAlgorithm": "ECDSA_SHA_256"]))
        case .signEd25519: return ("Sign", Self.json(["KeyId": f.ed25519[0], "Message": Self.plain100, "SigningAlgorithm": "ED25519_SHA_512"]))
        case .signRSA2048: return ("Sign", Self.json(["KeyId": f.rsa2048[0], "Message": Self.plain100, "SigningAlgorithm": "RSASSA_PSS_SHA_256"]))
        case .describeKey: return ("DescribeKey", Self.json(["KeyId": f.symmetric[k]]))
        case .createKey: return ("CreateKey", Self.json(["Description": "load"]))
        case .reads:
            return n % 2 == 0 ? Scenario.encrypt100.request(n / 2, f, keys: keys) : Scenario.decrypt.request(n / 2, f, keys: keys)
        case .readsWithWrites:
            guard n % 20 == 19 else { return Scenario.reads.request(n, f, keys: keys) }
            let key = f.symmetric[(n / 20) % keys]
            switch (n / 20) % 3 {
            case 0:
                let grantee = "arn:aws:iam::111122223333:root"  // a grantee must exist: the benchmark's own account
                return ("CreateGrant", Self.json(["KeyId": key, "GranteePrincipal": grantee, "Operations": ["Decrypt"]]))
            case 1: return ("TagResource", Self.json(["KeyId": key, "Tags": [["TagKey": "load", "TagValue": "\(n)"]]]))
            default: return ("UntagResource", Self.json(["KeyId": key, "TagKeys": ["load"]]))
            }
        case .mixed:
            // 80 % GenerateDataKey/Decrypt, 15 % Encrypt, 5 % management (DescribeKey).
            switch n % 20 {
            case 0..<8: return Scenario.generateDataKey.request(n, f, keys: keys)
            case 8..<16: return Scenario.decrypt.request(n, f, keys: keys)
            case 16..<19: return Scenario.encrypt100.request(n, f, keys: keys)
            default: return Scenario.describeKey.request(n, f, keys: keys)
            }
        }
    }

    private static let plain100 = Data(repeating: 0x61, count: 100).base64EncodedString()
    private static let plain4k = Data(repeating: 0x62, count: 4096).base64EncodedString()

    private static func json(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}
