import Foundation
import FuzzDriver
import KMSCore
@_spi(Fuzzing) import KMSProtocol

/// Tokens and markers a client hands back: grant tokens, pagination markers, forward access
/// tokens, and base64 as every blob is read.
let rootKey = try! RootKey(rawBytes: [UInt8](repeating: 1, count: 32))

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? KMSAPI.parseGrantToken(text)
    _ = try? KMSAPI.parseMarker(text)
    _ = ForwardAccessToken.open(text, with: rootKey)
    _ = Base64.decodeStrict(text)
    return 0
}

runFuzzer(fuzz)
