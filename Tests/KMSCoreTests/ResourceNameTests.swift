import Testing

@testable import KMSCore

@Suite struct ResourceNameTests {
    @Test func parsesEveryFormOfKeyID() throws {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab"
        #expect(try KeyReference.parse(id) == .keyID(id))
        #expect(
            try KeyReference.parse("arn:aws:kms:us-east-1:111122223333:key/\(id)") == .keyARN(region: "us-east-1", account: "111122223333", keyID: id)
        )
        #expect(try KeyReference.parse("alias/demo") == .aliasName("alias/demo"))
        #expect(
            try KeyReference.parse("arn:aws:kms:eu-west-1:111122223333:alias/a/b")
                == .aliasARN(region: "eu-west-1", account: "111122223333", aliasName: "alias/a/b"))
        for bad in [
            "arn:aws:s3:us-east-1:111122223333:key/x", "arn:aws:kms:us-east-1:1111:key/x", "arn:aws:kms:us-east-1:111122223333:grant/x",
            "arn:aws:kms",
        ] {
            expectKMSError(.invalidArn, "\(bad)") { try KeyReference.parse(bad) }
        }
    }

    @Test func keyIDForms() {
        #expect(ResourceName.isWellFormedKeyID("1234abcd-12ab-34cd-56ef-1234567890ab"))
        #expect(ResourceName.isWellFormedKeyID("mrk-1234abcd12ab34cd56ef1234567890ab"))
        #expect(!ResourceName.isWellFormedKeyID("1234ABCD-12ab-34cd-56ef-1234567890ab"))
        #expect(!ResourceName.isWellFormedKeyID("1234abcd-12ab-34cd-56ef-1234567890a"))
        #expect(!ResourceName.isWellFormedKeyID("mrk-1234"))
        #expect(ResourceName.partition(region: "cn-north-1") == "aws-cn")
    }

    @Test func aliasRules() {
        #expect(throws: Never.self) { try Alias.validateCustomerAliasName("alias/demo") }
        // As AWS: a name outside `alias/` is a ValidationException; `alias/aws/` is reserved.
        for bad in ["demo", "alias/"] {
            expectKMSError(.validation, "\(bad)") { try Alias.validateCustomerAliasName(bad) }
        }
        for reserved in ["alias/aws/ebs", "alias/aws"] {
            expectKMSError(.invalidAliasName, "\(reserved)") { try Alias.validateCustomerAliasName(reserved) }
        }
    }
}
