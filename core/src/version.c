/* Library identity and compatibility mode, which is fixed when the library is loaded. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"

static int compat_mode;

static int env_on(const char *name)
{
    const char *v = getenv(name);
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "on") == 0);
}

/* Read once at load time so that nothing the process does later can loosen verification. */
__attribute__((constructor)) static void read_compat_mode(void)
{
    compat_mode = env_on("TLSBRIDGE_COMPAT_MODE") || env_on("GCTI_SECPACK_COMPAT_MODE");
}

int tlsb_compat(void) { return compat_mode; }

TLSB_API int32_t tlsb_compat_mode(void) { return compat_mode; }
TLSB_API const char *tlsb_version(void) { return TLSB_VERSION_STRING; }
TLSB_API const char *tlsb_openssl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }
