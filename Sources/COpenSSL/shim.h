// OpenSSL 3 (Debian libssl-dev), for the algorithms swift-crypto lacks: HMAC-SHA224 now;
// secp256k1 and SM2 next. swift-crypto's BoringSSL is symbol-prefixed, so both link together.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
