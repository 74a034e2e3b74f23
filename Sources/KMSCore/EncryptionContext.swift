import Foundation

/// Non-secret key–value pairs bound to a symmetric ciphertext as additional authenticated
/// data: decryption succeeds only with exactly the same pairs, in any order.
public struct EncryptionContext: Sendable, Equatable {
    public var pairs: [String: String]

    public init(_ pairs: [String: String] = [:]) {
        self.pairs = pairs
    }

    public var isEmpty: Bool { pairs.isEmpty }

    /// The canonical byte form used as AAD:
    ///
    ///     count (UInt32 BE) || for each pair sorted by the key's UTF-8 bytes:
    ///         keyLength (UInt32 BE) || key UTF-8 || valueLength (UInt32 BE) || value UTF-8
    ///
    /// Independent of the order in which pairs arrived; any change to a key or value,
    /// or a pair added or removed, changes it.
    public var canonicalBytes: [UInt8] {
        let sorted = pairs.map { (Array($0.key.utf8), Array($0.value.utf8)) }
            .sorted { $0.0.lexicographicallyPrecedes($1.0) }
        var out: [UInt8] = []
        out.reserveCapacity(4 + sorted.reduce(0) { $0 + 8 + $1.0.count + $1.1.count })
        out.appendBigEndian(UInt32(sorted.count))
        for (key, value) in sorted {
            out.appendBigEndian(UInt32(key.count))
            out.append(contentsOf: key)
            out.appendBigEndian(UInt32(value.count))
            out.append(contentsOf: value)
        }
        return out
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}
