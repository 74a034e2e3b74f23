import Foundation

/// The ciphertext blob of a symmetric KMS key (format version 1), as returned by
/// Encrypt and GenerateDataKey. Layout (all integers big-endian), documented in
/// `docs/ciphertext-format.md`:
///
///     offset  size  field
///          0     1  format version = 0x01
///          1     1  flags: bit 0 set = multi-Region key ID (`mrk-` + 32 hex); other bits 0
///          2    12  owning account ID, ASCII digits
///         14    16  key ID: the UUID's 16 bytes, or the 16 bytes after `mrk-`
///         30     4  key material version
///         34    16  derivation nonce (HKDF salt)
///         50    12  AES-GCM IV
///         62     n  AES-GCM ciphertext
///       62+n    16  AES-GCM tag
///
/// Bytes 0..<62 are the header; all of it is authenticated together with the
/// encryption context, so no byte of a blob can change without decryption failing.
public struct SymmetricCiphertext: Sendable, Equatable {
    public static let formatVersion: UInt8 = 1
    public static let headerLength = 62
    public static let tagLength = 16
    static let derivationNonceLength = 16
    static let ivLength = 12

    public var account: String
    public var keyID: String
    public var materialVersion: UInt32
    var derivationNonce: [UInt8]
    var iv: [UInt8]
    /// AES-GCM ciphertext followed by the tag.
    var sealedBox: [UInt8]

    init(account: String, keyID: String, materialVersion: UInt32, derivationNonce: [UInt8], iv: [UInt8], sealedBox: [UInt8]) {
        self.account = account
        self.keyID = keyID
        self.materialVersion = materialVersion
        self.derivationNonce = derivationNonce
        self.iv = iv
        self.sealedBox = sealedBox
    }

    /// Parses a blob. Every malformation is the one `InvalidCiphertextException`.
    public init(parsing blob: some Collection<UInt8>) throws(KMSError) {
        let bytes = Array(blob)
        guard bytes.count >= Self.headerLength + Self.tagLength,
            bytes[0] == Self.formatVersion, bytes[1] & ~0x01 == 0
        else { throw .invalidCiphertext }
        let accountBytes = bytes[2..<14]
        guard accountBytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .invalidCiphertext }
        account = String(decoding: accountBytes, as: UTF8.self)
        keyID = Self.keyIDString(Array(bytes[14..<30]), multiRegion: bytes[1] & 0x01 != 0)
        materialVersion = bytes[30..<34].reduce(0) { $0 << 8 | UInt32($1) }
        derivationNonce = Array(bytes[34..<50])
        iv = Array(bytes[50..<62])
        sealedBox = Array(bytes[62...])
    }

    /// The header bytes (offsets 0..<62).
    var header: [UInt8] {
        var out: [UInt8] = [Self.formatVersion, keyID.hasPrefix("mrk-") ? 0x01 : 0x00]
        out.reserveCapacity(Self.headerLength)
        out.append(contentsOf: Array(account.utf8))
        out.append(contentsOf: Self.keyIDBytes(keyID))
        out.appendBigEndian(materialVersion)
        out.append(contentsOf: derivationNonce)
        out.append(contentsOf: iv)
        return out
    }

    /// Whether `account` and `keyID` can be carried by this format (12-digit account,
    /// UUID or multi-Region key ID).
    static func canEncode(account: String, keyID: String) -> Bool {
        account.utf8.count == 12 && account.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            && ResourceName.isWellFormedKeyID(keyID)
    }

    static func keyIDBytes(_ keyID: String) -> [UInt8] {
        let hex = Array((keyID.hasPrefix("mrk-") ? String(keyID.dropFirst(4)) : keyID).utf8.filter { $0 != UInt8(ascii: "-") })
        func nibble(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }
        return stride(from: 0, to: hex.count, by: 2).map { nibble(hex[$0]) << 4 | nibble(hex[$0 + 1]) }
    }

    static func keyIDString(_ bytes: [UInt8], multiRegion: Bool) -> String {
        if multiRegion { return "mrk-" + Hex.encode(bytes) }
        // 8-4-4-4-12 hex digits: a dash before bytes 4, 6, 8 and 10.
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            out.append(Hex.digit(byte >> 4))
            out.append(Hex.digit(byte & 0x0f))
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// Zero-padded on the left to `length` characters (for hex digits).
    package func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
