import Foundation

/// Secret material of one version of a KMS key, as it is wrapped under the root key.
/// Each key spec family has its own conforming type.
public protocol KeyMaterial: Sendable {
    /// Material from its raw form (unwrapped from storage, or imported).
    init(unsafeRawBytes bytes: some ContiguousBytes) throws(KMSError)
    /// The raw form. Only for wrapping under the root key; never log or return it.
    func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
}

extension SymmetricKeyMaterial: KeyMaterial {}
extension HMACKeyMaterial: KeyMaterial {}
