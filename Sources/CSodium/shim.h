// libsodium (Debian libsodium-dev), for Ed25519ph (RFC 8032 §5.1, HashEdDSA), which neither
// swift-crypto nor OpenSSL 3.0 offers. Used only from Sources/KMSCore/Ed25519ph.swift.
#include <sodium.h>
