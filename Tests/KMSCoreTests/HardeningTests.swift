import Foundation
import Testing

@testable import KMSCore

/// What the security review of 33cfde3 asked of the core: exact comparisons, strict base64 and
/// JSON, forward access tokens, and policies that stop naming a deleted principal.
@Suite struct HardeningTests {
    static let nfc = "caf\u{E9}", nfd = "cafe\u{301}"

    @Test func canonicallyEquivalentStringsAreNotTheSameBytes() {
        #expect(Self.nfc == Self.nfd, "Swift's == is canonical equivalence")
        #expect(!Self.nfc.bytewiseEquals(Self.nfd))
        #expect(Self.nfc.bytewiseEquals("caf\u{E9}"))
    }

    @Test func constantTimeComparisonOfStrings() {
        #expect(ConstantTime.equals("secret/Key+1", "secret/Key+1"))
        #expect(!ConstantTime.equals("secret/Key+1", "secret/Key+2"))
        #expect(!ConstantTime.equals("secret", "secret/"))
        #expect(ConstantTime.equals("", ""))
        #expect(!ConstantTime.equals(Self.nfc, Self.nfd), "bytes, not canonical equivalence")
    }

    @Test func grantConstraintsCompareBytes() {
        let subset = GrantConstraints(encryptionContextSubset: ["Dept": Self.nfc])
        #expect(subset.allow(EncryptionContext(["dept": Self.nfc])), "keys case-insensitively")
        #expect(!subset.allow(EncryptionContext(["Dept": Self.nfd])))
        let equals = GrantConstraints(encryptionContextEquals: ["k": Self.nfc])
        #expect(!equals.allow(EncryptionContext(["k": Self.nfd])))
        #expect(!GrantConstraints(encryptionContextEquals: ["k": Self.nfd]).isAtLeastAsStrict(as: equals))
        #expect(GrantConstraints(encryptionContextEquals: ["k": Self.nfc]).isAtLeastAsStrict(as: equals))
        #expect(
            !GrantConstraints(encryptionContextSubset: ["k": Self.nfd]).isAtLeastAsStrict(
                as: GrantConstraints(encryptionContextSubset: ["k": Self.nfc])))
    }

    @Test func stringConditionsCompareBytes() throws {
        let condition = #"{"StringEquals": {"kms:EncryptionContext:k": "\#(Self.nfc)"}}"#
        let policy = try PolicyDocument.parse(
            #"""
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kms:*", "Resource": "*", "Condition": \#(condition)}]}
            """#, as: .keyPolicy)
        func decision(_ value: String) -> Bool {
            policy.evaluate(
                AuthorizationRequest(
                    principal: .root(account: "111122223333"), action: "kms:Encrypt", resource: "*",
                    conditionValues: ["kms:EncryptionContext:k": [value]])
            ).allowsCaller
        }
        #expect(decision(Self.nfc))
        #expect(!decision(Self.nfd))
        #expect(Wildcard.matches("caf?", Self.nfc))
        #expect(!Wildcard.matches("caf\u{E9}*", Self.nfd), "wildcards beyond ASCII compare scalars")
    }

    @Test func strictBase64() {
        #expect(Base64.decodeStrict("AAE=") == [0, 1])
        #expect(Base64.decodeStrict("") == [])
        for bad in ["====", "A===", "AA=A", "AAA", "AA==AA==", "AA A", "AA-_", "AAAA\n"] {
            #expect(Base64.decodeStrict(bad) == nil, "\(bad)")
        }
    }

    @Test func jsonSyntax() {
        func violation(_ text: String) -> JSONSyntax.Violation? { JSONSyntax.violation(in: Array(text.utf8)) }
        #expect(violation(#"{"a":[1,2],"b":{"c":"d,}"}}"#) == nil)
        #expect(violation(#"{"a":1,}"#) == .trailingComma)
        #expect(violation(#"[1, ]"#) == .trailingComma)
        #expect(violation("\u{FEFF}{}") == .byteOrderMark)
        #expect(violation(#"{"a":1,"a":2}"#) == .duplicateMember)
        #expect(violation(#"{"a":{"b":1},"b":2}"#) == nil, "the same name in another object")
        #expect(violation(#"{"a":1,"\u0061":2}"#) == .duplicateMember)
        #expect(violation("{\"\(Self.nfc)\":1,\"\(Self.nfd)\":2}") == .duplicateMember)
        #expect(violation(#"{"k":"a\"b","k2":"\\"}"#) == nil, "escapes inside strings")
        #expect(violation(String(repeating: "[", count: 33)) == .tooDeep)
        #expect(violation(String(repeating: "[", count: 32) + String(repeating: "]", count: 32)) == nil)
    }

    @Test func forwardAccessTokens() throws {
        let root = try RootKey(rawBytes: RootKey.generateRawBytes())
        let token = ForwardAccessToken(
            principal: .user(account: "111122223333", "bob"), principalID: "0123abcd", service: "s3.amazonaws.com",
            expiration: Date(timeIntervalSince1970: 1_800_000_000))
        let sealed = try token.seal(with: root)
        #expect(sealed.hasPrefix(ForwardAccessToken.prefix))
        #expect(ForwardAccessToken.open(sealed, with: root) == token)
        #expect(ForwardAccessToken.open(sealed, with: try RootKey(rawBytes: RootKey.generateRawBytes())) == nil, "another root key")
        var tampered = Array(sealed.utf8)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(ForwardAccessToken.open(String(decoding: tampered, as: UTF8.self), with: root) == nil)
        #expect(ForwardAccessToken.open(String(repeating: "A", count: 2_000), with: root) == nil)
        // Strings long enough that random ciphertext does not contain them by chance ("s3" did, one run in twenty).
        let readable = ["user/bob", "s3.amazonaws.com", "0123abcd"]
        #expect(
            !readable.contains { sealed.contains($0) || sealed.contains(Data($0.utf8).base64EncodedString().dropLast(2)) },
            "the claims are not readable")
    }

    @Test func aDeletedPrincipalsPolicyEntriesNameItsUniqueID() throws {
        let alice = "arn:aws:iam::111122223333:user/alice"
        let text = #"""
            {"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Principal": {"AWS": ["\#(alice)", "arn:aws:iam::111122223333:root"]}, "Action": "kms:*", "Resource": "*"},
              {"Effect": "Deny", "NotPrincipal": {"AWS": "\#(alice)"}, "Action": "kms:Decrypt", "Resource": "*"},
              {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice2"}, "Action": "kms:*", "Resource": "*"}]}
            """#
        let id = String(Principal.user(account: "111122223333", "alice").uniqueID)
        #expect(PrincipalSet.isUniqueID(id))
        let rewritten = try #require(PolicyDocument.replacingPrincipal(alice, with: id, in: text))
        #expect(!rewritten.contains("user/alice\"") && rewritten.contains("user/alice2"))
        #expect(rewritten.components(separatedBy: id).count == 3)
        let policy = try PolicyDocument.parse(rewritten, as: .keyPolicy)
        let asked = AuthorizationRequest(principal: .user(account: "111122223333", "alice"), action: "kms:Encrypt", resource: "*")
        let decision = policy.evaluate(asked)
        #expect(!decision.allowsCaller && decision.allowsCallersAccount)
        #expect(PolicyDocument.replacingPrincipal("arn:aws:iam::111122223333:user/nobody", with: id, in: text) == nil)
        for bad in ["AIDA123", "AKIAABCDEFGHIJKLMNOPQ", "aidaabcdefghijklmnopq"] { #expect(!PrincipalSet.isUniqueID(bad)) }
    }
}

/// Secrets in intermediate buffers are overwritten once used.
@Suite struct ZeroizeTests {
    @Test func theRootKeyFileBufferIsWiped() throws {
        let raw = RootKey.generateRawBytes()
        var contents = Array(Data(raw).base64EncodedString().utf8) + [0x0A]
        let key = try RootKey(keyFile: &contents)
        #expect(contents.allSatisfy { $0 == 0 }, "the file's bytes are wiped")
        let sealed = try key.sealCredential(secret: "s3cr3t", accessKeyID: "AKIA")
        #expect(try RootKey(rawBytes: raw).openCredential(sealed, accessKeyID: "AKIA") == "s3cr3t", "the same key")
        var bad = Array("not base64".utf8)
        #expect { try RootKey(keyFile: &bad) } throws: { ($0 as? KMSError)?.code == .internalFailure }
        #expect(bad.allSatisfy { $0 == 0 }, "wiped on failure too")
    }

    @Test func wipe() {
        var bytes: [UInt8] = [1, 2, 3]
        Zeroize.wipe(&bytes)
        #expect(bytes == [0, 0, 0])
        var data = Data([4, 5])
        Zeroize.wipe(&data)
        #expect(data == Data([0, 0]))
    }
}
