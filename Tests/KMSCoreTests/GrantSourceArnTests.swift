import Foundation
import Testing

@testable import KMSCore

/// The SourceArn grant constraint: every operation but RetireGrant only on behalf of the
/// resource it names, and grants made through a grant keep it.
@Suite struct GrantSourceArnTests {
    static let bucket = "arn:aws:s3:::payroll-111122223333", queue = "arn:aws:sqs:us-east-1:111122223333:orders"

    func grant(_ constraints: GrantConstraints?, operations: [GrantOperation] = [.decrypt, .describeKey, .retireGrant, .createGrant]) -> Grant {
        Grant(
            id: String(repeating: "a", count: 64), keyID: "k", keyARN: "arn:aws:kms:us-east-1:111122223333:key/k", name: nil,
            granteePrincipal: "logs.amazonaws.com", retiringPrincipal: nil, operations: operations, constraints: constraints,
            issuingAccount: "arn:aws:iam::111122223333:root", creationDate: Date(), granteeIsServicePrincipal: true)
    }

    @Test func appliesToEveryOperationButRetireGrant() {
        let constrained = grant(GrantConstraints(sourceArn: Self.bucket))
        for operation in [GrantOperation.decrypt, .describeKey, .createGrant] {
            #expect(constrained.allows(operation, context: nil, sourceArn: Self.bucket))
            #expect(!constrained.allows(operation, context: nil, sourceArn: Self.queue))
            #expect(!constrained.allows(operation, context: nil, sourceArn: nil))
            #expect(!constrained.allows(operation, context: nil, sourceArn: Self.bucket.uppercased()), "exactly")
        }
        #expect(constrained.allows(.retireGrant, context: nil, sourceArn: nil))
        #expect(!constrained.allows(.encrypt, context: nil, sourceArn: Self.bucket), "still only its operations")
        #expect(grant(nil).allows(.decrypt, context: nil, sourceArn: Self.queue), "no constraint, any resource")
    }

    @Test func combinesWithEncryptionContextConstraints() {
        let both = grant(GrantConstraints(encryptionContextSubset: ["app": "a"], sourceArn: Self.bucket))
        #expect(both.allows(.decrypt, context: EncryptionContext(["app": "a"]), sourceArn: Self.bucket))
        #expect(!both.allows(.decrypt, context: EncryptionContext(["app": "b"]), sourceArn: Self.bucket))
        #expect(!both.allows(.decrypt, context: EncryptionContext(["app": "a"]), sourceArn: nil))
        #expect(both.allows(.describeKey, context: nil, sourceArn: Self.bucket), "no context for DescribeKey")
        #expect(GrantConstraints(sourceArn: Self.bucket).types == ["SourceArn"])
        #expect(!GrantConstraints(sourceArn: Self.bucket).isEmpty && !GrantConstraints(sourceArn: Self.bucket).constrainsEncryptionContext)
    }

    @Test func aGrantMadeThroughAGrantKeepsItsSourceArn() {
        let parent = GrantConstraints(sourceArn: Self.bucket)
        #expect(GrantConstraints(sourceArn: Self.bucket).isAtLeastAsStrict(as: parent))
        #expect(GrantConstraints(encryptionContextSubset: ["a": "b"], sourceArn: Self.bucket).isAtLeastAsStrict(as: parent))
        #expect(!GrantConstraints(sourceArn: Self.queue).isAtLeastAsStrict(as: parent))
        #expect(!GrantConstraints(encryptionContextSubset: ["a": "b"]).isAtLeastAsStrict(as: parent))
        #expect(GrantConstraints(sourceArn: Self.queue).isAtLeastAsStrict(as: GrantConstraints()), "stricter than none")
    }

    @Test func sourceARNsAreResourceARNsWithAnAccount() {
        #expect(ResourceName.accountOfSourceARN(Self.queue) == "111122223333")
        #expect(ResourceName.accountOfSourceARN("arn:aws-cn:logs:cn-north-1:111122223333:log-group:x") == "111122223333")
        for bad in [
            Self.bucket, "arn:aws:sqs:us-east-1:11112222333:orders", "arn:aws:sqs:us-east-1:111122223333:", "arn:gcp:sqs:us-east-1:111122223333:q",
            "arn:aws:SQS:us-east-1:111122223333:q", "arn:aws::us-east-1:111122223333:q", "x", "arn:aws:sqs:us-east-1:111122223333:a\nb",
            "arn:aws:sqs:us-east-1:111122223333:" + String(repeating: "q", count: 480),
        ] {
            #expect(ResourceName.accountOfSourceARN(bad) == nil, "\(bad)")
        }
    }
}
