import Foundation

/// The first thing found wrong with an audit trail, worded for the person running
/// `swiftkms audit verify`: which chain, which sequence numbers, which event IDs.
public struct AuditProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Checks one chain's events, fed in the order they are stored: each must be a sealed record
/// of this chain, at the next sequence number, linked to the digest of the one before.
public struct AuditChainVerifier: Sendable {
    public let chain: String
    public private(set) var lastSequence: Int64
    public private(set) var lastDigest: [UInt8]
    private var lastEventID: String
    /// Digests at the sequence numbers that checkpoints name.
    public private(set) var digests: [Int64: [UInt8]] = [:]
    private let wanted: Set<Int64>

    /// Starts after the pruned prefix (`baseSequence`, `baseDigest`).
    public init(chain: String, baseSequence: Int64, baseDigest: [UInt8], digestsWanted: Set<Int64> = []) {
        self.chain = chain
        lastSequence = baseSequence
        lastDigest = baseDigest
        lastEventID = baseSequence == 0 ? "(start of chain)" : "(last pruned event)"
        wanted = digestsWanted
        if wanted.contains(baseSequence) { digests[baseSequence] = baseDigest }
    }

    /// Checks the next stored event. `storedSequence` is the position the database gives it
    /// (nil for an export, where the order of records is the position).
    public mutating func consume(_ bytes: [UInt8], storedSequence: Int64?) -> AuditProblem? {
        guard let json = JSONValue.parse(bytes: bytes), let links = AuditChain.links(of: json) else {
            return AuditProblem("chain \(chain): the event after sequence \(lastSequence) (\(lastEventID)) is not a sealed audit record")
        }
        let eventID = json[member: "eventID"]?.stringValue ?? "(no eventID)"
        if links.chain != chain {
            return AuditProblem("chain \(chain): event \(eventID) was sealed in chain \(links.chain)")
        }
        if let storedSequence, storedSequence != links.sequence {
            return AuditProblem(
                "chain \(chain): event \(eventID) is stored at sequence \(storedSequence) but was sealed at \(links.sequence) (events reordered)")
        }
        if links.sequence > lastSequence + 1 {
            let missing =
                links.sequence - 1 == lastSequence + 1 ? "event \(lastSequence + 1) is" : "events \(lastSequence + 1)–\(links.sequence - 1) are"
            return AuditProblem(
                "chain \(chain): \(missing) missing between \(lastEventID) (sequence \(lastSequence)) and \(eventID) (sequence \(links.sequence))")
        }
        if links.sequence <= lastSequence {
            return AuditProblem(
                "chain \(chain): event \(eventID) (sequence \(links.sequence)) comes after sequence \(lastSequence) (events reordered or duplicated)")
        }
        if links.previousDigest != lastDigest {
            return AuditProblem(
                "chain \(chain): the link from sequence \(lastSequence) (\(lastEventID)) to sequence \(links.sequence) (\(eventID)) is broken: the first was altered, or the second inserted or altered"
            )
        }
        lastSequence = links.sequence
        lastDigest = AuditChain.digest(bytes)
        lastEventID = eventID
        if wanted.contains(lastSequence) { digests[lastSequence] = lastDigest }
        return nil
    }
}

/// Checks stored checkpoints: each signed by the key, each naming the signature of the one
/// before it; returns their statements, oldest first.
public func verifyAuditCheckpoints(_ signed: [SignedAuditCheckpoint], key: AuditVerifyingKey) -> Result<[AuditCheckpoint], AuditProblem> {
    var checkpoints: [AuditCheckpoint] = []
    var previous: [UInt8]?
    for (index, item) in signed.enumerated() {
        guard key.isValidSignature(item.signature, for: item.statement), let checkpoint = AuditCheckpoint(statement: item.statement) else {
            return .failure(AuditProblem("checkpoint \(index + 1): the signature does not verify with the audit public key (altered or forged)"))
        }
        guard checkpoint.publicKeyFingerprint == key.fingerprint else {
            return .failure(AuditProblem("checkpoint \(index + 1): signed by another key (\(checkpoint.publicKeyFingerprint))"))
        }
        if index > 0, checkpoint.previousSignature != previous {
            return .failure(
                AuditProblem(
                    "checkpoint \(index + 1) (\(AuditTime.iso8601(checkpoint.time))) does not follow checkpoint \(index): a checkpoint was removed or reordered"
                ))
        }
        previous = item.signature
        checkpoints.append(checkpoint)
    }
    return .success(checkpoints)
}

/// Compares chains as recomputed with what the checkpoints attest.
///
/// - Parameters:
///   - chains: where each chain stands in the trail being verified (base from the store or
///     the export, head as recomputed).
///   - digests: recomputed digests by chain and sequence, for the sequences checkpoints name.
public func verifyAuditChains(
    _ chains: [AuditChainState], against checkpoints: [AuditCheckpoint],
    digests: [String: [Int64: [UInt8]]]
) -> AuditProblem? {
    let byName = Dictionary(chains.map { ($0.chain, $0) }, uniquingKeysWith: { a, _ in a })
    for (index, checkpoint) in checkpoints.enumerated() {
        let when = "checkpoint \(index + 1) (\(AuditTime.iso8601(checkpoint.time)))"
        for attested in checkpoint.chains where attested.headSequence > 0 {
            guard let current = byName[attested.chain] else {
                return AuditProblem("chain \(attested.chain), attested by \(when) up to sequence \(attested.headSequence), is missing")
            }
            if attested.headSequence > current.headSequence {
                return AuditProblem(
                    "chain \(attested.chain): \(when) attests sequence \(attested.headSequence), but the chain ends at \(current.headSequence) (events removed from its end)"
                )
            }
            if attested.headSequence < current.baseSequence { continue }  // pruned since
            if digests[attested.chain]?[attested.headSequence] != attested.headDigest {
                return AuditProblem(
                    "chain \(attested.chain): the events up to sequence \(attested.headSequence) differ from what \(when) attests (rewritten)")
            }
        }
    }
    if let newest = checkpoints.last {
        for current in chains {
            let attested = newest.chains.first { $0.chain == current.chain }
            let attestedBase = attested?.baseSequence ?? 0
            if current.baseSequence != attestedBase, current.baseSequence > 0 || attested != nil {
                return AuditProblem(
                    "chain \(current.chain): it starts after sequence \(current.baseSequence), but the newest checkpoint attests a start after \(attestedBase) (events removed from its start)"
                )
            }
        }
    }
    return nil
}
