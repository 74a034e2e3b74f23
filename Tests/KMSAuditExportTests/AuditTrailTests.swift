import Foundation
import GRDB
import KMSAuditExport
import KMSService
import KMSStorage
import KMSStorageSQLite
import Testing

/// The audit trail over the real SQLite store: events recorded through the service, then the
/// database or an export tampered with the ways an intruder would, and each caught.
@Suite final class AuditTrailTests {
    let directory: URL
    let store: SQLiteStore
    let rootKey: RootKey
    let service: KeyManagementService
    let ledger: AuditLedger
    var databasePath: String { directory.appendingPathComponent("kms.sqlite3").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("kms.sqlite3").path)
        rootKey = try RootKey(rawBytes: RootKey.generateRawBytes())
        service = KeyManagementService(store: store, rootKey: rootKey, auditChain: "node-a")
        ledger = AuditLedger(store: store, rootKey: rootKey)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func context(_ operation: String, parameters: JSONValue = .object([:])) -> RequestContext {
        var context = RequestContext(
            principal: .root(account: "111122223333"), region: "us-east-1", requestID: UUID().uuidString,
            sourceIP: "192.0.2.7", accessKeyID: "AKIAEXAMPLE", userAgent: "tests")
        context.beginAudit(operation: operation, requestParameters: parameters, at: Date())
        return context
    }

    /// Ten events: a key created, then encryptions (group-committed) and a refused call.
    @discardableResult
    func recordSome() async throws -> KMSKey {
        let create = context("CreateKey")
        let key = try await service.createKey(KeyManagementService.CreateKeyInput(), create)
        try await service.finishAudit(create, error: nil)
        for i in 0..<8 {
            let encrypt = context("Encrypt", parameters: .object(["keyId": .string(key.id)]))
            _ = try await service.encrypt(
                keyID: key.id, plaintext: Data("secret \(i)".utf8), context: EncryptionContext([:]), algorithm: nil, dryRun: nil, encrypt)
            try await service.finishAudit(encrypt, error: nil)
        }
        let refused = context("DisableKey")
        try await service.finishAudit(refused, error: KMSError(.accessDenied, "denied"))
        return key
    }

    func sql(_ statement: String) throws {
        let queue = try DatabaseQueue(path: databasePath)
        try queue.write { try $0.execute(sql: statement) }
    }

    func problem() async throws -> String? {
        try await ledger.verify().problem?.description
    }

    @Test func intactTrailVerifiesAndRecordsWhatHappened() async throws {
        let key = try await recordSome()
        try await ledger.checkpoint()
        let result = try await ledger.verify()
        #expect(result.problem == nil)
        #expect(result.events == 10)
        #expect(result.checkpoints == 1)
        let encrypts = try await ledger.lookup(AuditQuery(eventName: "Encrypt", keyID: key.id, limit: 100))
        #expect(encrypts.count == 8)
        let create = try #require(try await ledger.lookup(AuditQuery(eventName: "CreateKey")).first)
        #expect(create[member: "responseElements"]?[member: "keyMetadata"]?[member: "keyId"]?.stringValue == key.id)
        #expect(create[member: "userIdentity"]?[member: "type"]?.stringValue == "Root")
        let denied = try await ledger.lookup(AuditQuery(errorsOnly: true))
        #expect(denied.count == 1 && denied[0][member: "errorCode"]?.stringValue == "AccessDeniedException")
        // The plaintexts never reach an event.
        let all = try await ledger.lookup(AuditQuery(limit: 1000)).map { String(decoding: $0.canonicalBytes, as: UTF8.self) }
        #expect(!all.contains { $0.contains("secret ") || $0.contains(Data("secret 1".utf8).base64EncodedString()) })
    }

    @Test func deletedEventIsCaught() async throws {
        try await recordSome()
        try sql("DELETE FROM audit_event WHERE seq = 4")
        let found = try await problem()
        #expect(found?.contains("event 4 is missing") == true, "\(found ?? "none")")
    }

    @Test func reorderedEventsAreCaught() async throws {
        try await recordSome()
        try sql(
            "UPDATE audit_event SET seq = -1 WHERE seq = 3; UPDATE audit_event SET seq = 3 WHERE seq = 4; UPDATE audit_event SET seq = 4 WHERE seq = -1"
        )
        let found = try await problem()
        #expect(found?.contains("reordered") == true, "\(found ?? "none")")
    }

    @Test func alteredEventIsCaught() async throws {
        try await recordSome()
        try sql("UPDATE audit_event SET record = CAST(replace(CAST(record AS TEXT), '192.0.2.7', '198.51.100.1') AS BLOB) WHERE seq = 5")
        let found = try await problem()
        #expect(found?.contains("link from sequence 5") == true, "\(found ?? "none")")
    }

    @Test func insertedEventIsCaught() async throws {
        try await recordSome()
        try sql(
            """
            UPDATE audit_event SET seq = -seq WHERE seq >= 6;
            UPDATE audit_event SET seq = 1 - seq WHERE seq < 0;
            UPDATE audit_chain SET head_seq = head_seq + 1;
            INSERT INTO audit_event (chain, seq, event_ms, event_name, read_only, record)
                SELECT chain, 6, event_ms, event_name, read_only, record FROM audit_event WHERE seq = 2
            """)
        let found = try await problem()
        #expect(found?.contains("stored at sequence 6 but was sealed at 2") == true, "\(found ?? "none")")
    }

    @Test func removedTailAndRewrittenChainAreCaughtByCheckpoints() async throws {
        try await recordSome()
        try await ledger.checkpoint()
        // Cutting the end and moving the head back: consistent links, but the checkpoint says more.
        let head = try #require(try await store.auditEvents(chain: "node-a", afterSequence: 8, limit: 1).first)
        try sql("DELETE FROM audit_event WHERE seq > 9; UPDATE audit_chain SET head_seq = 9, head_digest = x'\(Hex.encode(head.digest))'")
        let found = try await problem()
        #expect(found?.contains("events removed from its end") == true, "\(found ?? "none")")
    }

    @Test func forgedCheckpointIsCaught() async throws {
        try await recordSome()
        try await ledger.checkpoint()
        try sql("UPDATE audit_checkpoint SET statement = CAST(replace(CAST(statement AS TEXT), '\"headSequence\":10', '\"headSequence\":9') AS BLOB)")
        let found = try await problem()
        #expect(found?.contains("signature does not verify") == true, "\(found ?? "none")")
    }

    @Test func stateChangeAndItsEventCommitTogether() async throws {
        let key = try await recordSome()
        // A refused change records a refusal and changes nothing.
        let schedule = context("ScheduleKeyDeletion")
        do {
            _ = try await service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: 3, schedule)
            Issue.record("expected a ValidationException")
        } catch {
            try await service.finishAudit(schedule, error: error)
        }
        #expect(try await store.key(id: key.id, region: key.region)?.state == .enabled)
        let ok = context("ScheduleKeyDeletion")
        _ = try await service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: 7, ok)
        #expect(ok.audit.isRecorded)  // committed with the change, not after it
        try await service.finishAudit(ok, error: nil)
        let events = try await ledger.lookup(AuditQuery(eventName: "ScheduleKeyDeletion"))
        #expect(events.count == 2)
        #expect(events[0][member: "responseElements"]?[member: "keyState"]?.stringValue == "PendingDeletion")
        #expect(events[1][member: "errorCode"]?.stringValue == "ValidationException")
    }

    @Test func administrationIsAuditedWithoutSecrets() async throws {
        let credentials = Credentials(store: store, rootKey: rootKey)
        let issued = try await credentials.createPrincipal(.user, account: "111122223333", name: "erin")
        try await credentials.attachPolicy(
            to: issued.principal, name: "kms",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}"#)
        try await credentials.deleteAccessKey(id: issued.accessKeyID)
        let names = try await ledger.lookup(AuditQuery(userName: "swiftkms-admin")).compactMap { $0[member: "eventName"]?.stringValue }
        #expect(names == ["DeleteAccessKey", "PutUserPolicy", "CreateAccessKey", "CreateUser"])
        let put = try #require(try await ledger.lookup(AuditQuery(eventName: "PutUserPolicy")).first)
        #expect(put[member: "eventSource"]?.stringValue == "iam.amazonaws.com")
        #expect(put[member: "requestParameters"]?[member: "userName"]?.stringValue == "erin")
        let all = try await ledger.lookup(AuditQuery(limit: 100)).map { String(decoding: $0.canonicalBytes, as: UTF8.self) }.joined()
        #expect(all.contains(issued.accessKeyID) && !all.contains(issued.secretAccessKey))
        #expect(try await ledger.verify().problem == nil)
    }

    @Test func keyDeletedByTheServiceIsAServiceEvent() async throws {
        let clock = TestClock()
        let service = KeyManagementService(store: store, rootKey: rootKey, clock: clock, auditChain: "node-b")
        var create = RequestContext(principal: .root(account: "111122223333"), region: "us-east-1", requestID: "r1")
        create.beginAudit(operation: "CreateKey", requestParameters: .object([:]), at: clock.now())
        let key = try await service.createKey(KeyManagementService.CreateKeyInput(), create)
        var schedule = create
        schedule.beginAudit(operation: "ScheduleKeyDeletion", requestParameters: .object([:]), at: clock.now())
        _ = try await service.scheduleKeyDeletion(keyID: key.id, pendingWindowInDays: 7, schedule)
        clock.advance(by: 8 * 86_400)
        #expect(try await service.deleteKeysDueForDeletion() == [key.id])
        let event = try #require(try await ledger.lookup(AuditQuery(eventName: "DeleteKey")).first)
        #expect(event[member: "eventType"]?.stringValue == "AwsServiceEvent")
        #expect(event[member: "userIdentity"]?[member: "invokedBy"]?.stringValue == "kms.amazonaws.com")
        #expect(try await ledger.verify().problem == nil)
    }

    @Test func prunedTrailStillVerifiesAndItsExportToo() async throws {
        try await recordSome()
        try await ledger.checkpoint()
        let exportDir = directory.appendingPathComponent("export")
        let retention = AuditRetention(ledger: ledger, signingKey: try await ledger.signingKey(), exportDirectory: exportDir)
        // Everything is older than "now + 1 day" minus zero days: all ten go.
        let pruned = try await retention.run(olderThan: .seconds(0), now: Date().addingTimeInterval(86_400))
        #expect(pruned == 10)
        try await recordSome()
        let result = try await ledger.verify()
        #expect(result.problem == nil, "\(result.problem?.description ?? "")")
        #expect(result.events == 10)
        // A pruned start that no checkpoint attests is caught.
        try sql("DELETE FROM audit_event WHERE seq = 11; UPDATE audit_chain SET base_seq = 11")
        #expect(try await problem() != nil)
        // The export holds the pruned ten and verifies with the public key alone.
        let key = try #require(try await ledger.verifyingKey())
        let exported = try AuditExportDirectory(exportDir).verify(key: key)
        #expect(exported.problem == nil && exported.events == 10, "\(exported.problem?.description ?? "")")
    }

    // MARK: Exports

    /// Records ten more events and exports the whole trail to a new directory, in one log
    /// file (a year-long interval: the events of a test never straddle two).
    func export() async throws -> (URL, AuditVerifyingKey) {
        try await recordSome()
        let out = directory.appendingPathComponent("export-\(UUID().uuidString)")
        let summary = try await AuditExporter(ledger: ledger, signingKey: try await ledger.signingKey(), intervalMinutes: 525_600).export(to: out)
        #expect(summary.logFiles.count == 1)
        return (out, try #require(try await ledger.verifyingKey()))
    }

    func logFile(_ out: URL) throws -> URL {
        let base = out.appendingPathComponent("AWSLogs")
        let walker = try #require(FileManager.default.enumerator(atPath: base.path))
        while let item = walker.nextObject() as? String {
            if item.contains("_CloudTrail_") { return base.appendingPathComponent(item) }
        }
        throw ExportError(description: "no log file")
    }

    struct ExportError: Error { var description: String }

    /// Rewrites the one log file's records with `change`, keeping it valid gzip'd JSON.
    func tamper(_ out: URL, _ change: (inout [JSONValue]) -> Void) throws {
        let file = try logFile(out)
        let content = try Self.gunzip(Array(try Data(contentsOf: file)))
        guard case .array(var records)? = JSONValue.parse(bytes: content)?[member: "Records"] else { throw ExportError(description: "not a log") }
        change(&records)
        var bytes = Array(#"{"Records":["#.utf8)
        for (i, record) in records.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += record.canonicalBytes
        }
        bytes += Array("]}".utf8)
        try Data(try Self.gzip(bytes)).write(to: file)
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] { try run(["gzip", "-c"], bytes) }
    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] { try run(["gzip", "-dc"], bytes) }
    static func run(_ arguments: [String], _ input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(output)
    }

    @Test func intactExportVerifiesWithThePublicKeyAlone() async throws {
        let (out, key) = try await export()
        let result = try AuditExportDirectory(out).verify(key: key)
        #expect(result.problem == nil && result.events == 10 && result.digestFiles == 1, "\(result.problem?.description ?? "")")
        // Incremental: a second export continues the first, and both verify as one.
        try await recordSome()
        let second = try await AuditExporter(ledger: ledger, signingKey: try await ledger.signingKey(), intervalMinutes: 525_600).export(to: out)
        #expect(second.events == 10)
        let both = try AuditExportDirectory(out).verify(key: key)
        #expect(both.problem == nil && both.events == 20 && both.digestFiles == 2, "\(both.problem?.description ?? "")")
    }

    @Test func exportTamperingIsCaught() async throws {
        let cases: [(String, (inout [JSONValue]) -> Void, String)] = [
            ("delete", { $0.remove(at: 3) }, "event 4 is missing"),
            ("reorder", { $0.swapAt(2, 3) }, "does not match the SHA-256"),
            (
                "alter",
                { records in
                    guard case .object(var r) = records[4] else { return }
                    r["sourceIPAddress"] = .string("198.51.100.1")
                    records[4] = .object(r)
                }, "link from sequence 5"
            ),
            ("insert", { $0.insert($0[1], at: 6) }, "reordered or duplicated"),
        ]
        for (name, change, expected) in cases {
            let (out, key) = try await export()
            try tamper(out, change)
            let found = try AuditExportDirectory(out).verify(key: key).problem?.description
            #expect(found?.contains(expected) == true, "\(name): \(found ?? "none")")
            try FileManager.default.removeItem(at: out)
        }
    }
}

final class TestClock: KMSClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date()
    func now() -> Date { lock.withLock { current } }
    func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }
}
