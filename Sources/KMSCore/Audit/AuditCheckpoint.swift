import Crypto
import Foundation
import Synchronization

/// A signed statement of where every audit chain stood at a time: with the public key alone,
/// a verifier can tell that events up to each head are the ones the server recorded, so that
/// rewriting a chain (even with recomputed digests) or cutting its end is caught.
///
/// Each checkpoint also carries the previous checkpoint's signature, so that removing a
/// checkpoint breaks the sequence of checkpoints too.
public struct AuditCheckpoint: Sendable, Equatable {
    public var time: Date
    public var chains: [AuditChainState]
    /// Hex SHA-256 of the signing key's public key (X9.63 DER SubjectPublicKeyInfo).
    public var publicKeyFingerprint: String
    public var previousSignature: [UInt8]?

    public init(time: Date, chains: [AuditChainState], publicKeyFingerprint: String, previousSignature: [UInt8]?) {
        self.time = time
        self.chains = chains.sorted { $0.chain < $1.chain }
        self.publicKeyFingerprint = publicKeyFingerprint
        self.previousSignature = previousSignature
    }

    /// The signed bytes: canonical JSON.
    public var statement: [UInt8] {
        JSONValue.object([
            "version": .number(1),
            "time": .string(AuditTime.iso8601(time)),
            "publicKeyFingerprint": .string(publicKeyFingerprint),
            "previousSignature": previousSignature.map { .string(Data($0).base64EncodedString()) } ?? .null,
            "chains": .array(
                chains.map { c in
                    .object([
                        "chain": .string(c.chain),
                        "baseSequence": .number(Double(c.baseSequence)),
                        "baseDigest": .string(Hex.encode(c.baseDigest)),
                        "headSequence": .number(Double(c.headSequence)),
                        "headDigest": .string(Hex.encode(c.headDigest)),
                    ])
                }),
        ]).canonicalBytes
    }

    /// Reads a statement back; nil when the bytes are not one.
    public init?(statement bytes: [UInt8]) {
        guard let json = JSONValue.parse(bytes: bytes), json.canonicalBytes == bytes,
            let time = json[member: "time"]?.stringValue.flatMap(AuditTime.parseISO8601),
            let fingerprint = json[member: "publicKeyFingerprint"]?.stringValue,
            case .array(let items)? = json[member: "chains"]
        else { return nil }
        var chains: [AuditChainState] = []
        for item in items {
            guard let name = item[member: "chain"]?.stringValue,
                case .number(let base)? = item[member: "baseSequence"], case .number(let head)? = item[member: "headSequence"],
                let baseDigest = item[member: "baseDigest"]?.stringValue.flatMap(Hex.decode),
                let headDigest = item[member: "headDigest"]?.stringValue.flatMap(Hex.decode)
            else { return nil }
            chains.append(
                AuditChainState(
                    chain: name, baseSequence: Int64(base), baseDigest: baseDigest,
                    headSequence: Int64(head), headDigest: headDigest))
        }
        var previous: [UInt8]?
        if let text = json[member: "previousSignature"]?.stringValue {
            guard let data = Data(base64Encoded: text) else { return nil }
            previous = Array(data)
        }
        self.init(time: time, chains: chains, publicKeyFingerprint: fingerprint, previousSignature: previous)
    }
}

/// A checkpoint as stored and exported: its statement bytes and their signature.
public struct SignedAuditCheckpoint: Sendable, Equatable {
    public var statement: [UInt8]
    /// ECDSA P-256 over SHA-256 of `statement`, DER.
    public var signature: [UInt8]

    public init(statement: [UInt8], signature: [UInt8]) {
        self.statement = statement
        self.signature = signature
    }
}

/// The key that signs audit checkpoints and export digests: ECDSA on P-256 with SHA-256.
/// Its private half is stored only wrapped by the root key; its public half is exported
/// (`swiftkms audit public-key`) for verifiers.
public struct AuditSigningKey: Sendable {
    private let key: P256.Signing.PrivateKey

    public init() { key = P256.Signing.PrivateKey() }

    public init(rawRepresentation: some ContiguousBytes) throws(KMSError) {
        do { key = try P256.Signing.PrivateKey(rawRepresentation: rawRepresentation) } catch { throw KMSError.internalFailure() }
    }

    /// The private scalar; only ever handed to `RootKey.sealAuditSigningKey`.
    public var rawRepresentation: [UInt8] { Array(key.rawRepresentation) }

    public var publicKeyDER: [UInt8] { Array(key.publicKey.derRepresentation) }

    public func sign(_ bytes: [UInt8]) throws(KMSError) -> [UInt8] {
        do { return Array(try key.signature(for: bytes).derRepresentation) } catch { throw KMSError.internalFailure() }
    }
}

/// Verification with the public key alone.
public struct AuditVerifyingKey: Sendable {
    private let key: P256.Signing.PublicKey
    public let der: [UInt8]

    public init?(der: [UInt8]) {
        guard let key = try? P256.Signing.PublicKey(derRepresentation: der) else { return nil }
        self.key = key
        self.der = der
    }

    public init?(pem: String) {
        guard let key = try? P256.Signing.PublicKey(pemRepresentation: pem) else { return nil }
        self.key = key
        der = Array(key.derRepresentation)
    }

    public var pem: String { key.pemRepresentation }

    public var fingerprint: String { Hex.encode(AuditChain.digest(der)) }

    public func isValidSignature(_ signature: [UInt8], for bytes: [UInt8]) -> Bool {
        guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
        return key.isValidSignature(parsed, for: bytes)
    }
}

/// CloudTrail's time formats.
public enum AuditTime {
    /// `2026-11-22T10:00:00Z`, as `eventTime`.
    public static func iso8601(_ date: Date) -> String {
        UTCTime.extended(date)
    }

    public static func parseISO8601(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle().parse(text)
    }

    /// `Nov 22, 2026, 10:00:00 AM`, as CloudTrail shows dates in KMS `responseElements`.
    public static func responseDate(_ date: Date) -> String {
        responseDateFormatter.withLock { $0.string(from: date) }
    }

    /// Made once: a DateFormatter costs far more to make than to use.
    private static let responseDateFormatter: Mutex<DateFormatter> = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d, yyyy, h:mm:ss a"
        return Mutex(formatter)
    }()
}
