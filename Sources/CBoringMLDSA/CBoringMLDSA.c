#include "CBoringMLDSA.h"

#include <CCryptoBoringSSL_bytestring.h>
#include <CCryptoBoringSSL_mem.h>
#include <CCryptoBoringSSL_mldsa.h>
#include <CCryptoBoringSSL_rand.h>

struct swiftkms_mldsa_key {
    int level;
    union {
        struct { struct MLDSA44_private_key private_key; struct MLDSA44_public_key public_key; } mldsa44;
        struct { struct MLDSA65_private_key private_key; struct MLDSA65_public_key public_key; } mldsa65;
        struct { struct MLDSA87_private_key private_key; struct MLDSA87_public_key public_key; } mldsa87;
    } keys;
};

// Each operation, once per parameter set N.
#define FROM_SEED(N) \
    MLDSA##N##_private_key_from_seed(&key->keys.mldsa##N.private_key, seed, 32) \
        && MLDSA##N##_public_from_private(&key->keys.mldsa##N.public_key, &key->keys.mldsa##N.private_key)
#define MARSHAL(N) MLDSA##N##_marshal_public_key(&cbb, &key->keys.mldsa##N.public_key)
#define SIGN(N) MLDSA##N##_sign(signature, &key->keys.mldsa##N.private_key, message, length, NULL, 0)
#define SIGN_MU(N) MLDSA##N##_sign_message_representative(signature, &key->keys.mldsa##N.private_key, mu)
#define VERIFY(N) do { \
        struct MLDSA##N##_public_key parsed; \
        return MLDSA##N##_parse_public_key(&parsed, &cbs) && CBS_len(&cbs) == 0 \
            && MLDSA##N##_verify(&parsed, signature, signature_length, message, length, NULL, 0); \
    } while (0)
#define BY_LEVEL(level, OP) \
    ((level) == 44 ? (OP(44)) : (level) == 65 ? (OP(65)) : (level) == 87 ? (OP(87)) : 0)

swiftkms_mldsa_key *swiftkms_mldsa_key_new(int level, const uint8_t seed[32]) {
    if (level != 44 && level != 65 && level != 87) return NULL;
    swiftkms_mldsa_key *key = OPENSSL_zalloc(sizeof(swiftkms_mldsa_key));
    if (key == NULL) return NULL;
    key->level = level;
    if (!BY_LEVEL(level, FROM_SEED)) {
        swiftkms_mldsa_key_free(key);
        return NULL;
    }
    return key;
}

void swiftkms_mldsa_key_free(swiftkms_mldsa_key *key) {
    OPENSSL_free(key);  // BoringSSL's OPENSSL_free zeroes the allocation first
}

size_t swiftkms_mldsa_public_key_bytes(int level) {
    return level == 44 ? MLDSA44_PUBLIC_KEY_BYTES : level == 65 ? MLDSA65_PUBLIC_KEY_BYTES : level == 87 ? MLDSA87_PUBLIC_KEY_BYTES : 0;
}

size_t swiftkms_mldsa_signature_bytes(int level) {
    return level == 44 ? MLDSA44_SIGNATURE_BYTES : level == 65 ? MLDSA65_SIGNATURE_BYTES : level == 87 ? MLDSA87_SIGNATURE_BYTES : 0;
}

int swiftkms_mldsa_public_key(const swiftkms_mldsa_key *key, uint8_t *out) {
    CBB cbb;
    size_t length = swiftkms_mldsa_public_key_bytes(key->level);
    return CBB_init_fixed(&cbb, out, length) && BY_LEVEL(key->level, MARSHAL) && CBB_len(&cbb) == length;
}

int swiftkms_mldsa_sign(const swiftkms_mldsa_key *key, const uint8_t *message, size_t length, uint8_t *signature) {
    return BY_LEVEL(key->level, SIGN);
}

int swiftkms_mldsa_sign_mu(const swiftkms_mldsa_key *key, const uint8_t mu[64], uint8_t *signature) {
    return BY_LEVEL(key->level, SIGN_MU);
}

int swiftkms_mldsa_verify(int level, const uint8_t *public_key, size_t public_key_length,
                          const uint8_t *signature, size_t signature_length, const uint8_t *message, size_t length) {
    CBS cbs;
    CBS_init(&cbs, public_key, public_key_length);
    switch (level) {
    case 44: VERIFY(44);
    case 65: VERIFY(65);
    case 87: VERIFY(87);
    default: return 0;
    }
}

int swiftkms_random_bytes(uint8_t *out, size_t length) {
    return RAND_bytes(out, length);
}
