extension UInt8 {
    /// The byte with an ASCII capital lowered; every other byte as it is. For case-insensitive
    /// comparison of ASCII names (header names, actions, condition keys) without `lowercased()`'s
    /// Unicode case mapping and copies.
    @inlinable
    public var asciiLowercased: UInt8 {
        self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z") ? self | 0x20 : self
    }
}
