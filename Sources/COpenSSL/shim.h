// OpenSSL 3 (Debian libssl-dev), for what swift-crypto lacks: HMAC-SHA224, RSA over
// caller-supplied digests, secp256k1, SM2. swift-crypto's BoringSSL is symbol-prefixed, so
// both link together. Used only from Sources/KMSCore/OpenSSL*.swift.
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
