// ML-DSA (FIPS 204) through the C functions of the BoringSSL that swift-crypto bundles: its
// Swift API has no ML-DSA-44 and no external mu; these functions have both. They are not
// swift-crypto's public API, so Package.swift pins swift-crypto to an exact version.
//
// A C target with a header of its own, so that Swift code never loads BoringSSL's headers:
// they define OpenSSL's names (NID_ED25519, BIGNUM, ...) differently, and a Swift module that
// loads both BoringSSL's and OpenSSL 3's headers gets whichever definition wins.
#ifndef SWIFTKMS_CBORINGMLDSA_H
#define SWIFTKMS_CBORINGMLDSA_H

#include <stddef.h>
#include <stdint.h>

/// An expanded ML-DSA private key and its public key. Only read once made: safe to share.
typedef struct swiftkms_mldsa_key swiftkms_mldsa_key;

/// `level` is 44, 65 or 87. NULL for another level, or when allocation fails.
swiftkms_mldsa_key *swiftkms_mldsa_key_new(int level, const uint8_t seed[32]);
/// Zeroes and frees the key.
void swiftkms_mldsa_key_free(swiftkms_mldsa_key *key);

/// Sizes of an encoded public key and a signature; 0 for an unknown level.
size_t swiftkms_mldsa_public_key_bytes(int level);
size_t swiftkms_mldsa_signature_bytes(int level);

/// Writes the encoded public key (swiftkms_mldsa_public_key_bytes). Returns 1, or 0.
int swiftkms_mldsa_public_key(const swiftkms_mldsa_key *key, uint8_t *out);
/// Hedged signature of `message`, empty context (swiftkms_mldsa_signature_bytes). 1 or 0.
int swiftkms_mldsa_sign(const swiftkms_mldsa_key *key, const uint8_t *message, size_t length, uint8_t *signature);
/// Hedged signature of the message that the 64-byte `mu` represents. 1 or 0.
int swiftkms_mldsa_sign_mu(const swiftkms_mldsa_key *key, const uint8_t mu[64], uint8_t *signature);
/// 1 when `signature` is valid for `message` (empty context) under the encoded public key.
int swiftkms_mldsa_verify(int level, const uint8_t *public_key, size_t public_key_length,
                          const uint8_t *signature, size_t signature_length, const uint8_t *message, size_t length);

/// Fills `out` from BoringSSL's CSPRNG. 1 or 0.
int swiftkms_random_bytes(uint8_t *out, size_t length);

#endif
