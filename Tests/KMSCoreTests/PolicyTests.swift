import Foundation
import Testing

@testable import KMSCore

/// The policy language: parsing (what is malformed) and evaluation (which statements apply).
@Suite struct PolicyTests {
    static let keyARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    static let alice = Principal.user(account: "111122223333", "alice")
    static let root = Principal.root(account: "111122223333")
    static let mallory = Principal.user(account: "444455556666", "mallory")

    static func keyPolicy(_ statements: String) throws -> PolicyDocument {
        try PolicyDocument.parse(#"{"Version": "2012-10-17", "Statement": [\#(statements)]}"#, as: .keyPolicy)
    }

    static func statement(
        _ effect: String = "Allow", principal: String = #""Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}"#,
        action: String = #""Action": "kms:*""#, resource: String = #""Resource": "*""#, condition: String? = nil
    ) -> String {
        "{"
            + [#""Effect": "\#(effect)""#, principal, action, resource, condition.map { #""Condition": \#($0)"# }].compactMap { $0 }.joined(
                separator: ", ") + "}"
    }

    // MARK: Parsing

    @Test(arguments: [
        "not json", "[]", #"{"Statement": []}"#, #"{"Version": "2012-10-18", "Statement": {"Effect": "Allow"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}, "Extra": 1}"#,
        #"{"Statement": {"Effect": "Permit", "Principal": "*", "Action": "kms:*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "NotPrincipal": "*", "Action": "kms:*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "NotAction": "kms:Encrypt", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "alice", "Action": "kms:*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1111:root"}, "Action": "kms:*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:s3:::bucket"}, "Action": "kms:*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": {"Service": "dynamodb"}, "Action": "kms:*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": {"Federated": "x"}, "Action": "kms:*", "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": [], "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": [1], "Resource": "*"}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEqualz": {"k": "v"}}}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"NullIfExists": {"k": "true"}}}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"NumericLessThan": {"k": "ten"}}}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"DateLessThan": {"k": "yesterday"}}}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"IpAddress": {"k": "10.0.0.0/33"}}}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"Bool": {"k": "yes"}}}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"k": []}}}}"#,
        #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"k": {"x": 1}}}}}"#,
    ])
    func malformedKeyPolicies(text: String) {
        expectKMSError(.malformedPolicyDocument) { try PolicyDocument.parse(text, as: .keyPolicy) }
    }

    @Test func identityPoliciesNameNoPrincipal() throws {
        let text =
            #"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "arn:aws:kms:*:111122223333:key/*"}}"#
        let document = try PolicyDocument.parse(text, as: .identityPolicy)
        #expect(document.statements.first?.principal == nil && document.statements.first?.actions == ["kms:Encrypt", "kms:Decrypt"])
        expectKMSError(.malformedPolicyDocument) { try PolicyDocument.parse(text, as: .keyPolicy) }
        let withPrincipal = #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}}"#
        expectKMSError(.malformedPolicyDocument) { try PolicyDocument.parse(withPrincipal, as: .identityPolicy) }
    }

    @Test func valuesReadAsWritten() throws {
        let document = try Self.keyPolicy(
            Self.statement(
                condition:
                    #"{"NumericEquals": {"kms:RotationPeriodInDays": 90}, "Bool": {"aws:SecureTransport": true}, "StringEquals": {"kms:CallerAccount": 111122223333}}"#
            ))
        let values = Dictionary(uniqueKeysWithValues: document.statements[0].conditions.map { ($0.key, $0.values) })
        #expect(values == ["kms:rotationperiodindays": ["90"], "aws:securetransport": ["true"], "kms:calleraccount": ["111122223333"]])
    }

    // MARK: Evaluation

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var statements: String
        var principal = PolicyTests.alice
        var action = "kms:Encrypt"
        var values: [String: [String]] = [:]
        var expected: PolicyDecision
        var testDescription: String { name }
    }

    static let allow = PolicyDecision(allowsCaller: true)
    static let account = PolicyDecision(allowsCallersAccount: true)
    static let deny = PolicyDecision(explicitDeny: true)
    static let none = PolicyDecision()

    static func condition(_ block: String) -> String { statement(condition: block) }

    static let cases: [Case] = [
        // Principals
        Case(name: "user by ARN", statements: statement(), expected: allow),
        Case(name: "other user", statements: statement(), principal: Principal.user(account: "111122223333", "bob"), expected: none),
        Case(name: "everyone", statements: statement(principal: #""Principal": "*""#), principal: mallory, expected: allow),
        Case(name: "AWS *", statements: statement(principal: #""Principal": {"AWS": "*"}"#), principal: mallory, expected: allow),
        Case(
            name: "account root delegates for users", statements: statement(principal: #""Principal": {"AWS": "arn:aws:iam::111122223333:root"}"#),
            expected: account),
        Case(
            name: "account root allows the root", statements: statement(principal: #""Principal": {"AWS": "111122223333"}"#), principal: root,
            expected: allow),
        Case(name: "account ID delegates", statements: statement(principal: #""Principal": {"AWS": ["111122223333"]}"#), expected: account),
        Case(
            name: "other account's root", statements: statement(principal: #""Principal": {"AWS": "arn:aws:iam::444455556666:root"}"#), expected: none
        ),
        Case(
            name: "cross-account delegation", statements: statement(principal: #""Principal": {"AWS": "arn:aws:iam::444455556666:root"}"#),
            principal: mallory, expected: account),
        Case(
            name: "China partition ARN", statements: statement(principal: #""Principal": {"AWS": "arn:aws-cn:iam::111122223333:user/alice"}"#),
            expected: allow),
        Case(
            name: "service principal is not a user", statements: statement(principal: #""Principal": {"Service": "dynamodb.amazonaws.com"}"#),
            expected: none),
        Case(
            name: "NotPrincipal excludes",
            statements: statement("Deny", principal: #""NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"}"#), expected: none),
        Case(
            name: "NotPrincipal applies to others",
            statements: statement("Deny", principal: #""NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"}"#),
            principal: Principal.user(account: "111122223333", "bob"), expected: deny),
        // Actions and resources
        Case(name: "action wildcard", statements: statement(action: #""Action": "kms:Re*""#), action: "kms:ReEncryptFrom", expected: allow),
        Case(name: "action case", statements: statement(action: #""Action": "KMS:encrypt""#), expected: allow),
        Case(name: "action not listed", statements: statement(action: #""Action": ["kms:Decrypt", "kms:Describe*"]"#), expected: none),
        Case(name: "NotAction", statements: statement(action: #""NotAction": "kms:Decrypt""#), expected: allow),
        Case(name: "NotAction excludes", statements: statement(action: #""NotAction": "kms:Encrypt""#), expected: none),
        Case(name: "action ?", statements: statement(action: #""Action": "kms:?ncrypt""#), expected: allow),
        Case(name: "resource pattern", statements: statement(resource: #""Resource": "arn:aws:kms:*:111122223333:key/*""#), expected: allow),
        Case(name: "resource other account", statements: statement(resource: #""Resource": "arn:aws:kms:*:444455556666:key/*""#), expected: none),
        Case(name: "NotResource", statements: statement(resource: #""NotResource": "arn:aws:kms:*:444455556666:key/*""#), expected: allow),
        // Effects
        Case(name: "deny wins", statements: statement() + "," + statement("Deny"), expected: PolicyDecision(explicitDeny: true, allowsCaller: true)),
        Case(
            name: "deny for another action", statements: statement() + "," + statement("Deny", action: #""Action": "kms:Decrypt""#), expected: allow),
        // String operators
        Case(
            name: "StringEquals", statements: condition(#"{"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}"#),
            values: ["kms:EncryptionContext:AppName": ["ExampleApp"]], expected: allow),
        Case(
            name: "StringEquals case", statements: condition(#"{"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}"#),
            values: ["kms:EncryptionContext:AppName": ["exampleapp"]], expected: none),
        Case(
            name: "condition key case", statements: condition(#"{"StringEquals": {"KMS:ENCRYPTIONCONTEXT:AppName": "ExampleApp"}}"#),
            values: ["kms:encryptioncontext:AppName": ["ExampleApp"]], expected: allow),
        Case(
            name: "context key is case-sensitive", statements: condition(#"{"StringEquals": {"kms:EncryptionContext:appname": "ExampleApp"}}"#),
            values: ["kms:EncryptionContext:AppName": ["ExampleApp"]], expected: none),
        Case(
            name: "other key case", statements: condition(#"{"StringEquals": {"AWS:PRINCIPALACCOUNT": "111122223333"}}"#),
            values: ["aws:PrincipalAccount": ["111122223333"]], expected: allow),
        Case(
            name: "StringEquals missing", statements: condition(#"{"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}"#), expected: none
        ),
        Case(
            name: "StringEquals any of", statements: condition(#"{"StringEquals": {"kms:CallerAccount": ["1", "111122223333"]}}"#),
            values: ["kms:CallerAccount": ["111122223333"]], expected: allow),
        Case(
            name: "StringNotEquals", statements: condition(#"{"StringNotEquals": {"kms:CallerAccount": ["1", "2"]}}"#),
            values: ["kms:CallerAccount": ["111122223333"]], expected: allow),
        Case(
            name: "StringNotEquals listed", statements: condition(#"{"StringNotEquals": {"kms:CallerAccount": ["1", "111122223333"]}}"#),
            values: ["kms:CallerAccount": ["111122223333"]], expected: none),
        Case(
            name: "StringNotEquals missing holds", statements: condition(#"{"StringNotEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}"#),
            expected: allow),
        Case(
            name: "StringEqualsIgnoreCase", statements: condition(#"{"StringEqualsIgnoreCase": {"aws:PrincipalTag/Team": "DATA"}}"#),
            values: ["aws:PrincipalTag/Team": ["data"]], expected: allow),
        Case(
            name: "StringNotEqualsIgnoreCase", statements: condition(#"{"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/Team": "DATA"}}"#),
            values: ["aws:PrincipalTag/Team": ["data"]], expected: none),
        Case(
            name: "StringLike", statements: condition(#"{"StringLike": {"kms:RequestAlias": "alias/app-*"}}"#),
            values: ["kms:RequestAlias": ["alias/app-prod"]], expected: allow),
        Case(
            name: "StringLike ?", statements: condition(#"{"StringLike": {"kms:RequestAlias": "alias/app-???"}}"#),
            values: ["kms:RequestAlias": ["alias/app-prod"]], expected: none),
        Case(
            name: "StringNotLike", statements: condition(#"{"StringNotLike": {"kms:RequestAlias": "alias/test-*"}}"#),
            values: ["kms:RequestAlias": ["alias/app-prod"]], expected: allow),
        // Set qualifiers
        Case(
            name: "ForAllValues subset",
            statements: condition(#"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["Department", "Project"]}}"#),
            values: ["kms:EncryptionContextKeys": ["Department"]], expected: allow),
        Case(
            name: "ForAllValues extra key",
            statements: condition(#"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["Department", "Project"]}}"#),
            values: ["kms:EncryptionContextKeys": ["Department", "Owner"]], expected: none),
        Case(
            name: "ForAllValues missing is vacuous",
            statements: condition(#"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["Department"]}}"#), expected: allow),
        Case(
            name: "ForAnyValue", statements: condition(#"{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "Department"}}"#),
            values: ["kms:EncryptionContextKeys": ["Owner", "Department"]], expected: allow),
        Case(
            name: "ForAnyValue missing", statements: condition(#"{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "Department"}}"#),
            expected: none),
        Case(
            name: "ForAnyValue StringLike", statements: condition(#"{"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/finance-*"}}"#),
            values: ["kms:ResourceAliases": ["alias/x", "alias/finance-key"]], expected: allow),
        // IfExists and Null
        Case(name: "IfExists absent", statements: condition(#"{"StringEqualsIfExists": {"kms:EncryptionContext:Dept": "IT"}}"#), expected: allow),
        Case(
            name: "IfExists present", statements: condition(#"{"StringEqualsIfExists": {"kms:EncryptionContext:Dept": "IT"}}"#),
            values: ["kms:EncryptionContext:Dept": ["HR"]], expected: none),
        Case(name: "Null true", statements: condition(#"{"Null": {"kms:EncryptionContextKeys": "true"}}"#), expected: allow),
        Case(
            name: "Null true present", statements: condition(#"{"Null": {"kms:EncryptionContextKeys": "true"}}"#),
            values: ["kms:EncryptionContextKeys": ["a"]], expected: none),
        Case(
            name: "Null false", statements: condition(#"{"Null": {"kms:EncryptionContextKeys": false}}"#),
            values: ["kms:EncryptionContextKeys": ["a"]], expected: allow),
        // Numeric, date, bool, binary, IP, ARN
        Case(
            name: "NumericLessThanEquals", statements: condition(#"{"NumericLessThanEquals": {"kms:ScheduleKeyDeletionPendingWindowInDays": 7}}"#),
            values: ["kms:ScheduleKeyDeletionPendingWindowInDays": ["7"]], expected: allow),
        Case(
            name: "NumericGreaterThan", statements: condition(#"{"NumericGreaterThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "7"}}"#),
            values: ["kms:ScheduleKeyDeletionPendingWindowInDays": ["7"]], expected: none),
        Case(
            name: "NumericNotEquals", statements: condition(#"{"NumericNotEquals": {"kms:RotationPeriodInDays": [90, 180]}}"#),
            values: ["kms:RotationPeriodInDays": ["365"]], expected: allow),
        Case(
            name: "Numeric unreadable request value", statements: condition(#"{"NumericEquals": {"kms:RotationPeriodInDays": 90}}"#),
            values: ["kms:RotationPeriodInDays": ["ninety"]], expected: none),
        Case(
            name: "DateLessThan", statements: condition(#"{"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}"#),
            values: ["aws:CurrentTime": ["2026-11-22T10:00:00Z"]], expected: allow),
        Case(
            name: "DateGreaterThan epoch", statements: condition(#"{"DateGreaterThan": {"kms:ValidTo": "1700000000"}}"#),
            values: ["kms:ValidTo": ["1800000000"]], expected: allow),
        Case(
            name: "DateGreaterThanEquals fails",
            statements: condition(#"{"DateGreaterThanEquals": {"aws:CurrentTime": "2030-01-01T00:00:00.000Z"}}"#),
            values: ["aws:CurrentTime": ["2026-11-22T10:00:00Z"]], expected: none),
        Case(
            name: "Bool", statements: condition(#"{"Bool": {"kms:GrantIsForAWSResource": true}}"#), values: ["kms:GrantIsForAWSResource": ["true"]],
            expected: allow),
        Case(
            name: "Bool false", statements: condition(#"{"Bool": {"kms:GrantIsForAWSResource": "true"}}"#),
            values: ["kms:GrantIsForAWSResource": ["false"]], expected: none),
        Case(name: "BinaryEquals", statements: condition(#"{"BinaryEquals": {"k": "QmluYXJ5"}}"#), values: ["k": ["QmluYXJ5"]], expected: allow),
        Case(
            name: "IpAddress v4", statements: condition(#"{"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.7"]}}"#),
            values: ["aws:SourceIp": ["192.0.2.77"]], expected: allow),
        Case(
            name: "IpAddress outside", statements: condition(#"{"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}"#),
            values: ["aws:SourceIp": ["192.0.3.1"]], expected: none),
        Case(
            name: "IpAddress v6", statements: condition(#"{"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}"#),
            values: ["aws:SourceIp": ["2001:db8:1::5"]], expected: allow),
        Case(
            name: "NotIpAddress", statements: condition(#"{"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#),
            values: ["aws:SourceIp": ["127.0.0.1"]], expected: allow),
        Case(
            name: "NotIpAddress inside", statements: condition(#"{"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}"#),
            values: ["aws:SourceIp": ["127.0.0.1"]], expected: none),
        Case(
            name: "ArnLike", statements: condition(#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/a*"}}"#),
            values: ["aws:PrincipalArn": ["arn:aws:iam::111122223333:user/alice"]], expected: allow),
        Case(
            name: "ArnEquals per part", statements: condition(#"{"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:user/alice"}}"#),
            values: ["aws:PrincipalArn": ["arn:aws:iam:us-east-1:111122223333:user/alice"]], expected: none),
        Case(
            name: "ArnNotLike", statements: condition(#"{"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}"#),
            values: ["aws:PrincipalArn": ["arn:aws:iam::111122223333:user/alice"]], expected: allow),
        // Every test of a block must hold
        Case(
            name: "two operators both hold",
            statements: condition(#"{"StringEquals": {"kms:CallerAccount": "111122223333"}, "Bool": {"aws:SecureTransport": "true"}}"#),
            values: ["kms:CallerAccount": ["111122223333"], "aws:SecureTransport": ["true"]], expected: allow),
        Case(
            name: "two operators one fails",
            statements: condition(#"{"StringEquals": {"kms:CallerAccount": "111122223333"}, "Bool": {"aws:SecureTransport": "true"}}"#),
            values: ["kms:CallerAccount": ["111122223333"], "aws:SecureTransport": ["false"]], expected: none),
        Case(
            name: "two keys one missing",
            statements: condition(#"{"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "s3.us-east-1.amazonaws.com"}}"#),
            values: ["kms:CallerAccount": ["111122223333"]], expected: none),
        Case(
            name: "conditional deny", statements: statement() + "," + statement("Deny", condition: #"{"Bool": {"aws:SecureTransport": "false"}}"#),
            values: ["aws:SecureTransport": ["false"]], expected: PolicyDecision(explicitDeny: true, allowsCaller: true)),
    ]

    @Test(arguments: cases)
    func evaluation(_ test: Case) throws {
        let document = try Self.keyPolicy(test.statements)
        let request = AuthorizationRequest(principal: test.principal, action: test.action, resource: Self.keyARN, conditionValues: test.values)
        #expect(document.evaluate(request) == test.expected)
    }

    @Test func wildcards() {
        #expect(Wildcard.matches("*", ""))
        #expect(Wildcard.matches("a*b*c", "aXXbYYc"))
        #expect(!Wildcard.matches("a*b*c", "aXXbYY"))
        #expect(Wildcard.matches("a?c", "abc") && !Wildcard.matches("a?c", "ac"))
        #expect(Wildcard.matches("**x", "yyx"))
        #expect(Wildcard.matches("KMS:*", "kms:Decrypt", ignoringCase: true) && !Wildcard.matches("KMS:*", "kms:Decrypt"))
        #expect(!Wildcard.matches("kms:Decrypt", "kms:Decrypt2") && !Wildcard.matches("kms:Decrypt2", "kms:Decrypt"))
        // Beyond ASCII, `?` stands for one character, not one byte, and case folds as Unicode does.
        #expect(Wildcard.matches("caf?", "café") && !Wildcard.matches("caf??", "café"))
        #expect(Wildcard.matches("ÉTÉ-*", "été-2026", ignoringCase: true) && !Wildcard.matches("ÉTÉ-*", "été-2026"))
        #expect(Wildcard.matches("*-é", "tag-é") && !Wildcard.matches("*-e", "tag-é"))
    }

    @Test func conditionKeysNormalized() {
        #expect(ConditionKey.normalized("aws:PrincipalTag/Team") == "aws:principaltag/team")
        #expect(ConditionKey.normalized("kms:callerAccount") == "kms:calleraccount")
        // The context key keeps its case, as the encryption context is compared case-sensitively.
        #expect(ConditionKey.normalized("KMS:EncryptionContext:Tenant") == "kms:encryptioncontext:Tenant")
        #expect(ConditionKey.normalized("aws:PrincipalTag/Équipe") == "aws:principaltag/équipe")
    }

    @Test func referencedKeysCollectedAtParse() throws {
        let document = try Self.keyPolicy(
            Self.statement(
                resource: #""Resource": "arn:aws:kms:*:111122223333:key/${aws:username}""#,
                condition: #"{"StringEquals": {"kms:ViaService": "${aws:PrincipalTag/Service}"}}"#))
        #expect(document.referencedKeys == ["aws:username", "kms:viaservice", "aws:principaltag/service"])
        #expect(try Self.keyPolicy(Self.statement()).referencedKeys.isEmpty)
    }
}

extension PolicyTests {
    /// `${}` and `${,'default'}` name the empty key: a statement using them matches nothing
    /// (with a default, the default). Found by FuzzPolicy: `${}` used to trap the whole
    /// process on an out-of-range index.
    @Test(arguments: [
        (#""Resource": "arn:aws:kms:us-east-1:111122223333:key/${}""#, false),
        (#""Resource": "arn:${}${aws:username}""#, false),
        (#""Resource": "arn:aws:kms:us-east-1:111122223333:key/${, '1234abcd-12ab-34cd-56ef-1234567890ab'}""#, true),
        (#""Resource": "${ }""#, false),
    ])
    func emptyVariableNamesMatchNothing(resource: String, allowed: Bool) throws {
        let document = try Self.keyPolicy(Self.statement(resource: resource))
        let request = AuthorizationRequest(principal: Self.alice, action: "kms:Encrypt", resource: Self.keyARN)
        #expect(document.evaluate(request).allowsCaller == allowed)
    }
}
