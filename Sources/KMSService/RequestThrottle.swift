import Foundation
import Synchronization

/// Request-rate quotas per account (and region, as each server serves its own), as AWS KMS
/// applies them: shared quotas for cryptographic operations by the kind of key (symmetric and
/// HMAC, RSA, elliptic curve, ML-DSA), and one quota per management operation. Beyond one,
/// `ThrottlingException`. Rates are requests per second; a quota of R admits bursts of R.
public struct RequestRates: Sendable {
    public var symmetric: Double = 5_500
    public var rsa: Double = 500
    public var ecc: Double = 300
    public var mlDSA: Double = 300
    /// Per management operation; an operation not listed has no quota.
    public var operations: [String: Double] = [
        "CancelKeyDeletion": 5, "CreateAlias": 5, "CreateGrant": 50, "CreateKey": 5, "DeleteAlias": 15,
        "DeleteImportedKeyMaterial": 15, "DescribeKey": 2_000, "DisableKey": 5, "DisableKeyRotation": 5, "EnableKey": 5,
        "EnableKeyRotation": 5, "GetKeyPolicy": 1_000, "GetKeyRotationStatus": 1_000, "GetParametersForImport": 0.25,
        "GetPublicKey": 2_000, "ImportKeyMaterial": 5, "ListAliases": 500, "ListGrants": 100, "ListKeyPolicies": 100,
        "ListKeyRotations": 100, "ListKeys": 500, "ListResourceTags": 2_000, "ListRetirableGrants": 100, "PutKeyPolicy": 15,
        "RetireGrant": 30, "RevokeGrant": 30, "RotateKeyOnDemand": 5, "ScheduleKeyDeletion": 15, "TagResource": 10,
        "UntagResource": 5, "UpdateAlias": 5, "UpdateKeyDescription": 5,
        // CloudTrail's: two lookups per second per account and region.
        "LookupEvents": 2,
    ]

    /// AWS's defaults (the symmetric quota of most Regions; some have more).
    public init() {}

    /// Sets one quota: `symmetric`, `rsa`, `ecc`, `ml-dsa`, or an operation name.
    public mutating func set(_ name: String, _ rate: Double) -> Bool {
        switch name {
        case "symmetric": symmetric = rate
        case "rsa": rsa = rate
        case "ecc": ecc = rate
        case "ml-dsa": mlDSA = rate
        default:
            guard operations[name] != nil else { return false }
            operations[name] = rate
        }
        return true
    }
}

/// Token buckets by (account, quota), refilled by the service's clock.
final class RequestThrottle: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    let rates: RequestRates
    private let clock: any KMSClock
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rates: RequestRates, clock: any KMSClock) {
        self.rates = rates
        self.clock = clock
    }

    static let cryptographicActions: Set<KMSAction> = [
        .decrypt, .encrypt, .generateDataKey, .generateDataKeyWithoutPlaintext, .generateDataKeyPair,
        .generateDataKeyPairWithoutPlaintext, .generateMac, .verifyMac, .reEncryptFrom, .reEncryptTo,
        .sign, .verify, .deriveSharedSecret,
    ]

    /// Before a management operation runs (GenerateRandom counts as symmetric cryptography).
    func admitOperation(_ operation: String, account: String) throws(KMSError) {
        if operation == "GenerateRandom" { return try admit("symmetric", rate: rates.symmetric, account: account) }
        guard let rate = rates.operations[operation] else { return }
        try admit(operation, rate: rate, account: account)
    }

    /// Before a cryptographic operation uses `key`: the shared quota of its kind of key.
    func admitCryptographic(action: KMSAction, key: KMSKey, account: String) throws(KMSError) {
        guard Self.cryptographicActions.contains(action) else { return }
        switch key.spec {
        case .rsa2048, .rsa3072, .rsa4096: try admit("rsa", rate: rates.rsa, account: account)
        case .mlDsa44, .mlDsa65, .mlDsa87: try admit("ml-dsa", rate: rates.mlDSA, account: account)
        case .eccNistP256, .eccNistP384, .eccNistP521, .eccSecgP256k1, .eccNistEdwards25519, .sm2: try admit("ecc", rate: rates.ecc, account: account)
        default: try admit("symmetric", rate: rates.symmetric, account: account)
        }
    }

    private func admit(_ quota: String, rate: Double, account: String) throws(KMSError) {
        let now = clock.now()
        let admitted = buckets.withLock { buckets in
            let name = account + "|" + quota
            var bucket = buckets[name] ?? Bucket(tokens: max(rate, 1), updated: now)
            bucket.tokens = min(max(rate, 1), bucket.tokens + now.timeIntervalSince(bucket.updated) * rate)
            bucket.updated = now
            let ok = bucket.tokens >= 1
            if ok { bucket.tokens -= 1 }
            buckets[name] = bucket
            return ok
        }
        guard admitted else {
            if quota == "LookupEvents" { throw KMSError(.throttling, "Rate exceeded") }  // CloudTrail's words
            throw KMSError(.throttling, "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.")
        }
    }
}

extension KeyManagementService {
    /// The request-rate quota of a management operation (and GenerateRandom), checked before it runs.
    public func admit(operation: String, _ context: RequestContext) throws(KMSError) {
        try throttle?.admitOperation(operation, account: context.account)
    }
}
