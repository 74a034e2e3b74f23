import ArgumentParser

@main
struct SwiftKMSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftkms",
        abstract: "A self-hosted key management service that speaks the AWS KMS API.",
        version: version,
        subcommands: [Serve.self, Admin.self, Audit.self, XKSProxyCommand.self])

    /// The release, exported as `swiftkms_build_info{version}`.
    static let version = "0.22.0"
}
