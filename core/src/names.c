/* Peer-name matching (RFC 6125) with wildcard rules and the public suffix list
 * (docs/verification.md, "Names and wildcards"). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* The public suffix list, through libpsl: the newer of its built-in copy and the system's
 * (Debian `publicsuffix`), so a missing file never drops the protection. NULL only when libpsl
 * has neither; then every suffix counts as public and wildcards are refused (fail closed). */
static psl_ctx_t *suffixes;
static CRYPTO_ONCE suffix_once = CRYPTO_ONCE_STATIC_INIT;

static void load_suffixes(void)
{
    suffixes = psl_latest(NULL);
}

int tlsb_public_suffix(const char *domain)
{
    CRYPTO_THREAD_run_once(&suffix_once, load_suffixes);
    /* Only the ICANN section counts: the private one (s3.amazonaws.com, github.io) is left out, as
     * Chromium does, because its operators do issue wildcards there. */
    return !suffixes || psl_is_public_suffix2(suffixes, domain, PSL_TYPE_ICANN);
}

/* One DNS-ID against the (lower-case, no trailing dot) host name. */
static int match_pattern(const char *pattern, size_t plen, const char *host, int wildcards)
{
    if (plen && pattern[plen - 1] == '.')
        plen--;
    if (!memchr(pattern, '*', plen))
        return strlen(host) == plen && strncasecmp(pattern, host, plen) == 0;
    /* A wildcard is a whole left-most label ("*.example.com") and the only one: partial labels
     * ("w*.example.com") and labels further right are never honoured. */
    if (!wildcards || plen < 3 || pattern[0] != '*' || pattern[1] != '.' || memchr(pattern + 1, '*', plen - 1))
        return 0;
    char base[256];
    if (plen - 2 >= sizeof base)
        return 0;
    memcpy(base, pattern + 2, plen - 2);
    base[plen - 2] = '\0';
    for (char *p = base; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    /* Never across a public suffix: "*.com" or "*.co.uk" would match every tenant below it. */
    if (!strchr(base, '.') || tlsb_public_suffix(base))
        return 0;
    const char *dot = strchr(host, '.');
    return dot && dot > host && strcmp(dot + 1, base) == 0;
}

int tlsb_name_match(X509 *cert, const char *name, int wildcards)
{
    /* Internationalised names are compared as A-labels; a bare '*' never matches literally. */
    char host[256];
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        n--;
    if (n == 0 || n >= sizeof host || memchr(name, '*', n))
        return 0;
    for (size_t i = 0; i < n; i++)
        host[i] = (char)tolower((unsigned char)name[i]);
    host[n] = '\0';

    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int matched = 0;
    for (int i = 0; sans && !matched && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS)
            matched = match_pattern((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                    (size_t)ASN1_STRING_length(g->d.dNSName), host, wildcards);
    }
    /* The common name counts only in a certificate without subjectAltName (RFC 6125 6.4.4). */
    if (!sans) {
        X509_NAME *subject = X509_get_subject_name(cert);
        for (int i = -1; !matched && (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
            unsigned char *cn = NULL;
            int len = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
            matched = len > 0 && !memchr(cn, '\0', (size_t)len) && match_pattern((char *)cn, (size_t)len, host, wildcards);
            OPENSSL_free(cn);
        }
    }
    GENERAL_NAMES_free(sans);
    return matched;
}
