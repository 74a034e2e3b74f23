// OpenSSL 3 (Debian libssl-dev), for what swift-crypto lacks: HMAC-SHA224, RSA over
// caller-supplied digests, secp256k1, SM2, the import wrapping algorithms, and
// CRYPTO_memcmp / OPENSSL_cleanse (ConstantTime, Zeroize). swift-crypto's BoringSSL is
// symbol-prefixed, so both link together. Used only from KMSCore.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/// Raw ECDH on the SM2 curve: writes the x-coordinate of d·Q (32 bytes) and returns 1, or
/// returns 0. OpenSSL 3.0 offers no key exchange for SM2 keys and its EC key manager refuses
/// the SM2 curve, so this multiplies the peer's point by our scalar with EC_POINT_mul, the
/// constant-time ladder its ECDH uses. Decoding the point rejects points off the curve; the
/// cofactor is 1. Written in C because swift-crypto's BoringSSL defines `BIGNUM` in full and
/// Swift merges it with OpenSSL's opaque one wherever both are loaded.
static inline int swiftkms_sm2_ecdh(const EVP_PKEY *key, const EVP_PKEY *peer, unsigned char out[32]) {
    int ok = 0;
    unsigned char encoded[65];
    size_t length = 0;
    BIGNUM *scalar = NULL, *x = BN_new();
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
    EC_POINT *point = group ? EC_POINT_new(group) : NULL, *product = group ? EC_POINT_new(group) : NULL;
    if (x && point && product
        && EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &scalar) == 1
        && EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_PUB_KEY, encoded, sizeof encoded, &length) == 1
        && EC_POINT_oct2point(group, point, encoded, length, NULL) == 1
        && !EC_POINT_is_at_infinity(group, point)
        && EC_POINT_mul(group, product, NULL, point, scalar, NULL) == 1
        && !EC_POINT_is_at_infinity(group, product)
        && EC_POINT_get_affine_coordinates(group, product, x, NULL, NULL) == 1
        && BN_bn2binpad(x, out, 32) == 32) {
        ok = 1;
    }
    BN_clear_free(scalar);
    BN_clear_free(x);
    EC_POINT_clear_free(product);
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return ok;
}

