import ArgumentParser
import Foundation
import KMSXKSProxy
import Logging
import ServiceLifecycle

/// `swiftkms xks-proxy`: an External Key Store proxy (AWS's XKS Proxy API) in front of a
/// PKCS#11 token, for SwiftKMS's external key stores or AWS KMS's.
struct XKSProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xks-proxy",
        abstract: "Run an XKS proxy (AWS's External Key Store Proxy API) in front of a PKCS#11 token.",
        subcommands: [Run.self, CreateKey.self, NewCredential.self, VerifyAuditLog.self],
        defaultSubcommand: Run.self)

    static let pinVariable = "SWIFTKMS_XKS_PKCS11_PIN"

    static func pin() throws -> String {
        guard let pin = ProcessInfo.processInfo.environment[pinVariable], !pin.isEmpty else {
            throw CommandFailure("Set \(pinVariable) to the PIN of the token's user.")
        }
        return pin
    }

    static func load(_ path: String) throws -> XKSProxyConfiguration {
        do { return try XKSProxyConfiguration.load(path: path) } catch { throw CommandFailure(error.description) }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Serve the XKS Proxy API over HTTPS (the default). SIGHUP reloads the configuration.")
        @Option(help: "The configuration file (JSON, mode 600).") var config: String
        @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.") var logLevel = "notice"

        func run() async throws {
            let configuration = try XKSProxyCommand.load(config)
            let level = Logger.Level(rawValue: logLevel) ?? .notice
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let logger = Logger(label: "swiftkms-xks-proxy")
            let app: any Service
            do {
                app = try XKSProxyServer.build(
                    configurationPath: config, configuration: configuration, pin: try XKSProxyCommand.pin(), logger: logger)
            } catch let error as CommandFailure {
                throw error
            } catch {
                throw CommandFailure("\(error)")
            }
            logger.notice(
                "XKS proxy listening",
                metadata: ["address": "https://\(configuration.listen)", "uriPaths": "\(configuration.uriPaths.map(\.uriPath))"])
            let group = ServiceGroup(
                configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            logger.notice("stopped")
        }
    }

    struct CreateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-key",
            abstract: "Generate an external key: a non-extractable AES-256 key in the token, labelled with its external key ID.")
        @Option(help: "The configuration file (its hsm section names the token).") var config: String
        @Option(help: "The external key ID (1 to 128 of A-Z a-z 0-9 - . _), given to CreateKey as XksKeyId.") var keyId: String
        @Option(help: "Allowed uses, comma-separated: ENCRYPT, DECRYPT.") var usage = "ENCRYPT,DECRYPT"

        func run() async throws {
            let uses = Set(usage.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() })
            guard uses.isSubset(of: ["ENCRYPT", "DECRYPT"]), !uses.isEmpty else {
                throw ValidationError("--usage takes ENCRYPT, DECRYPT or both.")
            }
            let configuration = try XKSProxyCommand.load(config)
            do {
                try await XKSProxyServer.createKey(
                    configuration: configuration, pin: try XKSProxyCommand.pin(), keyID: keyId, encrypt: uses.contains("ENCRYPT"),
                    decrypt: uses.contains("DECRYPT"))
            } catch let error as CommandFailure {
                throw error
            } catch {
                throw CommandFailure("\(error)")
            }
            try Admin.printJSON(["XksKeyId": keyId, "KeyUsage": uses.sorted(), "TokenLabel": configuration.hsm.tokenLabel])
        }
    }

    struct NewCredential: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-credential",
            abstract:
                "Print a new random SigV4 credential as the XKS proxy configuration file that KMS consoles take (add it to uriPaths too).")
        @Option(help: "The URI path it is for: /kms/xks/v1 or /PREFIX/kms/xks/v1.") var uriPath = "/kms/xks/v1"

        func run() async throws {
            var generator = SystemRandomNumberGenerator()
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            let accessKeyID = String((0..<26).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
            let secret = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
            try Admin.printJSON([
                "XksProxyUriPath": uriPath,
                "XksProxyAuthenticationCredential": ["AccessKeyId": accessKeyID, "RawSecretAccessKey": secret],
            ])
        }
    }

    struct VerifyAuditLog: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-audit-log", abstract: "Check the hash chain of an XKS proxy audit log; exits 1 at the first broken record.")
        @Argument(help: "The audit log file.") var file: String

        func run() async throws {
            let result: (records: Int, brokenAt: Int?)
            do { result = try XKSProxyServer.verifyAuditLog(path: file) } catch { throw CommandFailure("\(error)") }
            if let broken = result.brokenAt {
                print("audit log \(file): record \(broken) of \(result.records) breaks the chain")
                throw ExitCode(1)
            }
            print("audit log \(file): \(result.records) records, chain intact")
        }
    }
}
