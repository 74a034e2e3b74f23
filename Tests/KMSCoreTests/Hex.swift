import KMSCore

/// Hex spellings for test vectors, through KMSCore's `Hex`.
extension Array where Element == UInt8 {
    init(hex: String) {
        self = Hex.decode(hex)!
    }

    var hex: String { Hex.encode(self) }
}
