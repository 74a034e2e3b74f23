import Foundation
import KMSCore
import Testing

@testable import KMSService

/// The cases of `AuthorizationTests`, by theme: each a key policy, identity policies, grants,
/// a caller and a request, and the outcome AWS gives.
extension AuthorizationTests {
    static let cases: [Case] = delegation + conditionOperators + negations + crossAccount + globalKeys + grants + dryRun + lockout

    static let delegation: [Case] = [
        Case(name: "default policy, root", caller: rootA),
        Case(name: "default policy, user with identity policy", identity: policy(can())),
        Case(name: "default policy, user without identity policy", expected: .accessDenied),
        Case(name: "default policy, identity allows other action", identity: policy(can(#""kms:Decrypt""#)), expected: .accessDenied),
        Case(name: "default policy, identity allows wildcard action", identity: policy(can(#""kms:Enc*""#))),
        Case(name: "default policy, identity allows list of actions", identity: policy(can(#"["kms:Decrypt", "kms:Encrypt"]"#))),
        Case(name: "default policy, identity action case-insensitive", identity: policy(can(#""KMS:ENCRYPT""#))),
        Case(name: "default policy, identity resource is this key", identity: policy(can(resource: #""arn:aws:kms:us-east-1:111122223333:key/*""#))),
        Case(
            name: "default policy, identity resource other region", identity: policy(can(resource: #""arn:aws:kms:eu-west-1:111122223333:key/*""#)),
            expected: .accessDenied),
        Case(name: "default policy, identity explicit deny wins", identity: policy(can(), cannot(#""kms:Encrypt""#)), expected: .accessDenied),
        Case(name: "default policy, identity deny other action", identity: policy(can(), cannot(#""kms:Decrypt""#))),
        Case(name: "key policy names user, no identity policy", keyPolicy: policy(admin, allow(aliceP, #""kms:Encrypt""#))),
        Case(name: "key policy names user, other action", keyPolicy: policy(admin, allow(aliceP, #""kms:Decrypt""#)), expected: .accessDenied),
        Case(name: "key policy names other user", keyPolicy: policy(admin, allow(aliceP)), caller: bob, expected: .accessDenied),
        Case(name: "key policy names role", keyPolicy: policy(admin, allow(aws("arn:aws:iam::111122223333:role/app"))), caller: role),
        Case(
            name: "key policy names assumed-role session", keyPolicy: policy(admin, allow(aws("arn:aws:iam::111122223333:role/app"))), caller: alice,
            expected: .accessDenied),
        Case(
            name: "key policy without account root: identity policy ignored", keyPolicy: policy(allow(aws("arn:aws:iam::111122223333:user/bob"))),
            identity: policy(can()), expected: .accessDenied),
        Case(name: "key policy without account root: root denied", keyPolicy: policy(allow(aliceP)), caller: rootA, expected: .accessDenied),
        Case(name: "key policy account ID form", keyPolicy: policy(allow(aws("111122223333"))), identity: policy(can())),
        Case(name: "key policy Principal *", keyPolicy: policy(admin, allow(#""*""#, #""kms:Encrypt""#)), caller: bob),
        Case(
            name: "key policy deny user", keyPolicy: policy(admin, deny(aliceP, #""kms:Encrypt""#)), identity: policy(can()), expected: .accessDenied),
        Case(name: "key policy deny other user", keyPolicy: policy(admin, deny(aws("arn:aws:iam::111122223333:user/bob"))), identity: policy(can())),
        Case(
            name: "key policy deny everyone beats root", keyPolicy: policy(admin, deny(#""*""#, #""kms:Encrypt""#)), caller: rootA,
            expected: .accessDenied),
        Case(
            name: "service principal named", keyPolicy: policy(admin, allow(#"{"Service": "dynamodb.amazonaws.com"}"#, #""kms:Encrypt""#)),
            caller: dynamodb),
        Case(name: "service principal not named", caller: dynamodb, expected: .accessDenied),
        Case(
            name: "other service named", keyPolicy: policy(admin, allow(#"{"Service": "s3.amazonaws.com"}"#)), caller: dynamodb,
            expected: .accessDenied),
        Case(name: "describe by user with describe permission", identity: policy(can(#""kms:Describe*""#)), request: .describe),
        Case(name: "describe without permission", identity: policy(can(#""kms:Encrypt""#)), request: .describe, expected: .accessDenied),
        Case(name: "disable needs kms:DisableKey", identity: policy(can(#""kms:Encrypt""#)), request: .disable, expected: .accessDenied),
        Case(name: "disable allowed", identity: policy(can(#""kms:DisableKey""#)), request: .disable),
        Case(name: "ReEncrypt* covers both halves", identity: policy(can(#"["kms:ReEncrypt*"]"#)), request: .reEncrypt),
        Case(name: "ReEncryptFrom only", identity: policy(can(#"["kms:ReEncryptFrom"]"#)), request: .reEncrypt, expected: .accessDenied),
        Case(name: "CreateKey by root", caller: rootA, request: .createKey()),
        Case(name: "CreateKey needs identity policy", request: .createKey(), expected: .accessDenied),
        Case(name: "CreateKey allowed", identity: policy(can(#""kms:CreateKey""#)), request: .createKey()),
        Case(
            name: "CreateKey with a key ARN resource never matches",
            identity: policy(can(#""kms:CreateKey""#, resource: #""arn:aws:kms:*:111122223333:key/*""#)),
            request: .createKey(), expected: .accessDenied),
        Case(name: "ListKeys needs identity policy", request: .listKeys, expected: .accessDenied),
        Case(name: "ListKeys allowed", identity: policy(can(#""kms:List*""#)), request: .listKeys),
    ]

    static func ec(_ op: String, _ key: String = "kms:EncryptionContext:AppName", _ values: String = #""ExampleApp""#) -> String {
        #"{"\#(op)": {"\#(key)": \#(values)}}"#
    }

    /// Each operator family through an identity policy condition on an Encrypt request.
    static let conditionOperators: [Case] = {
        let rows: [(String, String, [String: String], Bool)] = [
            ("StringEquals match", ec("StringEquals"), ["AppName": "ExampleApp"], true),
            ("StringEquals value case", ec("StringEquals"), ["AppName": "exampleapp"], false),
            ("StringEquals context key case", ec("StringEquals"), ["appname": "ExampleApp"], false),
            ("StringEquals absent", ec("StringEquals"), [:], false),
            (
                "StringEquals one of list", ec("StringEquals", "kms:EncryptionContext:AppName", #"["A", "ExampleApp"]"#), ["AppName": "ExampleApp"],
                true
            ),
            ("StringNotEquals other", ec("StringNotEquals"), ["AppName": "Other"], true),
            ("StringNotEquals same", ec("StringNotEquals"), ["AppName": "ExampleApp"], false),
            ("StringNotEquals absent holds", ec("StringNotEquals"), [:], true),
            ("StringEqualsIgnoreCase", ec("StringEqualsIgnoreCase"), ["AppName": "EXAMPLEAPP"], true),
            ("StringNotEqualsIgnoreCase", ec("StringNotEqualsIgnoreCase"), ["AppName": "EXAMPLEAPP"], false),
            ("StringLike", ec("StringLike", "kms:EncryptionContext:AppName", #""Example*""#), ["AppName": "ExampleApp"], true),
            ("StringLike ?", ec("StringLike", "kms:EncryptionContext:AppName", #""Exampl?App""#), ["AppName": "ExampleApp"], true),
            ("StringLike no match", ec("StringLike", "kms:EncryptionContext:AppName", #""Other*""#), ["AppName": "ExampleApp"], false),
            ("StringNotLike", ec("StringNotLike", "kms:EncryptionContext:AppName", #""Other*""#), ["AppName": "ExampleApp"], true),
            ("StringNotLike match", ec("StringNotLike", "kms:EncryptionContext:AppName", #""Ex*""#), ["AppName": "ExampleApp"], false),
            ("StringEqualsIfExists absent", ec("StringEqualsIfExists"), [:], true),
            ("StringEqualsIfExists wrong", ec("StringEqualsIfExists"), ["AppName": "x"], false),
            ("Null true when absent", ec("Null", "kms:EncryptionContextKeys", "true"), [:], true),
            ("Null true when present", ec("Null", "kms:EncryptionContextKeys", "true"), ["a": "b"], false),
            ("Null false when present", ec("Null", "kms:EncryptionContextKeys", "false"), ["a": "b"], true),
            ("ForAnyValue match", ec("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", #""AppName""#), ["AppName": "x", "b": "c"], true),
            ("ForAnyValue none", ec("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", #""AppName""#), ["b": "c"], false),
            ("ForAnyValue absent", ec("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", #""AppName""#), [:], false),
            ("ForAllValues subset", ec("ForAllValues:StringEquals", "kms:EncryptionContextKeys", #"["AppName", "Dept"]"#), ["AppName": "x"], true),
            (
                "ForAllValues extra key", ec("ForAllValues:StringEquals", "kms:EncryptionContextKeys", #"["AppName"]"#),
                ["AppName": "x", "Other": "y"], false
            ),
            ("ForAllValues absent holds", ec("ForAllValues:StringEquals", "kms:EncryptionContextKeys", #"["AppName"]"#), [:], true),
            (
                "ForAllValues StringLike", ec("ForAllValues:StringLike", "kms:EncryptionContextKeys", #""App*""#), ["AppName": "x", "AppId": "y"],
                true
            ),
            ("NumericEquals", ec("NumericEquals", "kms:EncryptionContext:Level", "3"), ["Level": "3"], true),
            ("NumericEquals not number", ec("NumericEquals", "kms:EncryptionContext:Level", "3"), ["Level": "three"], false),
            ("NumericNotEquals", ec("NumericNotEquals", "kms:EncryptionContext:Level", "3"), ["Level": "4"], true),
            ("NumericLessThan", ec("NumericLessThan", "kms:EncryptionContext:Level", "3"), ["Level": "2"], true),
            ("NumericLessThan equal", ec("NumericLessThan", "kms:EncryptionContext:Level", "3"), ["Level": "3"], false),
            ("NumericLessThanEquals", ec("NumericLessThanEquals", "kms:EncryptionContext:Level", "3"), ["Level": "3"], true),
            ("NumericGreaterThan", ec("NumericGreaterThan", "kms:EncryptionContext:Level", "3"), ["Level": "3.5"], true),
            ("NumericGreaterThanEquals", ec("NumericGreaterThanEquals", "kms:EncryptionContext:Level", "3"), ["Level": "2"], false),
            ("DateLessThan", ec("DateLessThan", "kms:EncryptionContext:Until", #""2030-01-01T00:00:00Z""#), ["Until": "2029-12-31T23:59:59Z"], true),
            (
                "DateGreaterThan", ec("DateGreaterThan", "kms:EncryptionContext:Until", #""2030-01-01T00:00:00Z""#),
                ["Until": "2029-12-31T23:59:59Z"], false
            ),
            ("DateEquals epoch", ec("DateEquals", "kms:EncryptionContext:Until", #""2030-01-01T00:00:00Z""#), ["Until": "1893456000"], true),
            ("Bool true", ec("Bool", "kms:EncryptionContext:Flag", "true"), ["Flag": "true"], true),
            ("Bool false", ec("Bool", "kms:EncryptionContext:Flag", "true"), ["Flag": "false"], false),
            ("ArnEquals", ec("ArnEquals", "aws:PrincipalArn", #""arn:aws:iam::111122223333:user/alice""#), [:], true),
            ("ArnLike", ec("ArnLike", "aws:PrincipalArn", #""arn:aws:iam::*:user/al*""#), [:], true),
            ("ArnNotLike", ec("ArnNotLike", "aws:PrincipalArn", #""arn:aws:iam::*:user/al*""#), [:], false),
            ("ArnNotEquals", ec("ArnNotEquals", "aws:PrincipalArn", #""arn:aws:iam::111122223333:user/bob""#), [:], true),
            ("IpAddress", ec("IpAddress", "aws:SourceIp", #""10.0.0.0/8""#), [:], true),
            ("IpAddress outside", ec("IpAddress", "aws:SourceIp", #""192.168.0.0/16""#), [:], false),
            ("NotIpAddress", ec("NotIpAddress", "aws:SourceIp", #""192.168.0.0/16""#), [:], true),
            ("IpAddress IPv6 range", ec("IpAddress", "aws:SourceIp", #""2001:db8::/32""#), [:], false),
            (
                "two conditions both hold",
                #"{"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp", "kms:CallerAccount": "111122223333"}}"#, ["AppName": "ExampleApp"],
                true
            ),
            (
                "two conditions one fails",
                #"{"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp", "kms:CallerAccount": "444455556666"}}"#, ["AppName": "ExampleApp"],
                false
            ),
            (
                "two operators both hold",
                #"{"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}, "Bool": {"aws:SecureTransport": "false"}}"#,
                ["AppName": "ExampleApp"], true
            ),
            ("EncryptionAlgorithm", ec("StringEquals", "kms:EncryptionAlgorithm", #""SYMMETRIC_DEFAULT""#), [:], true),
            ("KeySpec", ec("StringEquals", "kms:KeySpec", #""SYMMETRIC_DEFAULT""#), [:], true),
            ("KeyUsage mismatch", ec("StringEquals", "kms:KeyUsage", #""SIGN_VERIFY""#), [:], false),
            ("KeyOrigin", ec("StringEquals", "kms:KeyOrigin", #""AWS_KMS""#), [:], true),
            ("MultiRegion", ec("Bool", "kms:MultiRegion", "false"), [:], true),
        ]
        return rows.map { name, condition, context, allowed in
            Case(
                name: "operator: " + name, identity: policy(can(condition: condition)), request: .encrypt(context),
                expected: allowed ? nil : .accessDenied)
        }
    }()

    static let negations: [Case] = [
        Case(
            name: "NotPrincipal deny spares named",
            keyPolicy: policy(admin, deny(#""NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"}"#)), identity: policy(can())),
        Case(
            name: "NotPrincipal deny hits others",
            keyPolicy: policy(admin, deny(#""NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:root"]}"#)),
            identity: policy(can()), caller: bob, expected: .accessDenied),
        Case(
            name: "NotPrincipal allow",
            keyPolicy: policy(admin, allow(#""NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/bob"}"#, #""kms:Encrypt""#))),
        Case(name: "NotAction allow", identity: policy(can(#""NotAction": "kms:Decrypt""#))),
        Case(name: "NotAction allow excludes", identity: policy(can(#""NotAction": ["kms:Encrypt", "kms:Decrypt"]"#)), expected: .accessDenied),
        Case(name: "NotAction deny", identity: policy(can(), cannot(#""NotAction": "kms:Describe*""#)), expected: .accessDenied),
        Case(name: "NotAction deny spares", identity: policy(can(), cannot(#""NotAction": "kms:Describe*""#)), request: .describe),
        Case(name: "NotResource allow", identity: policy(can(resource: #""NotResource": "arn:aws:kms:*:*:key/other""#))),
        Case(
            name: "NotResource allow excludes", identity: policy(can(resource: #""NotResource": "arn:aws:kms:*:111122223333:key/*""#)),
            expected: .accessDenied),
        Case(name: "key policy NotAction deny", keyPolicy: policy(admin, deny(aliceP, #""NotAction": "kms:Encrypt""#)), identity: policy(can())),
    ]

    static let crossAccount: [Case] = [
        Case(
            name: "cross-account: both sides", keyPolicy: policy(admin, allow(accountB, #""kms:Encrypt""#)), identity: policy(can()), caller: mallory),
        Case(
            name: "cross-account: no identity policy", keyPolicy: policy(admin, allow(accountB, #""kms:Encrypt""#)), caller: mallory,
            expected: .accessDenied),
        Case(name: "cross-account: identity only", identity: policy(can()), caller: mallory, expected: .accessDenied),
        Case(name: "cross-account: root of B", keyPolicy: policy(admin, allow(accountB, #""kms:Encrypt""#)), caller: rootB),
        Case(
            name: "cross-account: user named, identity too", keyPolicy: policy(admin, allow(malloryP, #""kms:Encrypt""#)), identity: policy(can()),
            caller: mallory),
        Case(
            name: "cross-account: user named, no identity", keyPolicy: policy(admin, allow(malloryP, #""kms:Encrypt""#)), caller: mallory,
            expected: .accessDenied),
        Case(
            name: "cross-account: other action", keyPolicy: policy(admin, allow(accountB, #""kms:Decrypt""#)), identity: policy(can()),
            caller: mallory, expected: .accessDenied),
        Case(
            name: "cross-account: identity deny", keyPolicy: policy(admin, allow(accountB)), identity: policy(can(), cannot(#""kms:Encrypt""#)),
            caller: mallory, expected: .accessDenied),
        Case(
            name: "cross-account: CallerAccount condition",
            keyPolicy: policy(admin, allow(#""*""#, #""kms:Encrypt""#, condition: ec("StringEquals", "kms:CallerAccount", #""444455556666""#))),
            identity: policy(can()), caller: mallory),
        Case(
            name: "cross-account: CallerAccount condition other",
            keyPolicy: policy(admin, allow(#""*""#, #""kms:Encrypt""#, condition: ec("StringEquals", "kms:CallerAccount", #""999999999999""#))),
            identity: policy(can()), caller: mallory, expected: .accessDenied),
        Case(
            name: "cross-account: decrypt", keyPolicy: policy(admin, allow(accountB, #""kms:Decrypt""#)), identity: policy(can()), caller: mallory,
            request: .decrypt()),
        Case(
            name: "cross-account: describe", keyPolicy: policy(admin, allow(accountB, #""kms:DescribeKey""#)), identity: policy(can()),
            caller: mallory, request: .describe),
        Case(
            name: "cross-account: management refused", keyPolicy: policy(admin, allow(accountB)), identity: policy(can()), caller: mallory,
            request: .disable, expected: .accessDenied),
        Case(
            name: "cross-account: PrincipalAccount condition",
            keyPolicy: policy(admin, allow(accountB, condition: ec("StringEquals", "aws:PrincipalAccount", #""444455556666""#))),
            identity: policy(can()), caller: mallory),
    ]

    static let globalKeys: [Case] = [
        Case(
            name: "policy variable aws:username in resource tag",
            identity: policy(can(condition: ec("StringEquals", "aws:ResourceTag/Owner", #""${aws:username}""#)))),
        Case(
            name: "policy variable other user", identity: policy(can(condition: ec("StringEquals", "aws:ResourceTag/Owner", #""${aws:username}""#))),
            caller: bob, expected: .accessDenied),
        Case(
            name: "policy variable in encryption context",
            identity: policy(can(condition: ec("StringEquals", "kms:EncryptionContext:User", #""${aws:username}""#))),
            request: .encrypt(["User": "alice"])),
        Case(
            name: "policy variable unresolved",
            identity: policy(can(condition: ec("StringEquals", "kms:EncryptionContext:User", #""${aws:PrincipalTag/none}""#))),
            request: .encrypt(["User": "alice"]), expected: .accessDenied),
        Case(
            name: "ABAC: PrincipalTag equals ResourceTag",
            identity: policy(can(condition: ec("StringEquals", "aws:ResourceTag/Project", #""${aws:PrincipalTag/Project}""#))),
            tags: [Tag(key: "Project", value: "Alpha")]),
        Case(
            name: "ABAC: different project",
            identity: policy(can(condition: ec("StringEquals", "aws:ResourceTag/Project", #""${aws:PrincipalTag/Project}""#))),
            tags: [Tag(key: "Project", value: "Beta")], expected: .accessDenied),
        Case(
            name: "ABAC: ResourceTag absent", identity: policy(can(condition: ec("StringEquals", "aws:ResourceTag/Missing", #""Alpha""#))),
            expected: .accessDenied),
        Case(
            name: "RequestAlias", identity: policy(can(condition: ec("StringEquals", "kms:RequestAlias", #""alias/app-key""#))),
            request: .encrypt(viaAlias: true)),
        Case(
            name: "RequestAlias by key ID", identity: policy(can(condition: ec("StringEquals", "kms:RequestAlias", #""alias/app-key""#))),
            expected: .accessDenied),
        Case(name: "ResourceAliases", identity: policy(can(condition: ec("ForAnyValue:StringEquals", "kms:ResourceAliases", #""alias/app-key""#)))),
        Case(
            name: "ResourceAliases other", identity: policy(can(condition: ec("ForAnyValue:StringEquals", "kms:ResourceAliases", #""alias/other""#))),
            expected: .accessDenied),
        Case(name: "aws:username", identity: policy(can(condition: ec("StringEquals", "aws:username", #""alice""#)))),
        Case(
            name: "aws:PrincipalType role",
            keyPolicy: policy(
                admin, allow(aws("arn:aws:iam::111122223333:role/app"), condition: ec("StringEquals", "aws:PrincipalType", #""AssumedRole""#))),
            caller: role),
        Case(name: "aws:CurrentTime before", identity: policy(can(condition: ec("DateLessThan", "aws:CurrentTime", #""2100-01-01T00:00:00Z""#)))),
        Case(
            name: "aws:CurrentTime after", identity: policy(can(condition: ec("DateGreaterThan", "aws:CurrentTime", #""2100-01-01T00:00:00Z""#))),
            expected: .accessDenied),
        Case(name: "aws:EpochTime", identity: policy(can(condition: ec("NumericGreaterThan", "aws:EpochTime", "1000")))),
        Case(
            name: "aws:SecureTransport deny over HTTP", identity: policy(can(), cannot(condition: ec("Bool", "aws:SecureTransport", "false"))),
            expected: .accessDenied),
        Case(
            name: "aws:SourceIp deny other network", identity: policy(can(), cannot(condition: ec("NotIpAddress", "aws:SourceIp", #""10.0.0.0/8""#)))),
        Case(
            name: "aws:RequestTag on TagResource", identity: policy(can(condition: ec("StringEquals", "aws:RequestTag/Env", #""dev""#))),
            request: .tag([Tag(key: "Env", value: "dev")])),
        Case(
            name: "aws:RequestTag mismatch", identity: policy(can(condition: ec("StringEquals", "aws:RequestTag/Env", #""dev""#))),
            request: .tag([Tag(key: "Env", value: "prod")]), expected: .accessDenied),
        Case(
            name: "aws:TagKeys ForAllValues", identity: policy(can(condition: ec("ForAllValues:StringEquals", "aws:TagKeys", #"["Env"]"#))),
            request: .tag([Tag(key: "Owner", value: "x")]), expected: .accessDenied),
        Case(
            name: "CreateKey KeySpec condition",
            identity: policy(can(#""kms:CreateKey""#, condition: ec("StringEquals", "kms:KeySpec", #""SYMMETRIC_DEFAULT""#))), request: .createKey()),
        Case(
            name: "CreateKey RequestTag required",
            identity: policy(can(#""kms:CreateKey""#, condition: ec("StringEquals", "aws:RequestTag/Team", #""red""#))), request: .createKey(),
            expected: .accessDenied),
        Case(
            name: "CreateKey RequestTag given",
            identity: policy(can(#""kms:CreateKey""#, condition: ec("StringEquals", "aws:RequestTag/Team", #""red""#))),
            request: .createKey(tags: [Tag(key: "Team", value: "red")])),
    ]

    static let grants: [Case] = [
        Case(name: "grant allows grantee", grants: [GrantSpec(grantee: alice, operations: [.encrypt])]),
        Case(name: "grant for other operation", grants: [GrantSpec(grantee: alice, operations: [.decrypt])], expected: .accessDenied),
        Case(name: "grant for other grantee", grants: [GrantSpec(grantee: bob, operations: [.encrypt])], expected: .accessDenied),
        Case(name: "grant to role", grants: [GrantSpec(grantee: role, operations: [.encrypt])], caller: role),
        Case(
            name: "grant to service", grants: [GrantSpec(grantee: dynamodb, operations: [.encrypt, .decrypt])], caller: dynamodb, request: .decrypt()),
        Case(name: "grant to account needs identity policy", grants: [GrantSpec(grantee: rootA, operations: [.encrypt])], expected: .accessDenied),
        Case(
            name: "grant to account with identity policy", identity: policy(can(#""kms:Encrypt""#, resource: #""arn:aws:kms:*:*:key/none""#)),
            grants: [GrantSpec(grantee: rootA, operations: [.encrypt])], expected: .accessDenied),
        Case(name: "grant cross-account, no identity policy needed", grants: [GrantSpec(grantee: mallory, operations: [.encrypt])], caller: mallory),
        Case(
            name: "grant subset constraint holds",
            grants: [GrantSpec(grantee: alice, operations: [.decrypt], constraints: GrantConstraints(encryptionContextSubset: ["Department": "IT"]))],
            request: .decrypt(["Department": "IT", "Project": "x"])),
        Case(
            name: "grant subset constraint missing pair",
            grants: [GrantSpec(grantee: alice, operations: [.decrypt], constraints: GrantConstraints(encryptionContextSubset: ["Department": "IT"]))],
            request: .decrypt(["Project": "x"]), expected: .accessDenied),
        Case(
            name: "grant subset constraint key case-insensitive",
            grants: [GrantSpec(grantee: alice, operations: [.decrypt], constraints: GrantConstraints(encryptionContextSubset: ["Department": "IT"]))],
            request: .decrypt(["department": "IT"])),
        Case(
            name: "grant subset constraint value case-sensitive",
            grants: [GrantSpec(grantee: alice, operations: [.decrypt], constraints: GrantConstraints(encryptionContextSubset: ["Department": "IT"]))],
            request: .decrypt(["Department": "it"]), expected: .accessDenied),
        Case(
            name: "grant equals constraint exact",
            grants: [GrantSpec(grantee: alice, operations: [.encrypt], constraints: GrantConstraints(encryptionContextEquals: ["A": "1"]))],
            request: .encrypt(["A": "1"])),
        Case(
            name: "grant equals constraint extra pair",
            grants: [GrantSpec(grantee: alice, operations: [.encrypt], constraints: GrantConstraints(encryptionContextEquals: ["A": "1"]))],
            request: .encrypt(["A": "1", "B": "2"]), expected: .accessDenied),
        Case(
            name: "grant equals constraint empty context",
            grants: [GrantSpec(grantee: alice, operations: [.generateDataKey], constraints: GrantConstraints(encryptionContextEquals: ["A": "1"]))],
            request: .generateDataKey(), expected: .accessDenied),
        Case(
            name: "grant constraint ignored for DescribeKey",
            grants: [GrantSpec(grantee: alice, operations: [.describeKey], constraints: GrantConstraints(encryptionContextEquals: ["A": "1"]))],
            request: .describe),
        Case(
            name: "key policy deny beats grant", keyPolicy: policy(admin, deny(aliceP, #""kms:Encrypt""#)),
            grants: [GrantSpec(grantee: alice, operations: [.encrypt])], expected: .accessDenied),
        Case(
            name: "identity deny beats grant", identity: policy(cannot(#""kms:Encrypt""#)),
            grants: [GrantSpec(grantee: alice, operations: [.encrypt])], expected: .accessDenied),
        Case(name: "grant token accepted", grants: [GrantSpec(grantee: alice, operations: [.encrypt])], request: .encryptWithToken("valid")),
        Case(name: "grant token malformed", identity: policy(can()), request: .encryptWithToken("not-a-token"), expected: .invalidGrantToken),
        Case(
            name: "CreateGrant through grant: subset", grants: [GrantSpec(grantee: alice, operations: [.createGrant, .decrypt, .encrypt])],
            request: .createGrant(grantee: bob, operations: [.decrypt])),
        Case(
            name: "CreateGrant through grant: more operations", grants: [GrantSpec(grantee: alice, operations: [.createGrant, .decrypt])],
            request: .createGrant(grantee: bob, operations: [.decrypt, .encrypt]), expected: .accessDenied),
        Case(
            name: "CreateGrant through grant: looser constraint",
            grants: [
                GrantSpec(grantee: alice, operations: [.createGrant, .decrypt], constraints: GrantConstraints(encryptionContextSubset: ["A": "1"]))
            ],
            request: .createGrant(grantee: bob, operations: [.decrypt]), expected: .accessDenied),
        Case(
            name: "CreateGrant through grant: stricter constraint",
            grants: [
                GrantSpec(grantee: alice, operations: [.createGrant, .decrypt], constraints: GrantConstraints(encryptionContextSubset: ["A": "1"]))
            ],
            request: .createGrant(grantee: bob, operations: [.decrypt], constraints: GrantConstraints(encryptionContextEquals: ["A": "1", "B": "2"]))),
        Case(
            name: "CreateGrant GrantOperations condition",
            identity: policy(
                can(#""kms:CreateGrant""#, condition: ec("ForAllValues:StringEquals", "kms:GrantOperations", #"["Decrypt", "Encrypt"]"#))),
            request: .createGrant(grantee: bob, operations: [.decrypt])),
        Case(
            name: "CreateGrant GrantOperations condition refused",
            identity: policy(can(#""kms:CreateGrant""#, condition: ec("ForAllValues:StringEquals", "kms:GrantOperations", #"["Encrypt"]"#))),
            request: .createGrant(grantee: bob, operations: [.decrypt]), expected: .accessDenied),
        Case(
            name: "CreateGrant GranteePrincipal condition",
            identity: policy(
                can(#""kms:CreateGrant""#, condition: ec("StringEquals", "kms:GranteePrincipal", #""arn:aws:iam::111122223333:user/bob""#))),
            request: .createGrant(grantee: bob, operations: [.decrypt])),
        Case(
            name: "CreateGrant unsupported operation", caller: rootA, request: .createGrant(grantee: bob, operations: [.sign]), expected: .validation),
        Case(
            name: "retire by retiring principal", grants: [GrantSpec(grantee: bob, operations: [.decrypt], retiring: alice)],
            request: .retireGrant(byToken: true)),
        Case(
            name: "retire by grantee with RetireGrant", grants: [GrantSpec(grantee: alice, operations: [.decrypt, .retireGrant])],
            request: .retireGrant(byToken: false)),
        Case(
            name: "retire by grantee without RetireGrant", grants: [GrantSpec(grantee: alice, operations: [.decrypt])],
            request: .retireGrant(byToken: true), expected: .accessDenied),
        Case(
            name: "retire by stranger", grants: [GrantSpec(grantee: bob, operations: [.decrypt, .retireGrant])], request: .retireGrant(byToken: true),
            expected: .accessDenied),
        Case(
            name: "retire by issuing account root", grants: [GrantSpec(grantee: bob, operations: [.decrypt])], caller: rootA,
            request: .retireGrant(byToken: false)),
        Case(
            name: "retire by other account", grants: [GrantSpec(grantee: bob, operations: [.decrypt])], caller: mallory,
            request: .retireGrant(byToken: true), expected: .accessDenied),
        Case(
            name: "revoke needs kms:RevokeGrant", identity: policy(can(#""kms:Encrypt""#)), grants: [GrantSpec(grantee: bob, operations: [.decrypt])],
            request: .revokeGrant(), expected: .accessDenied),
        Case(
            name: "revoke allowed", identity: policy(can(#""kms:RevokeGrant""#)), grants: [GrantSpec(grantee: bob, operations: [.decrypt])],
            request: .revokeGrant()),
        Case(
            name: "revoked grant's grantee loses access", grants: [GrantSpec(grantee: bob, operations: [.decrypt])], caller: rootA,
            request: .revokeGrant()),
        Case(
            name: "grantee cannot revoke", grants: [GrantSpec(grantee: alice, operations: [.decrypt, .retireGrant])], request: .revokeGrant(),
            expected: .accessDenied),
        Case(
            name: "ListGrants needs permission", grants: [GrantSpec(grantee: alice, operations: [.decrypt])], request: .listGrants,
            expected: .accessDenied),
        Case(name: "ListGrants allowed", identity: policy(can(#""kms:ListGrants""#)), request: .listGrants),
    ]

    static let dryRun: [Case] = [
        Case(name: "DryRun Encrypt allowed", identity: policy(can()), request: .encrypt(dryRun: true), expected: .dryRunOperation),
        Case(name: "DryRun Encrypt denied", request: .encrypt(dryRun: true), expected: .accessDenied),
        Case(
            name: "DryRun CreateGrant", caller: rootA, request: .createGrant(grantee: bob, operations: [.decrypt], dryRun: true),
            expected: .dryRunOperation),
        Case(name: "DryRun CreateGrant denied", request: .createGrant(grantee: bob, operations: [.decrypt], dryRun: true), expected: .accessDenied),
        Case(
            name: "DryRun RetireGrant", grants: [GrantSpec(grantee: bob, operations: [.decrypt], retiring: alice)],
            request: .retireGrant(byToken: true, dryRun: true), expected: .dryRunOperation),
        Case(
            name: "DryRun RetireGrant denied", grants: [GrantSpec(grantee: bob, operations: [.decrypt])],
            request: .retireGrant(byToken: true, dryRun: true), expected: .accessDenied),
        Case(
            name: "DryRun RevokeGrant", grants: [GrantSpec(grantee: bob, operations: [.decrypt])], caller: rootA, request: .revokeGrant(dryRun: true),
            expected: .dryRunOperation),
        Case(
            name: "DryRun CreateGrant invalid operation", caller: rootA, request: .createGrant(grantee: bob, operations: [.sign], dryRun: true),
            expected: .validation),
    ]

    static let lockout: [Case] = [
        Case(name: "PutKeyPolicy keeping account root", caller: rootA, request: .putPolicy(policy(admin))),
        Case(name: "PutKeyPolicy locking root out", caller: rootA, request: .putPolicy(policy(allow(aliceP))), expected: .malformedPolicyDocument),
        Case(name: "PutKeyPolicy by user keeping own access", identity: policy(can()), request: .putPolicy(policy(allow(aliceP)))),
        Case(name: "PutKeyPolicy by user: account root kept, identity allows", identity: policy(can()), request: .putPolicy(policy(admin))),
        Case(
            name: "PutKeyPolicy denying PutKeyPolicy", caller: rootA, request: .putPolicy(policy(admin, deny(#""*""#, #""kms:PutKeyPolicy""#))),
            expected: .malformedPolicyDocument),
        Case(
            name: "PutKeyPolicy naming unknown user", caller: rootA,
            request: .putPolicy(policy(admin, allow(aws("arn:aws:iam::111122223333:user/nobody")))), expected: .malformedPolicyDocument),
        Case(name: "PutKeyPolicy naming other account root", caller: rootA, request: .putPolicy(policy(admin, allow(accountB)))),
        Case(name: "PutKeyPolicy malformed", caller: rootA, request: .putPolicy("[{\"Effect\": \"Allow\"}]"), expected: .malformedPolicyDocument),
        Case(
            name: "PutKeyPolicy without permission", identity: policy(can(#""kms:Encrypt""#)), request: .putPolicy(policy(admin)),
            expected: .accessDenied),
    ]
}
