import Foundation
import FuzzDriver
import KMSCore

/// A Nitro Enclaves attestation document as a Recipient carries it: CBOR parsed (libcbor),
/// COSE_Sign1 and its payload read, the signature and chain checked against the root that
/// signed the corpus's documents, at a time their certificates were valid.
let root = Array(
    """
    -----BEGIN CERTIFICATE-----
    MIIBlTCCARygAwIBAgIUAxF0J2tP8v4O8KDyS5dntWntyqAwCgYIKoZIzj0EAwMw
    GjEYMBYGA1UEAwwPdGVzdCBuaXRybyByb290MB4XDTI2MTIwNDA0NDU1MloXDTI3
    MDEwMzA1NDU1MlowGjEYMBYGA1UEAwwPdGVzdCBuaXRybyByb290MHYwEAYHKoZI
    zj0CAQYFK4EEACIDYgAEBZt++IiqZevFhNFX5k3fOubucJXTyHjMrRJUjLonLrHJ
    xyh9rqfN52irwS4qGbRhYKXynX6u7R1nwacc45YbS+fxKCE0by0yGdNFYQga3U2k
    00F7fqxGLKmAbmGrbT+9oyMwITAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQE
    AwIBBjAKBggqhkjOPQQDAwNnADBkAjAo2xlzbc6JPS4CrvBk9RkHMTNX9FJfqFP6
    jWMbqUNqIYFH3doK5jH2ZlM68FjRnEECMDhKV2faTWFlYZMwlgpSYBAWFGV4S371
    uDzeUocpadkHjdpJdT6wuivTCLeYXmS2DA==
    -----END CERTIFICATE-----
    """.utf8)
let signedAt = Date(timeIntervalSince1970: 1_796_363_152)

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if let attested = try? RecipientAttestation.verify(Array(input(data, size)), root: root, at: signedAt) {
        _ = try? attested.seal([1, 2, 3])
    }
    return 0
}

runFuzzer(fuzz)
