// Microbenchmarks of what every request of the Encrypt path does besides HTTP and storage
// (issue 7): the ciphertext sealed and opened with its per-ciphertext key derivation, the
// SigV4 signature verified, the key policy evaluated, the Encrypt request and response coded,
// and the audit event sealed into its hash chain (on the store's one writer).
// Run with `scripts/microbenchmark`, which writes docs/microbenchmarks.md.
import Benchmark
import Foundation
import KMSCore
@_spi(Benchmarks) import KMSProtocol
import SigV4Signer

let account = "111122223333"
let keyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
let keyARN = "arn:aws:kms:us-east-1:\(account):key/\(keyID)"
let context = EncryptionContext(["purpose": "benchmark", "tenant": "example"])

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        // A sample is 1,000 iterations, so that the runner's own work between samples
        // (reading its counters) stays out of the figures.
        scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 1_000
    )

    // MARK: Ciphertext: HKDF-SHA256 of a one-time key from the material, then AES-256-GCM.

    let material = SymmetricKeyMaterial.generate()
    for size in [100, 4096] {
        let plaintext = bytePattern(size)
        Benchmark("Ciphertext seal \(size) B") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try material.encrypt(plaintext, context: context, account: account, keyID: keyID, materialVersion: 1))
            }
        }
        let sealed = try! material.encrypt(plaintext, context: context, account: account, keyID: keyID, materialVersion: 1)
        Benchmark("Ciphertext open \(size) B") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try material.decrypt(SymmetricCiphertext(parsing: sealed), context: context))
            }
        }
    }

    // MARK: SigV4: an Encrypt request as the AWS CLI signs it, verified as the server does.

    let request = SignedEncrypt(body: encryptBody(plaintextSize: 100))
    let signingKeys = SigV4.SigningKeys()
    Benchmark("SigV4 verify, signing key cached") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await SigV4.verify(request.http, now: request.date, signingKeys: signingKeys, secret: request.lookup))
        }
    }
    Benchmark("SigV4 verify, signing key derived") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await SigV4.verify(request.http, now: request.date, secret: request.lookup))
        }
    }

    // MARK: Policy evaluation: kms:Encrypt asked of the default key policy and of one in the
    // console's style (administrators, users, an encryption-context condition).

    let defaultPolicy = try! PolicyDocument.parse(defaultKeyPolicy, as: .keyPolicy)
    let consolePolicy = try! PolicyDocument.parse(consoleKeyPolicy, as: .keyPolicy)
    let rootAsks = AuthorizationRequest(
        principal: .root(account: account), action: "kms:Encrypt", resource: keyARN,
        conditionValues: conditionValues)
    let userAsks = AuthorizationRequest(
        principal: .user(account: account, "alice"), action: "kms:Encrypt", resource: keyARN,
        conditionValues: conditionValues)
    Benchmark("Policy evaluate, default key policy") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(defaultPolicy.evaluate(rootAsks)) }
    }
    Benchmark("Policy evaluate, console-style key policy") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(consolePolicy.evaluate(userAsks)) }
    }
    Benchmark("Policy parse, console-style key policy") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try PolicyDocument.parse(consoleKeyPolicy, as: .keyPolicy)) }
    }

    // MARK: JSON: the Encrypt request decoded (with validation and audit parameters), the response encoded.

    for size in [100, 4096] {
        let body = encryptBody(plaintextSize: size)
        Benchmark("Encrypt request decode \(size) B") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try KMSAPI.decodeEncryptRequest(body)) }
        }
        let ciphertext = try! material.encrypt(bytePattern(size), context: context, account: account, keyID: keyID, materialVersion: 1)
        Benchmark("Encrypt response encode \(size) B") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try KMSAPI.encodeEncryptResponse(ciphertextBlob: Data(ciphertext), keyARN: keyARN))
            }
        }
    }

    // MARK: Audit: the event's canonical JSON with its chain links, and its SHA-256, as the
    // store's writer makes them for every request.

    guard case .object(let record)? = JSONValue.parse(encryptEventRecord) else { fatalError("encryptEventRecord is not a JSON object") }
    let event = AuditEvent(
        chain: "main", record: record,
        eventTime: Date(), eventName: "Encrypt", account: account, region: "us-east-1", userName: nil,
        accessKeyID: SignedEncrypt.accessKeyID, readOnly: true, errorCode: nil, keyIDs: [keyID])
    let previousDigest = AuditChain.digest(Array("previous".utf8))
    Benchmark("Audit event seal and digest") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(AuditChain.digest(AuditChain.seal(event, sequence: 55_163, previousDigest: previousDigest)))
        }
    }
}

/// An Encrypt event's CloudTrail record as the server writes it, before its chain links.
let encryptEventRecord = """
    {"awsRegion": "us-east-1", "eventCategory": "Management", "eventID": "47e01a9b-9f10-4178-a6af-d74cd92ff377",
     "eventName": "Encrypt", "eventSource": "kms.amazonaws.com", "eventTime": "2026-11-23T08:44:21Z", "eventType": "AwsApiCall",
     "eventVersion": "1.08", "managementEvent": true, "readOnly": true, "recipientAccountId": "\(account)",
     "requestID": "b258a945-6275-4e68-ab9f-dd56b8d161f3",
     "requestParameters": {"keyId": "\(keyARN)", "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                           "encryptionContext": {"purpose": "benchmark", "tenant": "example"}},
     "resources": [{"ARN": "\(keyARN)", "accountId": "\(account)", "type": "AWS::KMS::Key"}],
     "responseElements": null, "sourceIPAddress": "127.0.0.1", "userAgent": "aws-cli/2.22.0",
     "userIdentity": {"accessKeyId": "\(SignedEncrypt.accessKeyID)", "accountId": "\(account)",
                      "arn": "arn:aws:iam::\(account):root", "principalId": "\(account)", "type": "Root"}}
    """

/// `size` bytes counting up from 0 (wrapping): the plaintext of every benchmark.
func bytePattern(_ size: Int) -> Data {
    Data((0..<size).map { UInt8(truncatingIfNeeded: $0) })
}

/// The body the AWS CLI sends for `aws kms encrypt` with an encryption context.
func encryptBody(plaintextSize: Int) -> Data {
    let plaintext = bytePattern(plaintextSize).base64EncodedString()
    return Data(#"{"KeyId": "\#(keyARN)", "Plaintext": "\#(plaintext)", "EncryptionContext": {"purpose": "benchmark", "tenant": "example"}}"#.utf8)
}

/// An Encrypt request as the AWS CLI sends it, signed by the load generator's SigV4 signer
/// (which shares no code with the server).
struct SignedEncrypt: Sendable {
    static let accessKeyID = "AKIAIOSFODNN7EXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    let http: SigV4.HTTPRequest
    let date = Date()

    init(body: Data) {
        let host = "kms.us-east-1.amazonaws.com"
        let signed = SigV4Signer(accessKey: Self.accessKeyID, secretKey: Self.secret, region: "us-east-1")
            .headers(host: host, operation: "Encrypt", body: Array(body), now: date)
        http = SigV4.HTTPRequest(
            method: "POST", path: "/", query: "",
            headers: [
                ("Host", host),
                ("User-Agent", "aws-cli/2.22.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.6"),
                ("Content-Length", String(body.count)),
            ] + signed.map { (name: $0.0, value: $0.1) }, body: body)
    }

    /// The server's access-key lookup, answered from memory (a cached read in the server).
    var lookup: @Sendable (String) async throws(KMSError) -> (principal: Principal, secret: String)? {
        { id throws(KMSError) in id == Self.accessKeyID ? (.root(account: account), Self.secret) : nil }
    }
}

/// The condition values the service supplies with a kms:Encrypt request.
let conditionValues: [String: [String]] = [
    "aws:PrincipalArn": ["arn:aws:iam::\(account):user/alice"],
    "aws:PrincipalAccount": [account],
    "aws:PrincipalType": ["User"],
    "aws:SecureTransport": ["false"],
    "kms:CallerAccount": [account],
    "kms:EncryptionAlgorithm": ["SYMMETRIC_DEFAULT"],
    "kms:EncryptionContext:purpose": ["benchmark"],
    "kms:EncryptionContext:tenant": ["example"],
    "kms:EncryptionContextKeys": ["purpose", "tenant"],
    "kms:KeySpec": ["SYMMETRIC_DEFAULT"],
    "kms:KeyOrigin": ["AWS_KMS"],
    "kms:RequestAlias": [],
]

/// The policy AWS gives a key created without one.
let defaultKeyPolicy = """
    {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::\(account):root"}, "Action": "kms:*", "Resource": "*"}]}
    """

/// A key policy as the console writes one, with an encryption-context condition on its users.
let consoleKeyPolicy = """
    {"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": [
     {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::\(account):root"},
      "Action": "kms:*", "Resource": "*"},
     {"Sid": "Allow access for Key Administrators", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::\(account):role/KeyAdmin"},
      "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
                 "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
                 "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"], "Resource": "*"},
     {"Sid": "Allow use of the key", "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::\(account):user/alice", "arn:aws:iam::\(account):role/App"]},
      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
      "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "benchmark"}}},
     {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::\(account):user/alice", "arn:aws:iam::\(account):role/App"]},
      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
      "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
     {"Sid": "Deny outside the organization's network", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
      "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "\(account)"}}}
    ]}
    """
