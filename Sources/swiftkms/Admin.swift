import ArgumentParser
import Foundation
import KMSService
import Logging

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the users and access keys of an account, working on the data directory (the server may be running).",
        subcommands: [CreateUser.self, ListUsers.self, CreateAccessKey.self, DeleteAccessKey.self])

    /// Opens the data directory quietly (admin output is for the terminal, not logs).
    static func credentials(_ data: DataDirectoryOptions) throws -> Credentials {
        var logger = Logger(label: "swiftkms.admin")
        logger.logLevel = .warning
        let directory = try DataDirectory(options: data, logger: logger)
        return Credentials(store: directory.store, rootKey: directory.rootKey)
    }

    static func printIssued(_ issued: Credentials.IssuedAccessKey) {
        print("""
            {"UserArn": "\(issued.principal.arn)", "AccessKeyId": "\(issued.accessKeyID)", "SecretAccessKey": "\(issued.secretAccessKey)"}
            """)
    }

    struct CreateUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create user arn:aws:iam::ACCOUNT:user/NAME with an access key; prints the key's secret once.")
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "User name: 1–64 letters, digits and +=,.@_-") var name: String

        func run() async throws {
            Admin.printIssued(try await Admin.credentials(data).createUser(account: data.resolvedAccountID, name: name))
        }
    }

    struct ListUsers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the account's principals and their access key IDs (never secrets).")
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            for (principal, keys) in try await Admin.credentials(data).listUsers(account: data.resolvedAccountID) {
                print("\(principal.arn)\t\(keys.joined(separator: ","))")
            }
        }
    }

    struct CreateAccessKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an access key to an existing user; prints its secret once.")
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "User name") var userName: String

        func run() async throws {
            Admin.printIssued(try await Admin.credentials(data).createAccessKey(account: data.resolvedAccountID, userName: userName))
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
}
