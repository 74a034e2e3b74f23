import ArgumentParser
import Foundation
import KMSService
import Logging

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Manage the principals of an account (users, roles, service principals), their access keys, identity policies and tags, and AWS managed keys; back up and restore; make a TLS certificate. Works on the data directory (the server may be running).",
        subcommands: [
            CreateUser.self, CreateRole.self, CreateServicePrincipal.self, ListPrincipals.self, DeletePrincipal.self,
            CreateAccessKey.self, DeleteAccessKey.self,
            AttachPolicy.self, ListPolicies.self, DetachPolicy.self,
            TagPrincipal.self, UntagPrincipal.self, ListPrincipalTags.self, CreateAWSManagedKey.self, Migrate.self, CreateTLSCertificate.self,
            Backup.self, Restore.self, VerifyBackup.self, RegisterHSMCluster.self, ListHSMClusters.self, SealRootKey.self, ExportSeed.self,
        ])

    /// The admin commands' logger: warnings only (their output is for the terminal, not logs).
    static var quietLogger: Logger {
        var logger = Logger(label: "swiftkms.admin")
        logger.logLevel = .warning
        return logger
    }

    /// Opens the data directory quietly.
    static func credentials(_ data: DataDirectoryOptions) async throws -> Credentials {
        let directory = try await DataDirectory(options: data, logger: quietLogger)
        return Credentials(store: directory.store, rootKey: directory.rootKey)
    }

    static func printIssued(_ issued: Credentials.IssuedAccessKey) throws {
        try printJSON(["Arn": issued.principal.arn, "AccessKeyId": issued.accessKeyID, "SecretAccessKey": issued.secretAccessKey])
    }

    /// Creates a principal with an access key and prints the key, secret included, this once.
    static func create(_ kind: Principal.Kind, _ name: String, _ data: DataDirectoryOptions) async throws {
        try printIssued(try await credentials(data).createPrincipal(kind, account: data.resolvedAccountID, name: name))
    }

    static func printJSON(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    /// `--principal`: `root`, `user/NAME`, `role/NAME`, `service/NAME`, or the ARN of a root, user or role.
    struct PrincipalOptions: ParsableArguments {
        @OptionGroup var data: DataDirectoryOptions
        @Option(
            help:
                "The principal: root, user/NAME, role/NAME, service/NAME, or arn:aws:iam::ACCOUNT:user/NAME (the ARN's account wins over --account-id)"
        )
        var principal: String

        func resolved() throws -> Principal {
            if principal.hasPrefix("arn:") {
                let parts = principal.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
                if parts.count == 6, parts[2] == "iam", let p = Principal(account: String(parts[4]), path: String(parts[5])) { return p }
                throw ValidationError("\(principal) is not the ARN of a root, user or role.")
            }
            guard let p = Principal(account: data.resolvedAccountID, path: principal) else {
                throw ValidationError("\(principal) is not root, user/NAME, role/NAME or service/NAME.")
            }
            return p
        }
    }

    struct CreateUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create user arn:aws:iam::ACCOUNT:user/NAME with an access key; prints the key's secret once. It may do nothing until a policy allows it."
        )
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "User name: 1–64 letters, digits and +=,.@_-") var name: String

        func run() async throws {
            try await Admin.create(.user, name, data)
        }
    }

    struct CreateRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create role arn:aws:iam::ACCOUNT:role/NAME with an access key of its own (requests signed with it act as the role); prints the secret once."
        )
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "Role name: 1–64 letters, digits and +=,.@_-") var name: String

        func run() async throws {
            try await Admin.create(.role, name, data)
        }
    }

    struct CreateServicePrincipal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Register a service principal (e.g. dynamodb.amazonaws.com) with an access key, so that policies and grants naming it can be exercised; prints the secret once."
        )
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "Service principal name, ending in .amazonaws.com") var service: String

        func run() async throws {
            try await Admin.create(.service, service, data)
        }
    }

    struct ListPrincipals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the account's principals and their access key IDs (never secrets), one per line.")
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            for (principal, keys) in try await Admin.credentials(data).listPrincipals(account: data.resolvedAccountID) {
                print("\(principal.arn)\t\(keys.joined(separator: ","))")
            }
        }
    }

    struct DeletePrincipal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user, role or service principal with its access keys, policies and tags.")
        @OptionGroup var options: PrincipalOptions

        func run() async throws {
            let principal = try options.resolved()
            try await Admin.credentials(options.data).deletePrincipal(principal)
            print("deleted \(principal.arn)")
        }
    }

    struct CreateAccessKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an access key to a principal (root included: this is how another account gets credentials); prints its secret once.")
        @OptionGroup var options: PrincipalOptions

        func run() async throws {
            try Admin.printIssued(try await Admin.credentials(options.data).createAccessKey(for: try options.resolved()))
        }
    }

    struct CreateAWSManagedKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-aws-managed-key",
            abstract:
                "Make the AWS managed key of a service (alias/aws/SERVICE) in the account and region, as the service does on first use; prints it (an existing one is printed as it is)."
        )
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "Service name, as in its alias: s3, dynamodb, secretsmanager, …") var service: String
        @Option(help: "Region of the key") var region = "us-east-1"

        func run() async throws {
            let logger = Admin.quietLogger
            let directory = try await DataDirectory(options: data, logger: logger)
            let service = KeyManagementService(store: directory.store, rootKey: directory.rootKey, auditChain: "admin", logger: logger)
            let key = try await service.awsManagedKey(service: self.service, account: data.resolvedAccountID, region: region)
            try Admin.printJSON(["KeyId": key.id, "Arn": key.arn, "AliasName": "alias/aws/\(self.service)", "KeyManager": key.keyManager.rawValue])
        }
    }

    struct DeleteAccessKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an access key; requests signed with it fail from then on.")
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "Access key ID") var accessKeyId: String

        func run() async throws {
            try await Admin.credentials(data).deleteAccessKey(id: accessKeyId)
            print("deleted \(accessKeyId)")
        }
    }

    struct AttachPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach (or replace) a named IAM identity policy of a user or role.")
        @OptionGroup var options: PrincipalOptions
        @Option(help: "Policy name") var policyName: String
        @Option(help: "The policy JSON, or file://PATH") var policyDocument: String

        func run() async throws {
            let document =
                policyDocument.hasPrefix("file://")
                ? try String(contentsOfFile: String(policyDocument.dropFirst("file://".count)), encoding: .utf8)
                : policyDocument
            try await Admin.credentials(options.data).attachPolicy(to: try options.resolved(), name: policyName, document: document)
            print("attached \(policyName)")
        }
    }

    struct ListPolicies: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a user's or role's identity policies as JSON ({name: document}).")
        @OptionGroup var options: PrincipalOptions

        func run() async throws {
            let policies = try await Admin.credentials(options.data).identityPolicies(of: try options.resolved())
            var out: [String: Any] = [:]
            for policy in policies { out[policy.name] = (try? JSONSerialization.jsonObject(with: Data(policy.document.utf8))) ?? policy.document }
            try Admin.printJSON(out)
        }
    }

    struct DetachPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a named identity policy from a user or role.")
        @OptionGroup var options: PrincipalOptions
        @Option(help: "Policy name") var policyName: String

        func run() async throws {
            try await Admin.credentials(options.data).detachPolicy(from: try options.resolved(), name: policyName)
            print("detached \(policyName)")
        }
    }

    struct TagPrincipal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set tags of a principal, seen by policies as aws:PrincipalTag/KEY.")
        @OptionGroup var options: PrincipalOptions
        @Argument(help: "Tags as KEY=VALUE") var tags: [String]

        func run() async throws {
            let parsed = try tags.map { pair -> Tag in
                guard let eq = pair.firstIndex(of: "=") else { throw ValidationError("\(pair) is not KEY=VALUE.") }
                return Tag(key: String(pair[..<eq]), value: String(pair[pair.index(after: eq)...]))
            }
            try await Admin.credentials(options.data).tagPrincipal(try options.resolved(), tags: parsed)
            print("tagged")
        }
    }

    struct UntagPrincipal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove tags of a principal by key.")
        @OptionGroup var options: PrincipalOptions
        @Argument(help: "Tag keys") var tagKeys: [String]

        func run() async throws {
            try await Admin.credentials(options.data).untagPrincipal(try options.resolved(), tagKeys: tagKeys)
            print("untagged")
        }
    }

    struct ListPrincipalTags: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a principal's tags as JSON.")
        @OptionGroup var options: PrincipalOptions

        func run() async throws {
            let tags = try await Admin.credentials(options.data).principalTags(of: try options.resolved())
            try Admin.printJSON(Dictionary(tags.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }))
        }
    }
}
