import Crypto
import Foundation
import Testing

@testable import KMSCore

/// The XKS pieces SwiftKMS computes itself: the CDIV (the specification's own example), the
/// external key's layer of a blob, and the SigV4 signature of a request to a proxy.
@Suite struct XKSTests {
    /// Appendix C: 33 bytes of AAD, 13 of metadata, 12 of IV, 12 of ciphertext, a 16-byte tag.
    @Test func ciphertextDataIntegrityValueOfTheSpecificationsExample() throws {
        let aad = Array("project=nile,department=marketing".utf8)
        let metadata = Array("key_version=1".utf8)
        let iv = try #require(Hex.decode("1ccae5470f39700254779031"))
        let ciphertext = try #require(Hex.decode("821c642b5b71783367deaf18"))
        let tag = try #require(Hex.decode("bc1c4dda7707d6812447c5955e99b261"))
        let value = XKS.ciphertextDataIntegrityValue(aad: aad, ciphertextMetadata: metadata, iv: iv, ciphertext: ciphertext, tag: tag)
        #expect(Data(value).base64EncodedString() == "qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=")
    }

    let material = SymmetricKeyMaterial.generate()
    let externalKey = SymmetricKey(size: .bits256)
    let context = EncryptionContext(["app": "demo"])

    /// A stand-in for the proxy: AES-GCM under `externalKey`, recording the AAD it was given.
    func proxyEncrypt(_ plaintext: [UInt8], _ aad: [UInt8]) throws(KMSError) -> XKSSealed {
        do {
            let box = try AES.GCM.seal(plaintext, using: externalKey, authenticating: aad)
            return XKSSealed(iv: Array(box.nonce), ciphertextMetadata: [7, 7], tag: Array(box.tag), ciphertext: Array(box.ciphertext))
        } catch { throw KMSError.internalFailure() }
    }

    func proxyDecrypt(_ sealed: XKSSealed, _ aad: [UInt8]) throws(KMSError) -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: sealed.iv), ciphertext: sealed.ciphertext, tag: sealed.tag)
            return Array(try AES.GCM.open(box, using: externalKey, authenticating: aad))
        } catch { throw KMSError.invalidCiphertext }
    }

    func wrapped(_ plaintext: [UInt8], context: EncryptionContext) async throws -> [UInt8] {
        let inner = try material.encrypt(
            plaintext, context: context, account: "111122223333", keyID: "1234abcd-12ab-34cd-56ef-1234567890ab", materialVersion: 1)
        return try await SymmetricCiphertext.wrappedThroughXKS(inner, context: context) { p, a throws(KMSError) in try proxyEncrypt(p, a) }
    }

    @Test func doubleEncryptionRoundTripsAndBindsTheContext() async throws {
        let blob = try await wrapped(Array("secret".utf8), context: context)
        // Header, lengths, IV, metadata, tag, then the inner sealed box (6 + 16 bytes) sealed again.
        let expected: Int = SymmetricCiphertext.headerLength + 2 + 12 + 2 + 16 + 6 + 16
        #expect(blob.count == expected)
        #expect(blob[62] == 12 && blob[63] == 2)
        let parsed = try SymmetricCiphertext(parsing: blob)
        let inner = try await parsed.unwrappedThroughXKS(context: context) { s, a throws(KMSError) in try proxyDecrypt(s, a) }
        #expect(Array(try material.decrypt(inner, context: context)) == Array("secret".utf8))
        // Another context: the external key refuses the layer (its AAD has the context's hash).
        await #expect(throws: KMSError.invalidCiphertext) {
            _ = try await parsed.unwrappedThroughXKS(context: EncryptionContext(["app": "other"])) { s, a throws(KMSError) in try proxyDecrypt(s, a) }
        }
    }

    @Test(arguments: [0, 1, 2, 5, 30, 33, 50])
    func truncatedLayersAreInvalidCiphertexts(keep: Int) async throws {
        let blob = try await wrapped([1, 2, 3], context: context)
        var cut = Array(blob.prefix(62 + keep))
        cut += [UInt8](repeating: 0, count: max(0, 16 - keep))  // still a parseable format-1 blob
        let parsed = try SymmetricCiphertext(parsing: cut)
        await #expect(throws: KMSError.invalidCiphertext) {
            _ = try await parsed.unwrappedThroughXKS(context: context) { s, a throws(KMSError) in try proxyDecrypt(s, a) }
        }
    }

    @Test func anIVLengthOtherThan12Or16IsRefused() async throws {
        var blob = try await wrapped([1, 2, 3], context: context)
        blob[62] = 13
        let parsed = try SymmetricCiphertext(parsing: blob)
        await #expect(throws: KMSError.invalidCiphertext) {
            _ = try await parsed.unwrappedThroughXKS(context: context) { s, a throws(KMSError) in try proxyDecrypt(s, a) }
        }
    }

    /// A request signed by `SigV4.authorization` passes SigV4's own verification for the
    /// proxy's service, and fails with another secret.
    @Test func signedProxyRequestsVerify() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var request = SigV4.HTTPRequest(
            method: "POST", path: "/acme/kms/xks/v1/health", query: "",
            headers: [("host", "xks.example.com"), ("x-amz-date", UTCTime.basic(now)), ("content-type", "application/json")],
            body: Data(#"{"requestMetadata":{}}"#.utf8))
        let secret = "FYtE5EFA5FT0mCc3DrGUe2sti527BitkQ0Zr9MO9fvE"
        request.headers.append(
            (
                "authorization",
                SigV4.authorization(
                    for: request, accessKeyID: "AKIAI2SFODNN7EXAMPLE", secret: secret, region: "eu-west-1", service: XKS.signingService, date: now)
            ))
        let checked = try SigV4.preflight(
            request, now: now.addingTimeInterval(60), service: XKS.signingService, requiredSignedHeaders: ["host", "x-amz-date"], allowedSkew: 300)
        #expect(checked.authorization.signedHeaders == ["content-type", "host", "x-amz-date"])
        try SigV4.verifySignature(request, checked, secret: secret)
        #expect(throws: KMSError.self) { try SigV4.verifySignature(request, checked, secret: secret + "x") }
        #expect(throws: KMSError.self) {
            _ = try SigV4.preflight(request, now: now.addingTimeInterval(301), service: XKS.signingService, allowedSkew: 300)
        }
    }
}
