import Foundation
import FuzzDriver
import KMSCore

/// A ciphertext blob as Decrypt reads it: the header parsed; a blob that parses is opened
/// with a fixed key (which must fail cleanly, never crash).
let key = try! SymmetricKeyMaterial(unsafeRawBytes: [UInt8](repeating: 7, count: 32))

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    let blob = Array(bytes)
    guard let ciphertext = try? SymmetricCiphertext(parsing: blob) else { return 0 }
    _ = try? key.decrypt(ciphertext, context: EncryptionContext(["k": "v"]))
    _ = Base64.decodeStrict(String(decoding: blob, as: UTF8.self))
    return 0
}

runFuzzer(fuzz)
