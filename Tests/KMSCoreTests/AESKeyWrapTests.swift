import Testing

@testable import KMSCore

/// AES key wrap with padding against RFC 5649's own examples (section 6).
@Suite struct AESKeyWrapTests {
    static let kek = [UInt8](hex: "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")

    @Test func rfc5649Example20Octets() throws {
        let key = [UInt8](hex: "c37b7e6492584340bed12207808941155068f738")
        let wrapped = [UInt8](hex: "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a")
        #expect(AESKeyWrap.wrapWithPadding(key, key: Self.kek) == wrapped)
        #expect(AESKeyWrap.unwrapWithPadding(wrapped, key: Self.kek) == key)
    }

    @Test func rfc5649Example7Octets() throws {
        let key = [UInt8](hex: "466f7250617369")
        let wrapped = [UInt8](hex: "afbeb0f07dfbf5419200f2ccb50bb24f")
        #expect(AESKeyWrap.wrapWithPadding(key, key: Self.kek) == wrapped)
        #expect(AESKeyWrap.unwrapWithPadding(wrapped, key: Self.kek) == key)
    }

    @Test func tamperedOrWrongKeyFails() {
        var wrapped = [UInt8](hex: "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a")
        wrapped[5] ^= 1
        #expect(AESKeyWrap.unwrapWithPadding(wrapped, key: Self.kek) == nil)
        #expect(AESKeyWrap.unwrapWithPadding([UInt8](hex: "afbeb0f07dfbf5419200f2ccb50bb24f"), key: [UInt8](repeating: 0, count: 24)) == nil)
    }
}
