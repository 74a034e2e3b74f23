import COpenSSL

/// The hashes of signing algorithms, computed by OpenSSL, whose digest object also tells
/// OpenSSL which hash a digest was made with.
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

    var openSSL: OpaquePointer {
        switch self {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        case .sm3: EVP_sm3()
        }
    }

    func hash(_ message: [UInt8]) throws(KMSError) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: byteCount)
        var length: UInt32 = 0
        guard EVP_Digest(message, message.count, &digest, &length, openSSL, nil) == 1, length == byteCount else {
            ERR_clear_error()
            throw KMSError.internalFailure()
        }
        return digest
    }
}
