import Foundation

/// The strictness AWS's JSON 1.1 front end has and Foundation's `JSONSerialization` lacks.
/// Foundation accepts a trailing comma (`{"KeyId":"k",}`), a byte order mark and a member named
/// twice, and recurses once per nesting level. This scan runs before it over the raw bytes and
/// refuses all four; it is a lexical check of structure, not a parser: `JSONSerialization`
/// still decides everything else.
public enum JSONSyntax {
    /// How deeply arrays and objects may nest. The deepest request shape of the KMS model is
    /// four levels; policies travel as strings.
    public static let maximumDepth = 32

    public enum Violation: Error, Equatable {
        case byteOrderMark, trailingComma, duplicateMember, tooDeep
    }

    private struct Container {
        var isObject: Bool
        /// Member names as sent (ASCII: equal as bytes is equal as text).
        var members: Set<[UInt8]> = []
        /// Member names beyond ASCII, decoded: a `String` set holds canonically equivalent
        /// names equal, as the Swift dictionary the parser builds would, so `café` composed
        /// and decomposed are one name twice rather than one silently dropped.
        var unicodeMembers: Set<String> = []

        /// Adds a member name (its bytes between the quotes); false when it is there already.
        mutating func insert(_ raw: [UInt8]) -> Bool {
            if raw.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\\") }) { return members.insert(raw).inserted }
            let quoted = [UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")]
            guard case .string(let name)? = JSONValue.parse(bytes: quoted) else { return true }  // not JSON: the parser refuses it
            return name.utf8.allSatisfy({ $0 < 0x80 }) ? members.insert(Array(name.utf8)).inserted : unicodeMembers.insert(name).inserted
        }
    }

    /// Returns the first violation found, or nil. Bytes that are not JSON at all pass
    /// through: the parser refuses them.
    public static func violation(in bytes: some Collection<UInt8>) -> Violation? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return .byteOrderMark }
        var stack: [Container] = []
        var last: UInt8 = 0  // the last structural byte or string end (`"`) outside strings
        var inString = false, escaped = false
        var token: [UInt8] = []
        var tokenIsMemberName = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    last = UInt8(ascii: "\"")
                    if tokenIsMemberName {
                        guard stack[stack.count - 1].insert(token) else { return .duplicateMember }
                    }
                    continue
                }
                if tokenIsMemberName { token.append(byte) }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\""):
                inString = true
                tokenIsMemberName = stack.last?.isObject == true && (last == UInt8(ascii: "{") || last == UInt8(ascii: ","))
                token.removeAll(keepingCapacity: true)
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < maximumDepth else { return .tooDeep }
                stack.append(Container(isObject: byte == UInt8(ascii: "{")))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if last == UInt8(ascii: ",") { return .trailingComma }
                _ = stack.popLast()
            default:
                break
            }
            last = byte
        }
        return nil
    }
}
