import Foundation

/// Base64 as AWS's services read it (RFC 4648 §4): the standard alphabet, length a multiple
/// of four, at most two `=` and only at the end. Foundation's decoder also takes forms AWS
/// refuses (`====` decodes to one zero byte), so every base64 from a request goes through here.
public enum Base64 {
    /// The bytes `text` encodes; nil when it is not canonical base64 in the sense above.
    public static func decodeStrict(_ text: String) -> [UInt8]? {
        let bytes = text.utf8
        guard bytes.count % 4 == 0 else { return nil }
        var padding = 0
        for byte in bytes {
            if byte == UInt8(ascii: "=") {
                padding += 1
            } else if padding > 0 || !isStandardAlphabet(byte) {
                return nil
            }
        }
        guard padding <= 2, let data = Data(base64Encoded: text) else { return nil }
        return Array(data)
    }

    /// `A–Z a–z 0–9 + /`.
    @inlinable
    public static func isStandardAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "+"), UInt8(ascii: "/"):
            true
        default: false
        }
    }

    /// `A–Z a–z 0–9 - _` (RFC 4648 §5, unpadded).
    @inlinable
    public static func isURLSafeAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
