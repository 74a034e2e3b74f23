// PKCS#11 v2.40's types and constants, from p11-kit's header (libp11-kit-dev). Nothing is
// linked: the module (SoftHSM2, a vendor's HSM library) is loaded at run time with dlopen.
#include <p11-kit/pkcs11.h>
#include <dlfcn.h>
