import Crypto
import Foundation
import Testing

@testable import KMSCore
@testable import KMSService

/// The operations only the Python interoperability tests reached before, through the service,
/// checked with swift-crypto (an implementation the service does not use for these keys).
@Suite struct OperationCoverageTests {
    @Test func generateDataKeyWithoutPlaintextGivesABlobThatDecryptsToTheKey() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        let out = try await f.service.generateDataKeyWithoutPlaintext(
            keyID: key.id, keySpec: .aes256, numberOfBytes: nil,
            context: EncryptionContext(["purpose": "test"]), dryRun: nil, f.context)
        #expect(out.keyARN == key.arn)
        let opened = try await f.service.decrypt(
            ciphertext: Data(out.ciphertextBlob), context: EncryptionContext(["purpose": "test"]), keyID: nil,
            algorithm: nil, dryRun: nil, f.context)
        #expect(opened.plaintext.count == 32)
        let wrongContext = await errorCode {
            _ = try await f.service.decrypt(
                ciphertext: Data(out.ciphertextBlob), context: EncryptionContext([:]), keyID: nil, algorithm: nil,
                dryRun: nil, f.context)
        }
        #expect(wrongContext == .invalidCiphertext)
    }

    @Test(arguments: [true, false])
    func generateDataKeyPairMatchesItsPublicKey(withPlaintext: Bool) async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        let out =
            withPlaintext
            ? try await f.service.generateDataKeyPair(keyID: key.id, spec: .eccNistP256, context: EncryptionContext([:]), dryRun: nil, f.context)
            : try await f.service.generateDataKeyPairWithoutPlaintext(
                keyID: key.id, spec: .eccNistP256, context: EncryptionContext([:]), dryRun: nil, f.context)
        #expect((out.privateKeyPlaintext != nil) == withPlaintext, "WithoutPlaintext returns no private key")
        let sealed = try await f.service.decrypt(
            ciphertext: Data(out.privateKeyCiphertextBlob), context: EncryptionContext([:]), keyID: nil,
            algorithm: nil, dryRun: nil, f.context
        ).plaintext
        if let plaintext = out.privateKeyPlaintext { #expect(plaintext == sealed, "the blob holds the private key returned") }
        let privateKey = try P256.Signing.PrivateKey(derRepresentation: sealed)
        #expect(Array(privateKey.publicKey.derRepresentation) == out.publicKey)
        // An asymmetric KMS key can't protect a data key pair.
        let rsa = try await f.createKey(.init(keyUsage: .encryptDecrypt, keySpec: .rsa2048))
        #expect(
            await errorCode {
                _ = try await f.service.generateDataKeyPair(
                    keyID: rsa.id, spec: .eccNistP256, context: EncryptionContext([:]), dryRun: nil, f.context)
            } == .invalidKeyUsage)
    }

    @Test func deriveSharedSecretAgreesWithThePeer() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey(.init(keyUsage: .keyAgreement, keySpec: .eccNistP256))
        let peer = P256.KeyAgreement.PrivateKey()
        let derived = try await f.service.deriveSharedSecret(
            keyID: key.id, algorithm: .ecdh, peerPublicKey: peer.publicKey.derRepresentation,
            dryRun: nil, f.context)
        let ours = try P256.KeyAgreement.PublicKey(derRepresentation: try await f.service.getPublicKey(keyID: key.id, f.context).publicKey)
        let expected = try peer.sharedSecretFromKeyAgreement(with: ours).withUnsafeBytes { Array($0) }
        #expect(derived.secret == expected)
        let otherCurve = P384.KeyAgreement.PrivateKey().publicKey.derRepresentation
        #expect(
            await errorCode {
                _ = try await f.service.deriveSharedSecret(keyID: key.id, algorithm: .ecdh, peerPublicKey: otherCurve, dryRun: nil, f.context)
            } == .validation)
        let encryptionKey = try await f.createKey()
        #expect(
            await errorCode {
                _ = try await f.service.deriveSharedSecret(
                    keyID: encryptionKey.id, algorithm: .ecdh, peerPublicKey: peer.publicKey.derRepresentation,
                    dryRun: nil, f.context)
            } == .invalidKeyUsage)
    }

    @Test func listRetirableGrantsListsTheGrantsAPrincipalMayRetire() async throws {
        let f = try ServiceFixture()
        let key = try await f.createKey()
        let credentials = Credentials(store: f.service.store.base, rootKey: f.service.rootKey)
        for name in ["bob", "carol"] { _ = try await credentials.createPrincipal(.user, account: "111122223333", name: name) }
        let bob = "arn:aws:iam::111122223333:user/bob"
        let carol = "arn:aws:iam::111122223333:user/carol"
        let grant = try await f.service.createGrant(
            .init(keyID: key.id, granteePrincipal: carol, retiringPrincipal: bob, operations: [.encrypt]), f.context)
        _ = try await f.service.createGrant(.init(keyID: key.id, granteePrincipal: bob, retiringPrincipal: carol, operations: [.decrypt]), f.context)
        let listed = try await f.service.listRetirableGrants(retiringPrincipal: bob, limit: nil, marker: nil, f.context)
        #expect(listed.grants.map(\.id) == [grant.grantID] && listed.nextMarker == nil)
        #expect(
            try await f.service.listRetirableGrants(
                retiringPrincipal: "arn:aws:iam::111122223333:user/nobody", limit: nil, marker: nil,
                f.context
            ).grants.isEmpty)
        // Another account's principals are that account's business.
        #expect(
            await errorCode {
                _ = try await f.service.listRetirableGrants(
                    retiringPrincipal: "arn:aws:iam::444455556666:user/bob", limit: nil, marker: nil, f.context)
            } == .accessDenied)
    }

    @Test func aForwardAccessTokenIsMadeByItsPrincipalOnly() async throws {
        let f = try ServiceFixture()
        let credentials = Credentials(store: f.service.store.base, rootKey: f.service.rootKey)
        _ = try await credentials.bootstrapRoot(account: "111122223333", given: nil)
        _ = try await credentials.createPrincipal(.service, account: "111122223333", name: "s3.amazonaws.com")
        let made = try await f.service.createForwardAccessToken(servicePrincipal: "s3.amazonaws.com", durationSeconds: 300, f.context)
        #expect(made.token.hasPrefix(ForwardAccessToken.prefix))
        #expect(made.expiration == f.clock.now().addingTimeInterval(300))
        let service = RequestContext(
            principal: Principal(account: "111122223333", kind: .service, name: "s3.amazonaws.com"),
            region: "us-east-1", requestID: "test")
        #expect(
            await errorCode {
                _ = try await f.service.createForwardAccessToken(servicePrincipal: "s3.amazonaws.com", durationSeconds: 300, service)
            } == .accessDenied)
    }
}
