// libcbor (Debian libcbor-dev): CBOR (RFC 8949) for Nitro Enclaves attestation documents,
// which are COSE_Sign1 structures. Used only from KMSCore. Its decoder keeps nesting to
// CBOR_MAX_STACK_SIZE (2048) levels.
#include <cbor.h>
