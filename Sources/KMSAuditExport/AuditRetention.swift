import Foundation
import KMSService

/// Retention: events older than the retention period are exported, then pruned.
public struct AuditRetention: Sendable {
    let ledger: AuditLedger
    let signingKey: AuditSigningKey
    let exportDirectory: URL

    public init(ledger: AuditLedger, signingKey: AuditSigningKey, exportDirectory: URL) {
        self.ledger = ledger
        self.signingKey = signingKey
        self.exportDirectory = exportDirectory
    }

    /// Exports (durably) then prunes the events recorded more than `age` ago.
    ///
    /// - Returns: how many events were pruned.
    public func run(olderThan age: Duration, now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-Double(age.components.seconds))
        let boundary = try await ledger.pruneBoundary(before: cutoff)
        guard !boundary.isEmpty else { return 0 }
        _ = try await AuditExporter(ledger: ledger, signingKey: signingKey).export(to: exportDirectory, through: boundary, now: now)
        let exported = try AuditExportDirectory(exportDirectory).exported().through
        for (chain, last) in boundary where (exported[chain] ?? 0) < last {
            throw ExportError("\(exportDirectory.path) does not hold chain \(chain) through sequence \(last); nothing was pruned")
        }
        let before = try await ledger.chains()
        try await ledger.prune(through: boundary)
        // A segment that straddles the boundary stays whole: count where the bases moved to.
        return try await ledger.chains().reduce(0) { total, chain in
            total + Int(chain.baseSequence - (before.first { $0.chain == chain.chain }?.baseSequence ?? chain.baseSequence))
        }
    }
}
