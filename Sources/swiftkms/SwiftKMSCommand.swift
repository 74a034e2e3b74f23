import ArgumentParser

@main
struct SwiftKMSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftkms",
        abstract: "A self-hosted key management service that speaks the AWS KMS API.",
        subcommands: [Serve.self, Admin.self, Audit.self])
}
