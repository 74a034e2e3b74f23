import Foundation
import FuzzDriver
import KMSCore

/// A key or identity policy as PutKeyPolicy and `admin attach-policy` read it, then evaluated
/// for a fixed request; and the deleted-principal rewrite over the same text.
let request = AuthorizationRequest(
    principal: .user(account: "111122223333", "alice"), action: "kms:Encrypt",
    resource: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    conditionValues: [
        "kms:EncryptionContext:app": ["demo"], "aws:SourceIp": ["10.1.2.3"], "aws:CurrentTime": ["2026-12-03T00:00:00Z"],
        "aws:PrincipalTag/team": ["blue"], "kms:GrantOperations": ["Encrypt", "Decrypt"],
    ])

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    for kind in [PolicyDocument.Kind.keyPolicy, .identityPolicy] {
        if let policy = try? PolicyDocument.parse(text, as: kind) { _ = policy.evaluate(request) }
    }
    if let rewritten = PolicyDocument.replacingPrincipal("arn:aws:iam::111122223333:user/alice", with: "AIDAAAAAAAAAAAAAAAAAA", in: text) {
        precondition(JSONValue.parse(rewritten) != nil, "a rewritten policy that is not JSON")
    }
    return 0
}

runFuzzer(fuzz)
