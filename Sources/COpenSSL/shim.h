// OpenSSL 3 (Debian libssl-dev), for what swift-crypto lacks: HMAC-SHA224, RSA over
// caller-supplied digests, secp256k1, SM2, the import wrapping algorithms, and
// CRYPTO_memcmp / OPENSSL_cleanse (ConstantTime, Zeroize). swift-crypto's BoringSSL is
// symbol-prefixed, so both link together. Used only from KMSCore.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

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


/// Verifies a Nitro Enclaves attestation document's signer: `leaf` (DER) must chain, through
/// the untrusted DER certificates of `bundle`, to the certificate `root` (PEM or DER) at
/// `when` (seconds since 1970), and its P-384 key must have made `signature` (COSE's raw
/// r || s, 96 bytes) of SHA-384(`signed`). Returns 1 when all hold, else 0.
static inline int swiftkms_verify_attestation(
    const unsigned char *leaf, size_t leafLength, const unsigned char *const *bundle, const size_t *bundleLengths,
    size_t bundleCount, const unsigned char *root, size_t rootLength, long long when, const unsigned char *signedBytes,
    size_t signedLength, const unsigned char *signature, size_t signatureLength) {
    int ok = 0;
    X509 *leafCertificate = NULL, *rootCertificate = NULL;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *context = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    BIO *rootBIO = BIO_new_mem_buf(root, (int)rootLength);
    ECDSA_SIG *ecdsa = NULL;
    unsigned char *derSignature = NULL;
    EVP_MD_CTX *digest = EVP_MD_CTX_new();
    if (!store || !context || !untrusted || !rootBIO || !digest || signatureLength != 96) goto done;
    const unsigned char *cursor = leaf;
    leafCertificate = d2i_X509(NULL, &cursor, (long)leafLength);
    if (!leafCertificate || cursor != leaf + leafLength) goto done;
    rootCertificate = PEM_read_bio_X509(rootBIO, NULL, NULL, NULL);
    if (!rootCertificate) {
        cursor = root;
        rootCertificate = d2i_X509(NULL, &cursor, (long)rootLength);
        if (!rootCertificate || cursor != root + rootLength) goto done;
    }
    if (X509_STORE_add_cert(store, rootCertificate) != 1) goto done;
    for (size_t i = 0; i < bundleCount; i++) {
        cursor = bundle[i];
        X509 *certificate = d2i_X509(NULL, &cursor, (long)bundleLengths[i]);
        if (!certificate || cursor != bundle[i] + bundleLengths[i] || !sk_X509_push(untrusted, certificate)) {
            X509_free(certificate);
            goto done;
        }
    }
    if (X509_STORE_CTX_init(context, store, leafCertificate, untrusted) != 1) goto done;
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(context), (time_t)when);
    if (X509_verify_cert(context) != 1) goto done;
    EVP_PKEY *key = X509_get0_pubkey(leafCertificate);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 384) goto done;
    BIGNUM *r = BN_bin2bn(signature, 48, NULL), *s = BN_bin2bn(signature + 48, 48, NULL);
    ecdsa = ECDSA_SIG_new();
    if (!r || !s || !ecdsa || ECDSA_SIG_set0(ecdsa, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        goto done;
    }
    int derLength = i2d_ECDSA_SIG(ecdsa, &derSignature);
    if (derLength <= 0) goto done;
    if (EVP_DigestVerifyInit(digest, NULL, EVP_sha384(), NULL, key) == 1
        && EVP_DigestVerify(digest, derSignature, (size_t)derLength, signedBytes, signedLength) == 1) {
        ok = 1;
    }
done:
    EVP_MD_CTX_free(digest);
    OPENSSL_free(derSignature);
    ECDSA_SIG_free(ecdsa);
    BIO_free(rootBIO);
    sk_X509_pop_free(untrusted, X509_free);
    X509_STORE_CTX_free(context);
    X509_STORE_free(store);
    X509_free(rootCertificate);
    X509_free(leafCertificate);
    return ok;
}

/// CMS EnvelopedData (RFC 5652) of `content` for the holder of the RSA public key `spki`
/// (DER SubjectPublicKeyInfo, 2048 bits or more): AES-256-CBC content encryption, the content
/// key transported with RSAES-OAEP (SHA-256, MGF1 SHA-256), the recipient identified by a
/// subject key identifier (SHA-1 of the key, RFC 5280's first method). The DER is written to
/// a buffer `*out` that the caller frees with `swiftkms_free`; returns its length, or 0.
/// OpenSSL adds a recipient only from a certificate: one is made in memory to carry the key
/// and its identifier (signed with a throwaway key, without which OpenSSL reads none of its
/// extensions), never seen outside.
static inline int swiftkms_cms_envelope(
    const unsigned char *spki, size_t spkiLength, const unsigned char *content, size_t contentLength, unsigned char **out) {
    int length = 0;
    const unsigned char *cursor = spki;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &cursor, (long)spkiLength);
    EVP_PKEY *throwaway = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *carrier = X509_new();
    ASN1_OCTET_STRING *keyID = ASN1_OCTET_STRING_new();
    unsigned char keyHash[20];
    unsigned char *encodedKey = NULL;
    CMS_ContentInfo *cms = NULL;
    BIO *input = BIO_new_mem_buf(content, (int)contentLength);
    *out = NULL;
    if (!key || cursor != spki + spkiLength || !throwaway || !carrier || !keyID || !input) goto done;
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048 || EVP_PKEY_get_bits(key) > 4096) goto done;
    X509_PUBKEY *subjectPublicKey = NULL;
    if (X509_set_pubkey(carrier, key) != 1 || !(subjectPublicKey = X509_get_X509_PUBKEY(carrier))) goto done;
    const unsigned char *keyBytes = NULL;
    int keyBytesLength = 0;
    if (X509_PUBKEY_get0_param(NULL, &keyBytes, &keyBytesLength, NULL, subjectPublicKey) != 1) goto done;
    if (!EVP_Digest(keyBytes, (size_t)keyBytesLength, keyHash, NULL, EVP_sha1(), NULL)) goto done;
    if (ASN1_OCTET_STRING_set(keyID, keyHash, sizeof keyHash) != 1
        || X509_add1_ext_i2d(carrier, NID_subject_key_identifier, keyID, 0, X509V3_ADD_DEFAULT) != 1
        || X509_set_version(carrier, X509_VERSION_3) != 1 || X509_sign(carrier, throwaway, EVP_sha256()) <= 0) goto done;
    cms = CMS_encrypt(NULL, NULL, EVP_aes_256_cbc(), CMS_BINARY | CMS_PARTIAL);
    if (!cms) goto done;
    CMS_RecipientInfo *recipient = CMS_add1_recipient_cert(cms, carrier, CMS_USE_KEYID | CMS_KEY_PARAM);
    EVP_PKEY_CTX *wrap = recipient ? CMS_RecipientInfo_get0_pkey_ctx(recipient) : NULL;
    if (!wrap || EVP_PKEY_CTX_set_rsa_padding(wrap, RSA_PKCS1_OAEP_PADDING) <= 0
        || EVP_PKEY_CTX_set_rsa_oaep_md(wrap, EVP_sha256()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(wrap, EVP_sha256()) <= 0) goto done;
    if (CMS_final(cms, input, NULL, CMS_BINARY) != 1) goto done;
    length = i2d_CMS_ContentInfo(cms, &encodedKey);
    if (length <= 0) {
        length = 0;
        goto done;
    }
    *out = encodedKey;
    encodedKey = NULL;
done:
    OPENSSL_free(encodedKey);
    CMS_ContentInfo_free(cms);
    BIO_free(input);
    ASN1_OCTET_STRING_free(keyID);
    X509_free(carrier);
    EVP_PKEY_free(throwaway);
    EVP_PKEY_free(key);
    return length;
}

static inline void swiftkms_free(void *pointer) { OPENSSL_free(pointer); }
