import ArgumentParser
import Foundation
import KMSCore
import KMSService
import Yams

extension Admin {
    /// The account's keys, aliases, users and roles as a seed file for `serve --seed`.
    struct ExportSeed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-seed",
            abstract:
                "Write the account's customer managed keys (with aliases, tags, policies, rotation, replicas), users and roles as a seed file (YAML) for serve --seed.",
            discussion: """
                Key material is written only with --include-key-material: each key's current
                material, in the clear (base64, or PKCS#8 PEM for a key pair), so the file is then
                as secret as the keys. Access keys' secrets are never written. Keys of other
                origins (imported, custom key stores) and AWS managed keys are left out.
                """)
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "A region whose keys to write; repeatable. (default: every region AWS has)") var region: [String] = []
        @Flag(help: "Write each key's current material, in the clear.") var includeKeyMaterial = false
        @Option(help: "File to write (mode 0600); standard output when absent.") var output: String?

        func run() async throws {
            let logger = Admin.quietLogger
            let directory = try await DataDirectory(options: data, logger: logger)
            let service = KeyManagementService(store: directory.store, rootKey: directory.rootKey, auditChain: "admin", logger: logger)
            let document = try await service.seedDocument(
                account: data.resolvedAccountID, regions: region.isEmpty ? Self.awsRegions : region, includingMaterial: includeKeyMaterial)
            let text =
                "# swiftkms admin export-seed, account \(data.resolvedAccountID)\(includeKeyMaterial ? " (holds key material: keep it secret)" : "")\n"
                + (try Yams.serialize(node: Self.node(document), sortKeys: true))
            if let output {
                try DataDirectory.writeOwnerOnly(output, contents: text)
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }

        static func node(_ value: JSONValue) -> Node {
            switch value {
            case .null: return Node("null", Yams.Tag(.null))
            case .bool(let flag): return Node(flag ? "true" : "false", Yams.Tag(.bool))
            case .number(let n): return n.rounded() == n && abs(n) < 1e15 ? Node(String(Int64(n)), Yams.Tag(.int)) : Node(String(n), Yams.Tag(.float))
            case .string(let text):
                // Quoted when YAML would read it plain as something else (2012-10-17, true, 1e3).
                let style: Node.Scalar.Style = text.contains("\n") ? .literal : Node(text).tag == Yams.Tag(.str) ? .any : .singleQuoted
                return Node(text, Yams.Tag(.str), style)
            case .array(let items): return Node(items.map(node))
            case .object(let members): return Node(members.sorted { $0.key < $1.key }.map { (Node($0.key), node($0.value)) })
            }
        }

        /// AWS's regions (2026), where an account's keys may be.
        static let awsRegions = [
            "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
            "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1",
            "ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2",
            "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1", "me-central-1", "mx-central-1",
            "sa-east-1", "us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1",
        ]
    }
}
