import ArgumentParser
import Foundation
import KMSAuditExport
import KMSService
import KMSStorage
import Logging

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look up, verify, export and prune the audit trail (CloudTrail-format events, hash-chained, with signed checkpoints).",
        subcommands: [Lookup.self, Verify.self, Export.self, Prune.self, Checkpoint.self, PublicKey.self])

    /// The trail of the data directory; `signing` when the command signs (it then needs the root key).
    static func ledger(_ data: DataDirectoryOptions, signing: Bool = true) async throws -> AuditLedger {
        var logger = Logger(label: "swiftkms.audit")
        logger.logLevel = .warning
        guard signing else { return AuditLedger(store: try await DataDirectory.existingStore(options: data, logger: logger), rootKey: nil) }
        let directory = try await DataDirectory(options: data, callDeadline: .seconds(600), logger: logger)
        return AuditLedger(store: directory.store, rootKey: directory.rootKey)
    }

    static func parseTime(_ text: String?, option: String) throws -> Date? {
        guard let text else { return nil }
        if let date = AuditTime.parseISO8601(text) { return date }
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        throw ValidationError("\(option) must be an ISO 8601 time (2026-11-22T10:00:00Z) or epoch seconds.")
    }

    struct Lookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events matching every filter given, newest first (as CloudTrail's LookupEvents).")
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "Events at or after this time (ISO 8601 or epoch seconds).") var startTime: String?
        @Option(help: "Events before this time.") var endTime: String?
        @Option(help: "Operation name, e.g. Decrypt.") var eventName: String?
        @Option(help: "userIdentity.userName: a user, role or service name, or root.") var username: String?
        @Option(help: "A key ID or key ARN the event names in resources.") var resourceName: String?
        @Option(help: "The access key that signed the request.") var accessKeyId: String?
        @Option(help: "true: reads and cryptographic operations only; false: changes only.") var readOnly: Bool?
        @Flag(help: "Only requests that failed (errorCode set).") var errorsOnly = false
        @Option(help: "At most this many events.") var maxResults = 50
        @Option(help: "table or json (CloudTrail records, one JSON array).") var output = "table"

        func validate() throws {
            guard ["table", "json"].contains(output) else { throw ValidationError("--output must be table or json.") }
            guard (1...100_000).contains(maxResults) else { throw ValidationError("--max-results must be 1–100000.") }
        }

        func run() async throws {
            var keyID = resourceName
            if let name = resourceName, name.hasPrefix("arn:"), let slash = name.lastIndex(of: "/") {
                keyID = String(name[name.index(after: slash)...])
            }
            let query = AuditQuery(
                startTime: try Audit.parseTime(startTime, option: "--start-time"), endTime: try Audit.parseTime(endTime, option: "--end-time"),
                eventName: eventName, userName: username, keyID: keyID, accessKeyID: accessKeyId, readOnly: readOnly,
                errorsOnly: errorsOnly, limit: maxResults)
            let events = try await Audit.ledger(data, signing: false).lookup(query)
            if output == "json" {
                print(String(decoding: JSONValue.array(events).canonicalBytes, as: UTF8.self))
                return
            }
            let rows = events.map { event -> [String] in
                let identity = event[member: "userIdentity"]
                let who =
                    identity?[member: "arn"]?.stringValue ?? identity?[member: "invokedBy"]?.stringValue
                    ?? identity?[member: "accessKeyId"]?.stringValue.map { "unknown key \($0)" } ?? "unknown"
                var resource = "-"
                if case .array(let resources)? = event[member: "resources"], let first = resources.first?[member: "ARN"]?.stringValue {
                    resource = String(first.split(separator: "/").last ?? "-")
                }
                return [
                    event[member: "eventTime"]?.stringValue ?? "", event[member: "eventName"]?.stringValue ?? "", who, resource,
                    event[member: "sourceIPAddress"]?.stringValue ?? "-", event[member: "errorCode"]?.stringValue ?? "-",
                ]
            }
            printTable(["TIME", "EVENT", "WHO", "RESOURCE", "SOURCE IP", "ERROR"], rows)
        }

        private func printTable(_ header: [String], _ rows: [[String]]) {
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for row in [header] + rows {
                print(
                    row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                        .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check the audit trail: every chain link and every signed checkpoint in the database, or an export directory (--export) with the public key alone. Names the first broken link; exits 1 when there is one."
        )
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "Verify this export directory instead of the database (needs --public-key).") var export: String?
        @Option(help: "PEM file of the audit public key (from `audit public-key`). Without it, the database's copy is used.") var publicKey: String?

        func run() async throws {
            var key: AuditVerifyingKey?
            if let publicKey {
                guard let pem = try? String(contentsOfFile: publicKey, encoding: .utf8), let parsed = AuditVerifyingKey(pem: pem) else {
                    throw CommandFailure("\(publicKey) does not hold a P-256 public key in PEM.")
                }
                key = parsed
            }
            if let export {
                guard let key else { throw ValidationError("--export needs --public-key.") }
                let result = try AuditExportDirectory(URL(fileURLWithPath: export)).verify(key: key)
                try report(result.problem, "\(result.digestFiles) digest files, \(result.logFiles) log files, \(result.events) events")
                return
            }
            let result = try await Audit.ledger(data, signing: false).verify(key: key)
            try report(result.problem, "\(result.chains) chains, \(result.events) events, \(result.checkpoints) signed checkpoints")
        }

        private func report(_ problem: AuditProblem?, _ counts: String) throws {
            if let problem {
                print("FAILED: \(problem)")
                print("checked before the failure: \(counts)")
                throw ExitCode(1)
            }
            print("OK: \(counts) verified")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the events not yet exported to DIR as CloudTrail log files (gzip) with a signed digest file.")
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "Export directory (created if absent); exports into one directory continue one another.") var out: String
        @Option(help: "Minutes one log file covers.") var intervalMinutes = 60

        func run() async throws {
            let ledger = try await Audit.ledger(data)
            let exporter = AuditExporter(ledger: ledger, signingKey: try await ledger.signingKey(), intervalMinutes: intervalMinutes)
            let summary = try await exporter.export(to: URL(fileURLWithPath: out))
            print("exported \(summary.events) events in \(summary.logFiles.count) log files" + (summary.digestFile.map { "; digest \($0)" } ?? ""))
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export events older than N days to DIR, then delete them from the database; what remains still verifies.")
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "Keep events of the last N days.") var olderThanDays: Int
        @Option(help: "Export directory the pruned events are written to first.") var exportDir: String

        func validate() throws {
            guard olderThanDays >= 1 else { throw ValidationError("--older-than-days must be at least 1.") }
        }

        func run() async throws {
            let ledger = try await Audit.ledger(data)
            let pruned = try await AuditRetention(
                ledger: ledger, signingKey: try await ledger.signingKey(), exportDirectory: URL(fileURLWithPath: exportDir)
            )
            .run(olderThan: .seconds(Double(olderThanDays) * 86_400))
            print("exported and pruned \(pruned) events")
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a checkpoint of where every chain stands now (the server does this by itself).")
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            if let checkpoint = try await Audit.ledger(data).checkpoint() {
                print(
                    "signed checkpoint at \(AuditTime.iso8601(checkpoint.time)): "
                        + checkpoint.chains.map { "\($0.chain) through \($0.headSequence)" }.joined(separator: ", "))
            } else {
                print("nothing changed since the last checkpoint")
            }
        }
    }

    struct PublicKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the audit signing key's public key (PEM), for `audit verify --public-key`.")
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            let ledger = try await Audit.ledger(data, signing: false)
            guard let key = try await ledger.verifyingKey() else { throw CommandFailure("no audit signing key") }
            print(key.pem)
        }
    }
}
