/* Deterministic randomness for fuzzing: a RAND provider whose every request gets the same bytes
 * (1, 2, 3, ...). Each answer depends only on its length, never on what came before, so a
 * handshake recorded by the corpus maker replays in a fuzz target whatever else ran first in
 * either process. Never link this into anything but fuzz/. (Same approach as OpenSSL's own
 * fuzz/fuzz_rand.c.) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "fuzz.h"

static void *rng_new(void *provctx, void *parent, const OSSL_DISPATCH *parent_calls)
{
    int *state = OPENSSL_malloc(sizeof *state);
    if (state)
        *state = EVP_RAND_STATE_UNINITIALISED;
    return state;
}

static void rng_free(void *rng)
{
    OPENSSL_free(rng);
}

static int rng_instantiate(void *rng, unsigned int strength, int prediction_resistance, const unsigned char *pstr,
                           size_t pstr_len, const OSSL_PARAM params[])
{
    *(int *)rng = EVP_RAND_STATE_READY;
    return 1;
}

static int rng_uninstantiate(void *rng)
{
    *(int *)rng = EVP_RAND_STATE_UNINITIALISED;
    return 1;
}

static int rng_generate(void *rng, unsigned char *out, size_t len, unsigned int strength, int prediction_resistance,
                        const unsigned char *adin, size_t adin_len)
{
    /* Small non-zero bytes: a valid private scalar for every curve OpenSSL draws one for. */
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)(i + 1);
    return 1;
}

static int rng_enable_locking(void *rng)
{
    return 1;
}

static int rng_get_params(void *rng, OSSL_PARAM params[])
{
    OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE);
    if (p && !OSSL_PARAM_set_int(p, *(int *)rng))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH);
    if (p && !OSSL_PARAM_set_uint(p, 256))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST);
    if (p && !OSSL_PARAM_set_size_t(p, INT_MAX))
        return 0;
    return 1;
}

static const OSSL_PARAM *rng_gettable(void *rng, void *provctx)
{
    static const OSSL_PARAM gettable[] = {OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, NULL),
                                          OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, NULL),
                                          OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, NULL), OSSL_PARAM_END};
    return gettable;
}

static const OSSL_DISPATCH rng_functions[] = {{OSSL_FUNC_RAND_NEWCTX, (void (*)(void))rng_new},
                                              {OSSL_FUNC_RAND_FREECTX, (void (*)(void))rng_free},
                                              {OSSL_FUNC_RAND_INSTANTIATE, (void (*)(void))rng_instantiate},
                                              {OSSL_FUNC_RAND_UNINSTANTIATE, (void (*)(void))rng_uninstantiate},
                                              {OSSL_FUNC_RAND_GENERATE, (void (*)(void))rng_generate},
                                              {OSSL_FUNC_RAND_ENABLE_LOCKING, (void (*)(void))rng_enable_locking},
                                              {OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, (void (*)(void))rng_gettable},
                                              {OSSL_FUNC_RAND_GET_CTX_PARAMS, (void (*)(void))rng_get_params},
                                              {0, NULL}};

static const OSSL_ALGORITHM rands[] = {{"tlsb-fuzz", "provider=tlsb-fuzz-rand", rng_functions, NULL},
                                       {NULL, NULL, NULL, NULL}};

static const OSSL_ALGORITHM *query(void *provctx, int operation, int *no_cache)
{
    *no_cache = 0;
    return operation == OSSL_OP_RAND ? rands : NULL;
}

static const OSSL_DISPATCH provider_functions[] = {{OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))query},
                                                   {0, NULL}};

static int provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
                         void **provctx)
{
    *provctx = NULL;
    *out = provider_functions;
    return 1;
}

/* Kept for the life of the process (it serves every DRBG); reachable, so no leak report. */
static OSSL_PROVIDER *provider;

void fuzz_rand_install(void)
{
    if (!OSSL_PROVIDER_add_builtin(NULL, "tlsb-fuzz-rand", provider_init) ||
        !RAND_set_DRBG_type(NULL, "tlsb-fuzz", "provider=tlsb-fuzz-rand", NULL, NULL) ||
        !(provider = OSSL_PROVIDER_try_load(NULL, "tlsb-fuzz-rand", 1))) {
        fprintf(stderr, "fuzz: cannot install the deterministic RAND\n");
        exit(1);
    }
}
