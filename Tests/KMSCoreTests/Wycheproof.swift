import Foundation

/// Loads a Wycheproof test file from the test bundle: groups of cases, each with a
/// `result` of `valid`, `acceptable` or `invalid`. Case fields are read as strings or numbers.
struct Wycheproof: Decodable {
    struct Group: Decodable {
        var keySize: Int?
        var ivSize: Int?
        var tagSize: Int?
        var tests: [Case]
        /// The group's string fields (`publicKeyDer`, `privateKeyPkcs8`, `sha`, ...).
        var fields: [String: String]

        private enum Keys: String, CodingKey { case keySize, ivSize, tagSize, tests }

        init(from decoder: any Decoder) throws {
            let known = try decoder.container(keyedBy: Keys.self)
            keySize = try known.decodeIfPresent(Int.self, forKey: .keySize)
            ivSize = try known.decodeIfPresent(Int.self, forKey: .ivSize)
            tagSize = try known.decodeIfPresent(Int.self, forKey: .tagSize)
            tests = try known.decode([Case].self, forKey: .tests)
            let all = try decoder.container(keyedBy: AnyKey.self)
            var fields: [String: String] = [:]
            for key in all.allKeys {
                if let text = try? all.decode(String.self, forKey: key) { fields[key.stringValue] = text }
            }
            self.fields = fields
        }

        func bytes(_ name: String) -> [UInt8] { [UInt8](hex: fields[name] ?? "") }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    struct Case: Decodable {
        var tcId: Int
        var result: String
        var fields: [String: String]
        var size: Int?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            var fields: [String: String] = [:]
            for key in container.allKeys {
                if let text = try? container.decode(String.self, forKey: key) { fields[key.stringValue] = text }
            }
            self.fields = fields
            let id = AnyKey(stringValue: "tcId")!
            tcId = try (try? container.decode(Int.self, forKey: id)) ?? Int(container.decode(String.self, forKey: id)) ?? -1
            result = try container.decode(String.self, forKey: AnyKey(stringValue: "result")!)
            size = try? container.decode(Int.self, forKey: AnyKey(stringValue: "size")!)
        }

        func bytes(_ name: String) -> [UInt8] { [UInt8](hex: fields[name] ?? "") }
    }

    var testGroups: [Group]

    static func load(_ name: String) throws -> Wycheproof {
        let url = Bundle.module.url(forResource: "Resources/wycheproof/\(name)", withExtension: "json")!
        return try JSONDecoder().decode(Wycheproof.self, from: Data(contentsOf: url))
    }
}
