/* cipher-list: OpenSSL cipher strings and IANA names, split into the TLS 1.3 suites and the
 * TLS 1.2-and-lower list. The list is exact: a version family it names no suite for is disabled,
 * with a warning, so that every face negotiates only what the list says (docs/options.md). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const char *const tls13_suites[] = {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                                           "TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
                                           "TLS_AES_128_CCM_SHA256"};

static const char *tls13_name(const char *token)
{
    for (size_t i = 0; i < sizeof tls13_suites / sizeof tls13_suites[0]; i++)
        if (strcasecmp(token, tls13_suites[i]) == 0)
            return tls13_suites[i];
    return NULL;
}

/* Every TLS <= 1.2 suite this OpenSSL knows, to map IANA names and to check tokens. */
static SSL_CTX *catalogue(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx && !SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL:@SECLEVEL=0")) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static const char *openssl_name_of_iana(SSL_CTX *cat, const char *iana)
{
    STACK_OF(SSL_CIPHER) *all = SSL_CTX_get_ciphers(cat);
    for (int i = 0; i < sk_SSL_CIPHER_num(all); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
        const char *std = SSL_CIPHER_standard_name(c);
        if (std && strcasecmp(std, iana) == 0)
            return SSL_CIPHER_get_name(c);
    }
    return NULL;
}

/* A positive OpenSSL token ("HIGH", "ECDHE-RSA-AES128-GCM-SHA256", "kRSA+AES") must match something;
 * OpenSSL itself silently skips unknown words. */
static int token_matches(const char *token)
{
    if (strchr("!-+@", token[0]))
        return 1;
    SSL_CTX *probe = SSL_CTX_new(TLS_method());
    if (!probe)
        return 0;
    size_t n = strlen(token) + sizeof ":@SECLEVEL=0";
    char *s = malloc(n);
    int ok = 0;
    if (s) {
        strcpy(s, token);
        strcat(s, ":@SECLEVEL=0");
        ok = SSL_CTX_set_cipher_list(probe, s) == 1;
        free(s);
    }
    SSL_CTX_free(probe);
    return ok;
}

static void drop_versions(tlsb_options *o, unsigned drop, const char *family)
{
    if (!(o->versions & drop))
        return;
    tlsb_text t = {0};
    tlsb_versions_text(o->versions & drop, &t);
    tlsb_options_warn(o, "%s disabled: cipher-list names no %s cipher suite", t.data ? t.data : "", family);
    free(t.data);
    o->versions &= ~drop;
}

int32_t tlsb_ciphers_apply(SSL_CTX *ctx, tlsb_options *o)
{
    if (!o->cipher_list)
        return TLSB_OK;
    char *list = strdup(o->cipher_list);
    if (!list)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    for (char *p = list; *p; p++)
        if (*p == ':')
            *p = ',';
    char **tokens;
    int n = tlsb_split(list, 1, &tokens);
    free(list);
    if (n < 0)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");

    SSL_CTX *cat = catalogue();
    tlsb_text l13 = {0}, l12 = {0};
    int32_t rc = cat ? TLSB_OK : tlsb_fail_ssl(TLSB_ERR_INTERNAL, "cannot list OpenSSL's cipher suites");
    for (int i = 0; i < n && rc == TLSB_OK; i++) {
        const char *t13 = tls13_name(tokens[i]);
        if (t13) {
            tlsb_text_add(&l13, "%s%s", l13.len ? ":" : "", t13);
            continue;
        }
        const char *mapped = NULL;
        if (strncasecmp(tokens[i], "TLS_", 4) == 0 || strncasecmp(tokens[i], "SSL_", 4) == 0) {
            mapped = openssl_name_of_iana(cat, tokens[i]);
            if (!mapped) {
                rc = tlsb_fail(TLSB_ERR_OPTION_VALUE,
                               "option cipher-list: unknown cipher suite '%s' (not an IANA name this OpenSSL "
                               "knows)",
                               tokens[i]);
                break;
            }
        } else if (!token_matches(tokens[i])) {
            rc = tlsb_fail(TLSB_ERR_OPTION_VALUE,
                           "option cipher-list: '%s' matches no cipher suite; allowed: OpenSSL cipher strings "
                           "or IANA names separated by ':', ',' or spaces",
                           tokens[i]);
            break;
        }
        tlsb_text_add(&l12, "%s%s", l12.len ? ":" : "", mapped ? mapped : tokens[i]);
    }
    tlsb_split_free(tokens, n);
    SSL_CTX_free(cat);
    if (rc == TLSB_OK && (l13.oom || l12.oom))
        rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");

    if (rc == TLSB_OK) {
        if (!SSL_CTX_set_ciphersuites(ctx, l13.data ? l13.data : ""))
            rc = tlsb_fail_ssl(TLSB_ERR_CIPHER_NONE, "option cipher-list: TLS 1.3 suites '%s' rejected",
                               l13.data ? l13.data : "");
        if (!l13.len)
            drop_versions(o, TLSB_V13, "TLS 1.3");
    }
    if (rc == TLSB_OK) {
        if (l12.len && !SSL_CTX_set_cipher_list(ctx, l12.data))
            rc = tlsb_fail_ssl(TLSB_ERR_CIPHER_NONE, "option cipher-list: '%s' leaves no cipher suite",
                               o->cipher_list);
        if (!l12.len)
            drop_versions(o, TLSB_V10 | TLSB_V11 | TLSB_V12, "TLS 1.2 (or lower)");
    }
    if (rc == TLSB_OK && !o->versions)
        rc = tlsb_fail(TLSB_ERR_CIPHER_NONE,
                       "option cipher-list: '%s' leaves no cipher suite for the enabled protocol versions",
                       o->cipher_list);
    free(l13.data);
    free(l12.data);
    return rc;
}

int32_t tlsb_ciphers_describe(SSL_CTX *ctx, tlsb_text *out)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return tlsb_fail_ssl(TLSB_ERR_NO_MEMORY, "cannot list the enabled cipher suites");
    /* A client SSL filters the list by the enabled versions and the security level. */
    SSL_set_connect_state(ssl);
    STACK_OF(SSL_CIPHER) *enabled = SSL_get1_supported_ciphers(ssl);
    int n = enabled ? sk_SSL_CIPHER_num(enabled) : 0;
    tlsb_text_add(out, "ciphers:");
    for (int i = 0; i < n; i++)
        tlsb_text_add(out, " %s", SSL_CIPHER_get_name(sk_SSL_CIPHER_value(enabled, i)));
    tlsb_text_add(out, "\nciphers-iana:");
    for (int i = 0; i < n; i++) {
        const char *std = SSL_CIPHER_standard_name(sk_SSL_CIPHER_value(enabled, i));
        tlsb_text_add(out, " %s", std ? std : "(unnamed)");
    }
    tlsb_text_add(out, "\n");
    sk_SSL_CIPHER_free(enabled);
    SSL_free(ssl);
    return n ? TLSB_OK : tlsb_fail(TLSB_ERR_CIPHER_NONE, "option cipher-list: no cipher suite is usable with the enabled protocol versions and security level");
}
