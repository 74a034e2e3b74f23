import COpenSSL
import Crypto

/// The hashes of signing algorithms: swift-crypto computes the SHA-2 family, OpenSSL SM3; the
/// OpenSSL digest object tells OpenSSL which one a digest was made with.
enum HashAlgorithm: Sendable {
    case sha1, sha256, sha384, sha512, sm3

    var byteCount: Int {
        switch self {
        case .sha1: 20
        case .sha256, .sm3: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    func hash(_ message: [UInt8]) throws(KMSError) -> [UInt8] {
        switch self {
        case .sha1: Array(Insecure.SHA1.hash(data: message))
        case .sha256: Array(SHA256.hash(data: message))
        case .sha384: Array(SHA384.hash(data: message))
        case .sha512: Array(SHA512.hash(data: message))
        case .sm3: try Self.sm3(message)
        }
    }

    var openSSL: OpaquePointer {
        switch self {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        case .sm3: EVP_sm3()
        }
    }

    private static func sm3(_ message: [UInt8]) throws(KMSError) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard EVP_Digest(message, message.count, &digest, &length, EVP_sm3(), nil) == 1, length == 32 else {
            ERR_clear_error()
            throw KMSError.internalFailure()
        }
        return digest
    }
}
