extension UInt8 {
    /// The byte with an ASCII capital lowered; every other byte as it is. For case-insensitive
    /// comparison of ASCII names (header names, actions, condition keys) without `lowercased()`'s
    /// Unicode case mapping and copies.
    @inlinable
    public var asciiLowercased: UInt8 {
        self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z") ? self | 0x20 : self
    }
}

extension String {
    /// Whether the two hold the same UTF-8 bytes. Swift's `==` (and a `String`-keyed
    /// dictionary) holds canonically equivalent strings equal — `café` composed and decomposed —
    /// while an encryption context binds bytes and AWS compares policy and grant values exactly.
    @inlinable
    public func bytewiseEquals(_ other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}

extension StringProtocol {
    /// Whether every byte is an ASCII letter or digit, or one of `others` (ASCII). For the
    /// identifiers AWS's models restrict to such an alphabet (external key IDs, URI paths, …).
    public func isASCIIAlphanumeric(or others: String) -> Bool {
        let extra = Set(others.utf8)
        return utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || extra.contains(byte)
        }
    }
}
