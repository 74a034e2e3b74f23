import Foundation
import FuzzDriver
import KMSCore

/// ImportKeyMaterial's untrusted bytes: the encrypted material unwrapped with a fixed RSA
/// wrapping key under each wrapping algorithm (the first input byte picks it), and material
/// as given validated for each key spec.
let wrappingKey = try! AsymmetricKeyMaterial.generate(.rsa2048)
let algorithms: [ImportWrappingAlgorithm] = [.rsaesOAEPSHA1, .rsaesOAEPSHA256, .rsaAESKeyWrapSHA1, .rsaAESKeyWrapSHA256]
let specs = KeySpec.allCases

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    guard let first = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    _ = ImportedKeyMaterial.unwrap(rest, with: wrappingKey, algorithm: algorithms[Int(first) % algorithms.count])
    _ = try? ImportedKeyMaterial.validated(rest, for: specs[Int(first) % specs.count])
    _ = AESKeyWrap.unwrapWithPadding(rest, key: [UInt8](repeating: 3, count: 32))
    return 0
}

runFuzzer(fuzz)
