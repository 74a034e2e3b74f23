import CCBOR
import COpenSSL
import Foundation

/// A Nitro Enclaves attestation document (the `Recipient` of Decrypt, GenerateDataKey,
/// GenerateDataKeyPair, GenerateRandom and DeriveSharedSecret), verified: a COSE_Sign1
/// (RFC 9052, ES384) whose payload is the enclave's measurements and public key, signed by a
/// certificate that chains to a trusted root (AWS's Nitro root, or one configured for tests).
///
/// What a request with one answers goes to the enclave only: `seal` wraps it for the
/// document's public key as CMS EnvelopedData, as AWS's `CiphertextForRecipient`.
public struct RecipientAttestation: Sendable {
    /// The enclave's platform configuration registers, by index (PCR0 is the image's SHA-384).
    public var pcrs: [Int: [UInt8]]
    /// The enclave's RSA public key (DER SubjectPublicKeyInfo).
    public var publicKey: [UInt8]
    public var moduleID: String

    /// The one answer to every kind of bad document: what failed is not told.
    public static let invalid = KMSError.validation("The attestation document in the Recipient parameter is not valid.")

    /// `kms:RecipientAttestation:ImageSha384` and `kms:RecipientAttestation:PCR<n>`, as
    /// lowercase hex.
    public var conditionValues: [String: [String]] {
        var values: [String: [String]] = [:]
        for (index, value) in pcrs { values["kms:RecipientAttestation:PCR\(index)"] = [Hex.encode(value)] }
        if let image = pcrs[0] { values["kms:RecipientAttestation:ImageSha384"] = [Hex.encode(image)] }
        return values
    }

    /// Parses `document` and verifies its signature and certificate chain against `root`
    /// (PEM or DER) at `now`. Any failure is `invalid`; a document without a public key is
    /// one too, since there would be nothing to encrypt the answer for.
    public static func verify(_ document: [UInt8], root: [UInt8], at now: Date) throws(KMSError) -> RecipientAttestation {
        // Views borrow from their trees: each tree is kept until the function returns.
        guard let parsed = CBORItem(parsing: document) else { throw invalid }
        defer { withExtendedLifetime(parsed) {} }
        // COSE_Sign1, tagged (18) or not.
        guard let sign1 = (parsed.item.tagged(18) ?? parsed.item).array, sign1.count == 4,
            let protected = sign1[0].bytes, sign1[1].isMap, let payload = sign1[2].bytes, let signature = sign1[3].bytes
        else { throw invalid }
        // The protected header must say ES384 (alg -35), the only algorithm Nitro signs with.
        guard let header = CBORItem(parsing: protected), let body = CBORItem(parsing: payload) else { throw invalid }
        defer { withExtendedLifetime((header, body)) {} }
        guard header.item.mapValue(forInteger: 1)?.integer == -35 else { throw invalid }
        let fields = body.item
        guard let moduleID = fields.mapValue(forText: "module_id")?.text, fields.mapValue(forText: "digest")?.text == "SHA384",
            fields.mapValue(forText: "timestamp")?.integer != nil,
            let certificate = fields.mapValue(forText: "certificate")?.bytes,
            let bundle = fields.mapValue(forText: "cabundle")?.array.map({ $0.compactMap(\.bytes) }),
            let publicKey = fields.mapValue(forText: "public_key")?.bytes, isRSAPublicKey(publicKey),
            let pcrItems = fields.mapValue(forText: "pcrs")?.mapPairs
        else { throw invalid }
        var pcrs: [Int: [UInt8]] = [:]
        for (index, value) in pcrItems {
            guard let index = index.integer, (0..<32).contains(index), let value = value.bytes, [32, 48, 64].contains(value.count) else {
                throw invalid
            }
            pcrs[Int(index)] = value
        }
        guard let signed = sigStructure(protected: protected, payload: payload) else { throw invalid }
        let verified = withPointers(bundle) { pointers, lengths in
            swiftkms_verify_attestation(
                certificate, certificate.count, pointers, lengths, bundle.count, root, root.count,
                Int64(now.timeIntervalSince1970), signed, signed.count, signature, signature.count)
        }
        guard verified == 1 else { throw invalid }
        return RecipientAttestation(pcrs: pcrs, publicKey: publicKey, moduleID: moduleID)
    }

    /// `plaintext` as CMS EnvelopedData (DER) for the document's public key: RSAES-OAEP with
    /// SHA-256 for the content key, AES-256-CBC for the content.
    public func seal(_ plaintext: some DataProtocol) throws(KMSError) -> [UInt8] {
        let content = Array(plaintext)
        var out: UnsafeMutablePointer<UInt8>?
        let length = swiftkms_cms_envelope(publicKey, publicKey.count, content, content.count, &out)
        // `verify` took only a key this can encrypt for: a failure here is OpenSSL's.
        guard length > 0, let out else { throw KMSError.internalFailure() }
        defer { swiftkms_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// Whether `spki` is a DER SubjectPublicKeyInfo of an RSA key of 2048–4096 bits, what AWS
    /// encrypts for (RSAES_OAEP_SHA_256), and nothing after it.
    static func isRSAPublicKey(_ spki: [UInt8]) -> Bool {
        spki.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let key = d2i_PUBKEY(nil, &cursor, buffer.count) else { return false }
            defer { EVP_PKEY_free(key) }
            return cursor == buffer.baseAddress.map { $0 + buffer.count } && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
                && (2048...4096).contains(EVP_PKEY_get_bits(key))
        }
    }

    /// Whether `bytes` is one X.509 certificate, PEM or DER (what `verify` takes as its root).
    public static func isCertificate(_ bytes: [UInt8]) -> Bool {
        guard bytes.count < Int(Int32.max) else { return false }
        let bio = BIO_new_mem_buf(bytes, Int32(bytes.count))
        defer { BIO_free(bio) }
        if let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
            X509_free(certificate)
            return true
        }
        return bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let certificate = d2i_X509(nil, &cursor, buffer.count) else { return false }
            X509_free(certificate)
            return cursor == buffer.baseAddress.map { $0 + buffer.count }
        }
    }

    /// COSE's Sig_structure for a COSE_Sign1: ["Signature1", protected, h'', payload].
    static func sigStructure(protected: [UInt8], payload: [UInt8]) -> [UInt8]? {
        guard let array = cbor_new_definite_array(4) else { return nil }
        var item: UnsafeMutablePointer<cbor_item_t>? = array
        defer { cbor_decref(&item) }
        let parts = [
            cbor_build_string("Signature1"), cbor_build_bytestring(protected, protected.count), cbor_build_bytestring([UInt8](), 0),
            cbor_build_bytestring(payload, payload.count),
        ]
        for part in parts {
            guard let part, cbor_array_push(array, cbor_move(part)) else { return nil }
        }
        var buffer: UnsafeMutablePointer<UInt8>?
        var capacity = 0
        let length = cbor_serialize_alloc(array, &buffer, &capacity)
        guard length > 0, let buffer else { return nil }
        defer { free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: length))
    }

    private static func withPointers<R>(
        _ buffers: [[UInt8]], _ body: (UnsafePointer<UnsafePointer<UInt8>?>, UnsafePointer<Int>) -> R
    ) -> R {
        let copies = buffers.map { bytes -> UnsafeMutablePointer<UInt8> in
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            copy.initialize(from: bytes, count: bytes.count)
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        let pointers: [UnsafePointer<UInt8>?] = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { p in buffers.map(\.count).withUnsafeBufferPointer { l in body(p.baseAddress!, l.baseAddress!) } }
    }
}

/// A decoded CBOR item tree (libcbor), freed with this object. Only definite-length strings
/// are read; anything else reads as absent.
final class CBORItem {
    let root: UnsafeMutablePointer<cbor_item_t>

    /// Nil unless `bytes` is exactly one well-formed CBOR item whose arrays and maps declare
    /// no more entries than the input could hold.
    init?(parsing bytes: [UInt8]) {
        guard !bytes.isEmpty, Self.declaresPlausibleSizes(bytes) else { return nil }
        var result = cbor_load_result()
        guard let item = cbor_load(bytes, bytes.count, &result) else { return nil }
        guard result.error.code == CBOR_ERR_NONE, result.read == bytes.count else {
            var owned: UnsafeMutablePointer<cbor_item_t>? = item
            cbor_decref(&owned)
            return nil
        }
        root = item
    }

    deinit {
        var owned: UnsafeMutablePointer<cbor_item_t>? = root
        cbor_decref(&owned)
    }

    /// libcbor allocates a definite array or map for its declared size before it reads the
    /// entries: 9 bytes could ask for 2^61 of them. So the headers are first walked with its
    /// streaming decoder, and any collection declaring more entries than bytes remain (each
    /// takes at least one, a map entry two) refuses the input.
    static func declaresPlausibleSizes(_ bytes: [UInt8]) -> Bool {
        struct Scan {
            var remaining = 0
            var plausible = true
        }
        var callbacks = cbor_empty_callbacks
        callbacks.array_start = { context, size in
            guard let scan = context?.assumingMemoryBound(to: Scan.self) else { return }
            if size > scan.pointee.remaining { scan.pointee.plausible = false }
        }
        callbacks.map_start = { context, size in
            guard let scan = context?.assumingMemoryBound(to: Scan.self) else { return }
            if size > scan.pointee.remaining / 2 { scan.pointee.plausible = false }
        }
        var scan = Scan()
        return bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            var offset = 0
            while offset < buffer.count {
                scan.remaining = buffer.count - offset
                let result = cbor_stream_decode(base + offset, buffer.count - offset, &callbacks, &scan)
                guard result.status == CBOR_DECODER_FINISHED, result.read > 0, scan.plausible else { return false }
                offset += result.read
            }
            return true
        }
    }

    var item: CBORView { CBORView(pointer: root) }
}

/// A borrowed view of an item of a `CBORItem` tree; valid while the tree lives.
struct CBORView {
    let pointer: UnsafeMutablePointer<cbor_item_t>

    var bytes: [UInt8]? {
        guard cbor_isa_bytestring(pointer), cbor_bytestring_is_definite(pointer) else { return nil }
        let length = cbor_bytestring_length(pointer)
        guard length > 0, let handle = cbor_bytestring_handle(pointer) else { return length == 0 ? [] : nil }
        return Array(UnsafeBufferPointer(start: handle, count: length))
    }

    var text: String? {
        guard cbor_isa_string(pointer), cbor_string_is_definite(pointer), let handle = cbor_string_handle(pointer) else { return nil }
        return String(validating: UnsafeBufferPointer(start: handle, count: cbor_string_length(pointer)), as: UTF8.self)
    }

    /// An integer within ±2^62 (none here is larger).
    var integer: Int64? {
        guard cbor_isa_uint(pointer) || cbor_isa_negint(pointer) else { return nil }
        let magnitude = cbor_get_int(pointer)
        guard magnitude < (1 << 62) else { return nil }
        return cbor_isa_uint(pointer) ? Int64(magnitude) : -1 - Int64(magnitude)
    }

    var array: [CBORView]? {
        guard cbor_isa_array(pointer), cbor_array_is_definite(pointer), let handle = cbor_array_handle(pointer) else {
            return cbor_isa_array(pointer) && cbor_array_size(pointer) == 0 ? [] : nil
        }
        return (0..<cbor_array_size(pointer)).compactMap { handle[$0].map(CBORView.init) }
    }

    var isMap: Bool { cbor_isa_map(pointer) }

    var mapPairs: [(CBORView, CBORView)]? {
        guard cbor_isa_map(pointer), cbor_map_is_definite(pointer) else { return nil }
        let size = cbor_map_size(pointer)
        guard size > 0, let handle = cbor_map_handle(pointer) else { return size == 0 ? [] : nil }
        return (0..<size).compactMap { i in
            guard let key = handle[i].key, let value = handle[i].value else { return nil }
            return (CBORView(pointer: key), CBORView(pointer: value))
        }
    }

    func mapValue(forText key: String) -> CBORView? { mapPairs?.first { $0.0.text == key }?.1 }
    func mapValue(forInteger key: Int64) -> CBORView? { mapPairs?.first { $0.0.integer == key }?.1 }

    /// The item a tag `tag` wraps.
    func tagged(_ tag: UInt64) -> CBORView? {
        guard cbor_isa_tag(pointer), cbor_tag_value(pointer) == tag, let inner = pointer.pointee.metadata.tag_metadata.tagged_item else {
            return nil
        }
        return CBORView(pointer: inner)
    }
}
