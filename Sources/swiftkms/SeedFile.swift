import Foundation
import KMSCore
import KMSService
import Yams

/// A seed file (`serve --seed FILE`): YAML, or JSON (which YAML reads too), made into a
/// `JSONValue` for `Seed` to check. Errors name the file, the entry and the field.
enum SeedFile {
    /// Larger seed files are refused: a seed declares keys, not data.
    static let maximumSize = 16 << 20

    static func load(_ path: String) throws -> Seed {
        func failure(_ message: String) -> CommandFailure { CommandFailure("seed file \(path): \(message)") }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int else {
            throw failure("cannot be read.")
        }
        guard size <= maximumSize else { throw failure("is larger than \(maximumSize >> 20) MiB.") }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw failure("is not UTF-8 text.")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw failure("is not YAML or JSON: \(error)")
        }
        do throws(SeedError) {
            return try Seed(try document(root ?? .mapping(Node.Mapping([])), at: ""))
        } catch {
            throw failure(error.description)
        }
    }

    /// The node as JSON: mappings with string keys, sequences, and scalars by their YAML type
    /// (a quoted or unresolvable scalar is a string; timestamps stay text).
    static func document(_ node: Node, at path: String) throws(SeedError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag {
            case Yams.Tag(.bool): return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Yams.Tag(.int): return node.int.map { .number(Double($0)) } ?? .string(scalar.string)
            case Yams.Tag(.float): return node.float.map(JSONValue.number) ?? .string(scalar.string)
            case Yams.Tag(.null): return .null
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let name) = key else { throw SeedError(path, "member names must be strings.") }
                let member = path.isEmpty ? name.string : "\(path).\(name.string)"
                guard members.updateValue(try document(value, at: member), forKey: name.string) == nil else {
                    throw SeedError(member, "is given twice.")
                }
            }
            return .object(members)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() { items.append(try document(item, at: "\(path)[\(index)]")) }
            return .array(items)
        case .alias:
            throw SeedError(path, "YAML aliases are not read in seed files; write the value out.")
        }
    }
}
