/* Certificate verification policy: trust store, CRLs, peer name, compatibility mode, the checks
 * tlsbridge adds to OpenSSL's, and the offline tlsb_verify() that runs exactly what a handshake
 * runs (docs/verification.md). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal.h"

struct tlsb_verify_state {
    const struct tlsb_context *context;
    int error;            /* first X509_V_ERR_* that was not forgiven, 0 if none */
    int depth;
    char subject[256];    /* certificate at that depth */
    char detail[384];     /* what exactly was wrong, "" when the OpenSSL reason says it all */
    const char *pending;  /* detail of a tlsbridge check being reported right now */
    char names[512];      /* the leaf's names, for a name mismatch */
    char target[256];     /* the name checked, "" if none */
};

static int state_index = -1;
static CRYPTO_ONCE state_once = CRYPTO_ONCE_STATIC_INIT;

static void make_index(void) { state_index = SSL_get_ex_new_index(0, "tlsbridge verify", NULL, NULL, NULL); }

static tlsb_verify_state *state_of(X509_STORE_CTX *sctx)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    return ssl ? SSL_get_ex_data(ssl, state_index) : X509_STORE_CTX_get_app_data(sctx);
}

/* "DNS:localhost, IP:127.0.0.1", or "CN=..." when the certificate has no SAN. */
static void cert_names(X509 *cert, char *out, size_t size)
{
    tlsb_text t = {0};
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS)
            tlsb_text_add(&t, "%sDNS:%.*s", t.len ? ", " : "", ASN1_STRING_length(g->d.dNSName),
                          (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        else if (g->type == GEN_IPADD) {
            const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
            int len = ASN1_STRING_length(g->d.iPAddress);
            if (len == 4) {
                tlsb_text_add(&t, "%sIP:%u.%u.%u.%u", t.len ? ", " : "", a[0], a[1], a[2], a[3]);
            } else {
                char *ip = OPENSSL_buf2hexstr(a, len);
                tlsb_text_add(&t, "%sIP:%s", t.len ? ", " : "", ip ? ip : "?");
                OPENSSL_free(ip);
            }
        }
    }
    if (!t.len) {
        char cn[256] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
        tlsb_text_add(&t, sans ? "no DNS or IP subjectAltName" : "CN=%s (no subjectAltName)", cn);
    }
    GENERAL_NAMES_free(sans);
    snprintf(out, size, "%s", t.data ? t.data : "");
    free(t.data);
}

static int listed_anchor(const struct tlsb_context *context, X509 *cert)
{
    for (int i = 0; context->anchors && i < sk_X509_num(context->anchors); i++)
        if (X509_cmp(sk_X509_value(context->anchors, i), cert) == 0)
            return 1;
    return 0;
}

/* What a peer's Key Usage must allow: a client checks a server (RSA key exchange, signature or ECDH),
 * a server checks a client (signature or ECDH), as OpenSSL's purposes ssl_server and ssl_client. */
static uint32_t tls_key_usage(int role)
{
    return role == TLSB_ROLE_CLIENT ? KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT
                                    : KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT;
}

/* The leaf's Netscape cert type, where it has one, names the TLS role it is checked for. */
static int ns_cert_type_ok(X509 *cert, int role)
{
    ASN1_BIT_STRING *ns = X509_get_ext_d2i(cert, NID_netscape_cert_type, NULL, NULL);
    int ok = !ns || ASN1_BIT_STRING_get_bit(ns, role == TLSB_ROLE_CLIENT ? 1 : 0); /* sslServer : sslClient */
    ASN1_BIT_STRING_free(ns);
    return ok;
}

/* Compatibility mode rule 2: the purpose check failed because of the Key Usage bits alone (they
 * lack the TLS use, or assert keyCertSign on a leaf); Extended Key Usage and nsCertType allow it. */
static int key_usage_only(X509 *cert, int role)
{
    uint32_t want = role == TLSB_ROLE_CLIENT ? XKU_SSL_SERVER : XKU_SSL_CLIENT;
    uint32_t ku = X509_get_key_usage(cert); /* UINT32_MAX without the extension */
    int ku_fault = (X509_get_extension_flags(cert) & EXFLAG_KUSAGE) &&
                   (!(ku & tls_key_usage(role)) || (ku & KU_KEY_CERT_SIGN));
    return ku_fault && (X509_get_extended_key_usage(cert) & want) && ns_cert_type_ok(cert, role);
}

static void time_text(const ASN1_TIME *t, char *out, size_t size)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !t || !ASN1_TIME_print(b, t)) {
        snprintf(out, size, "(none)");
        BIO_free(b);
        return;
    }
    int n = BIO_read(b, out, (int)size - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

/* Revocation and purpose errors say which CRL, issuer or usage, so that the cause can be fixed. */
static void error_detail(X509_STORE_CTX *sctx, int err, X509 *cert, int role, char *out, size_t size)
{
    X509_CRL *crl = X509_STORE_CTX_get0_current_crl(sctx);
    char issuer[256] = "", from[64], until[64];
    if (crl)
        tlsb_name_text(X509_CRL_get_issuer(crl), issuer, sizeof issuer);
    else if (cert)
        tlsb_name_text(X509_get_issuer_name(cert), issuer, sizeof issuer);
    switch (err) {
    case X509_V_ERR_CERT_REVOKED: {
        X509_REVOKED *entry = NULL;
        if (crl && cert && X509_CRL_get0_by_cert(crl, &entry, cert) == 1)
            time_text(X509_REVOKED_get0_revocationDate(entry), from, sizeof from);
        else
            snprintf(from, sizeof from, "(unknown date)");
        snprintf(out, size, "revoked on %s by the CRL of '%s'", from, issuer);
        break;
    }
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        snprintf(out, size, "tls-crl holds no CRL from its issuer '%s', so its revocation status is unknown", issuer);
        break;
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
        time_text(crl ? X509_CRL_get0_lastUpdate(crl) : NULL, from, sizeof from);
        time_text(crl ? X509_CRL_get0_nextUpdate(crl) : NULL, until, sizeof until);
        snprintf(out, size, "the CRL of '%s' is %s (thisUpdate %s, nextUpdate %s)", issuer,
                 err == X509_V_ERR_CRL_HAS_EXPIRED ? "expired" : "not yet valid", from, until);
        break;
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
        snprintf(out, size, "the issuer '%s' of its CRL is neither in trusted-ca nor in the chain", issuer);
        break;
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
        snprintf(out, size, "the CRL of '%s' has a bad signature", issuer);
        break;
    case X509_V_ERR_INVALID_PURPOSE:
        if (X509_STORE_CTX_get_error_depth(sctx) == 0 && cert) {
            int server = role == TLSB_ROLE_CLIENT; /* a client checks a server's certificate */
            snprintf(out, size, "%s", !(X509_get_extended_key_usage(cert) & (server ? XKU_SSL_SERVER : XKU_SSL_CLIENT))
                     ? (server ? "its Extended Key Usage does not include serverAuth"
                               : "its Extended Key Usage does not include clientAuth")
                     : !ns_cert_type_ok(cert, role)
                     ? (server ? "its Netscape cert type (nsCertType) does not include SSL server"
                               : "its Netscape cert type (nsCertType) does not include SSL client")
                     : "its Key Usage does not allow TLS authentication (digitalSignature or keyEncipherment)");
            break;
        }
        /* fall through */
    default:
        out[0] = '\0';
    }
}

/* RFC 5280 4.1.2.5: the validity period includes the notAfter second, which OpenSSL counts as
 * already expired. */
static int at_not_after(X509_STORE_CTX *sctx, X509 *cert)
{
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(sctx);
    time_t now = X509_VERIFY_PARAM_get_flags(param) & X509_V_FLAG_USE_CHECK_TIME ? X509_VERIFY_PARAM_get_time(param)
                                                                                  : time(NULL);
    ASN1_TIME *t = ASN1_TIME_adj(NULL, now, 0, 0);
    int days = -1, secs = -1;
    int same = cert && t && ASN1_TIME_diff(&days, &secs, X509_get0_notAfter(cert), t) && days == 0 && secs == 0;
    ASN1_TIME_free(t);
    return same;
}

static int revocation_error(int err)
{
    switch (err) {
    case X509_V_ERR_CERT_REVOKED:
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* The anchor of a partial chain (reaches_root) is trusted as configured, as a root is: its own
 * revocation status is not checked, and could not be, since its issuer is not trusted. */
static int partial_chain_anchor(X509_STORE_CTX *sctx, int depth)
{
    return (X509_VERIFY_PARAM_get_flags(X509_STORE_CTX_get0_param(sctx)) & X509_V_FLAG_PARTIAL_CHAIN) &&
           depth == sk_X509_num(X509_STORE_CTX_get0_chain(sctx)) - 1;
}

static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
    tlsb_verify_state *st = state_of(sctx);
    if (ok || !st)
        return ok;
    int err = X509_STORE_CTX_get_error(sctx);
    X509 *cert = X509_STORE_CTX_get_current_cert(sctx);
    int depth = X509_STORE_CTX_get_error_depth(sctx);
    if (err == X509_V_ERR_CERT_HAS_EXPIRED && at_not_after(sctx, cert)) {
        X509_STORE_CTX_set_error(sctx, X509_V_OK);
        return 1;
    }
    if (revocation_error(err) && partial_chain_anchor(sctx, depth)) {
        X509_STORE_CTX_set_error(sctx, X509_V_OK);
        return 1;
    }
    if (tlsb_compat() && cert) {
        int forgive = ((err == X509_V_ERR_CERT_REVOKED || err == X509_V_ERR_UNABLE_TO_GET_CRL) &&
                       listed_anchor(st->context, cert)) ||
                      ((err == X509_V_ERR_INVALID_PURPOSE || err == X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE) &&
                       depth == 0 && key_usage_only(cert, st->context->role));
        if (forgive) {
            X509_STORE_CTX_set_error(sctx, X509_V_OK);
            return 1;
        }
    }
    if (!st->error) {
        st->error = err;
        st->depth = depth;
        if (cert) {
            tlsb_name_text(X509_get_subject_name(cert), st->subject, sizeof st->subject);
            if (err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH)
                cert_names(cert, st->names, sizeof st->names);
        }
        if (st->pending)
            snprintf(st->detail, sizeof st->detail, "%s", st->pending);
        else
            error_detail(sctx, err, cert, st->context->role, st->detail, sizeof st->detail);
    }
    return 0;
}

/* ---- the checks tlsbridge adds after OpenSSL's ------------------------------------- */

/* Reports a failed tlsbridge check through verify_cb, as OpenSSL reports its own: compatibility
 * mode sees it, and the first failure is what the caller is told. Returns verify_cb's verdict. */
static int report(X509_STORE_CTX *sctx, tlsb_verify_state *st, int err, int depth, const char *detail)
{
    X509_STORE_CTX_set_error(sctx, err);
    X509_STORE_CTX_set_error_depth(sctx, depth);
    X509_STORE_CTX_set_current_cert(sctx, sk_X509_value(X509_STORE_CTX_get0_chain(sctx), depth));
    st->pending = detail;
    int ok = verify_cb(0, sctx);
    st->pending = NULL;
    return ok;
}

static int is_ip(const char *name)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
    ASN1_OCTET_STRING_free(ip);
    return ip != NULL;
}

/* RFC 5280 4.2.1.10 for a DNS name: equal to the subtree's base or below it; a base with a
 * leading '.' means below only, as OpenSSL reads it. */
static int dns_within(const char *name, const ASN1_IA5STRING *base)
{
    const char *b = (const char *)ASN1_STRING_get0_data(base);
    size_t blen = (size_t)ASN1_STRING_length(base), nlen = strlen(name);
    if (!blen)
        return 1;
    if (nlen < blen || strncasecmp(name + nlen - blen, b, blen) != 0)
        return 0;
    return b[0] == '.' ? nlen > blen : nlen == blen || name[nlen - blen - 1] == '.';
}

/* A name matched through the common-name fallback is subject to every DNS name constraint in the
 * chain, as a dNSName would be: OpenSSL checks only common names it parses as host names, so
 * "*.evil.test", "intranet" or "www.evil.test." would pass a CA limited to allowed.test. The
 * name checked is the target the common name matched. */
static int cn_name_constrained(X509_STORE_CTX *sctx, tlsb_verify_state *st)
{
    char name[256], detail[384];
    snprintf(name, sizeof name, "%s", st->target);
    size_t len = strlen(name);
    if (len > 1 && name[len - 1] == '.')
        name[len - 1] = '\0';
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(sctx);
    for (int i = 1; i < sk_X509_num(chain); i++) {
        NAME_CONSTRAINTS *nc = X509_get_ext_d2i(sk_X509_value(chain, i), NID_name_constraints, NULL, NULL);
        int limited = 0, inside = 0, excluded = 0;
        for (int j = 0; nc && j < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); j++) {
            const GENERAL_NAME *g = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, j)->base;
            if (g->type == GEN_DNS) {
                limited = 1;
                inside |= dns_within(name, g->d.dNSName);
            }
        }
        for (int j = 0; nc && j < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); j++) {
            const GENERAL_NAME *g = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, j)->base;
            excluded |= g->type == GEN_DNS && dns_within(name, g->d.dNSName);
        }
        NAME_CONSTRAINTS_free(nc);
        if (excluded || (limited && !inside)) {
            char ca[256];
            tlsb_name_text(X509_get_subject_name(sk_X509_value(chain, i)), ca, sizeof ca);
            snprintf(detail, sizeof detail,
                     "'%s', matched through its common name (no subjectAltName), is %s by the name constraints "
                     "of '%s' (depth %d)",
                     name, excluded ? "excluded" : "not permitted", ca, i);
            return report(sctx, st, excluded ? X509_V_ERR_EXCLUDED_VIOLATION : X509_V_ERR_PERMITTED_VIOLATION, 0,
                          detail);
        }
    }
    return 1;
}

static int check_name(X509_STORE_CTX *sctx, tlsb_verify_state *st)
{
    if (!st->target[0])
        return 1;
    X509 *leaf = sk_X509_value(X509_STORE_CTX_get0_chain(sctx), 0);
    if (is_ip(st->target))
        return X509_check_ip_asc(leaf, st->target, 0) == 1 ||
               report(sctx, st, X509_V_ERR_IP_ADDRESS_MISMATCH, 0, NULL);
    if (!tlsb_name_match(leaf, st->target, st->context->options.wildcards))
        return report(sctx, st, X509_V_ERR_HOSTNAME_MISMATCH, 0, NULL);
    /* Without a subjectAltName the match came from the common name. */
    return X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1) >= 0 || cn_name_constrained(sctx, st);
}

/* RFC 5280 4.1.2.2: positive, at most 20 octets as encoded. */
static int serial_ok(X509 *x)
{
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    const unsigned char *p = ASN1_STRING_get0_data(serial);
    int len = ASN1_STRING_length(serial), zero = 1;
    for (int i = 0; i < len; i++)
        zero &= p[i] == 0;
    return ASN1_STRING_type(serial) != V_ASN1_NEG_INTEGER && !zero && len + (p[0] >= 0x80) <= 20;
}

/* A DNS name or pattern as RFC 1034 + RFC 6125 allow it: non-empty labels of letters, digits,
 * '-' and '_' (still common in private names); '*' only in the left-most label (names.c decides
 * which wildcards match). */
static int dns_syntax_ok(const char *name, int len)
{
    int label = 0, first = 1;
    for (int i = 0; i < len; i++) {
        char c = name[i];
        if (c == '.') {
            if (!label)
                return 0;
            label = 0;
            first = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                   (c == '*' && first)) {
            label++;
        } else {
            return 0;
        }
    }
    return label > 0 || (len > 0 && name[len - 1] == '.'); /* a trailing dot is the root label */
}

/* The leaf's subjectAltName entries must be well-formed: name constraints and name matching
 * are only meaningful for names that parse. */
static const char *san_syntax(X509 *x)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    const char *bad = NULL;
    for (int i = 0; sans && !bad && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS && !dns_syntax_ok((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                                 ASN1_STRING_length(g->d.dNSName)))
            bad = "a subjectAltName dNSName is not a valid DNS name";
        if (g->type == GEN_EMAIL) {
            const char *at = memchr(ASN1_STRING_get0_data(g->d.rfc822Name), '@', (size_t)ASN1_STRING_length(g->d.rfc822Name));
            const char *end = (const char *)ASN1_STRING_get0_data(g->d.rfc822Name) + ASN1_STRING_length(g->d.rfc822Name);
            if (!at || at == (const char *)ASN1_STRING_get0_data(g->d.rfc822Name) || memchr(at + 1, '@', (size_t)(end - at - 1)) ||
                !dns_syntax_ok(at + 1, (int)(end - at - 1)))
                bad = "a subjectAltName rfc822Name is not a valid mailbox";
        }
    }
    GENERAL_NAMES_free(sans);
    return bad;
}

/* An extension OpenSSL knows but cannot decode is malformed (OpenSSL skips such an extension
 * when it is not critical, e.g. authorityInfoAccess). */
static const char *malformed_extension(X509 *x)
{
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *ext = X509_get_ext(x, i);
        if (!X509V3_EXT_get(ext))
            continue;
        void *decoded = X509V3_EXT_d2i(ext);
        if (!decoded)
            return "an extension cannot be decoded";
        const X509V3_EXT_METHOD *m = X509V3_EXT_get(ext);
        if (m->it)
            ASN1_item_free(decoded, ASN1_ITEM_ptr(m->it));
        else
            m->ext_free(decoded);
    }
    return NULL;
}

/* A wildcard dNSName could name a host that an excluded subtree forbids (CVE-2025-61727):
 * "*.example.com" under "excluded: bar.example.com" names bar.example.com. */
static int wildcard_excluded(X509 *leaf, NAME_CONSTRAINTS *nc)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    int hit = 0;
    for (int i = 0; sans && !hit && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS || ASN1_STRING_length(g->d.dNSName) < 3 ||
            memcmp(ASN1_STRING_get0_data(g->d.dNSName), "*.", 2) != 0)
            continue;
        const char *base = (const char *)ASN1_STRING_get0_data(g->d.dNSName) + 2;
        size_t blen = (size_t)ASN1_STRING_length(g->d.dNSName) - 2;
        for (int j = 0; !hit && j < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); j++) {
            const GENERAL_NAME *e = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, j)->base;
            if (e->type != GEN_DNS)
                continue;
            const char *ex = (const char *)ASN1_STRING_get0_data(e->d.dNSName);
            size_t elen = (size_t)ASN1_STRING_length(e->d.dNSName);
            const char *dot = memchr(ex, '.', elen);
            /* One whole label in front of the wildcard's base: the wildcard can name it. */
            hit = dot && dot > ex && elen - (size_t)(dot + 1 - ex) == blen &&
                  strncasecmp(dot + 1, base, blen) == 0;
        }
    }
    GENERAL_NAMES_free(sans);
    return hit;
}

/* The RFC 5280 rules OpenSSL leaves unchecked, for one certificate of the chain that is not the
 * trust anchor (anchors are trusted as configured, RFC 5280 6.1.1 (d)). NULL when it is fine. */
static const char *cert_rule(X509 *x, int depth, X509_STORE_CTX *sctx, int *err)
{
    int crit = -1;
    *err = X509_V_ERR_INVALID_EXTENSION;
    if (!serial_ok(x))
        return "the serial number is not a positive integer of at most 20 octets (RFC 5280 4.1.2.2)";
    const char *bad = malformed_extension(x);
    if (bad)
        return bad;
    int is_ca = X509_check_ca(x) != 0;
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x, NID_name_constraints, &crit, NULL);
    if (nc && !is_ca)
        bad = "nameConstraints in a certificate that is not a CA (RFC 5280 4.2.1.10)";
    else if (nc && sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) <= 0 && sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) <= 0)
        bad = "nameConstraints with neither permitted nor excluded subtrees (RFC 5280 4.2.1.10)";
    else if (nc && depth > 0 && wildcard_excluded(sk_X509_value(X509_STORE_CTX_get0_chain(sctx), 0), nc)) {
        *err = X509_V_ERR_EXCLUDED_VIOLATION;
        bad = "a wildcard subjectAltName of the leaf covers an excluded subtree";
    }
    NAME_CONSTRAINTS_free(nc);
    if (bad)
        return bad;
    POLICY_CONSTRAINTS *pc = X509_get_ext_d2i(x, NID_policy_constraints, &crit, NULL);
    POLICY_CONSTRAINTS_free(pc);
    if (pc && !crit)
        return "policyConstraints is not marked critical (RFC 5280 4.2.1.11)";
    if (is_ca && depth > 0 && !X509_get0_subject_key_id(x))
        return "a CA certificate without subjectKeyIdentifier (RFC 5280 4.2.1.2)";
    if (X509_NAME_entry_count(X509_get_subject_name(x)) == 0) {
        GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
        GENERAL_NAMES_free(sans);
        if (!sans || !crit)
            return "an empty subject needs a critical subjectAltName (RFC 5280 4.2.1.6)";
    }
    if (depth == 0 && !is_ca && (X509_get_extension_flags(x) & EXFLAG_KUSAGE) && (X509_get_key_usage(x) & KU_KEY_CERT_SIGN)) {
        *err = X509_V_ERR_INVALID_PURPOSE;
        return "keyCertSign in the Key Usage of a certificate that is not a CA (RFC 5280 4.2.1.3)";
    }
    if (depth == 0 && (bad = san_syntax(x)) != NULL)
        return bad;
    EVP_PKEY *key = X509_get0_pubkey(x);
    if (key && EVP_PKEY_is_a(key, "DSA"))
        return "a DSA key, which TLS peers no longer use";
    if (key && EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) % 8 != 0)
        return "an RSA modulus whose size is not a whole number of bytes";
    return NULL;
}

/* tls-verify-depth counts intermediates as RFC 5280 does: self-issued ones (key rollover) do not
 * count, where OpenSSL's own depth limit counts them. */
static int check_depth(X509_STORE_CTX *sctx, tlsb_verify_state *st)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(sctx);
    int limit = st->context->options.verify_depth, count = 0;
    for (int i = 1; limit >= 0 && i < sk_X509_num(chain) - 1; i++) {
        X509 *x = sk_X509_value(chain, i);
        if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0 && ++count > limit)
            return report(sctx, st, X509_V_ERR_CERT_CHAIN_TOO_LONG, i, "more intermediate CAs than tls-verify-depth allows");
    }
    return 1;
}

/* OpenSSL's chain checks, then tlsbridge's. Installed as the SSL_CTX's certificate verification
 * callback, so a handshake and tlsb_verify() run this same function. */
/* Whether the peer's certificate leads, through the chain it sent and trusted-ca, to a self-signed
 * certificate of trusted-ca. If it does, the whole path is verified, so that every CRL applies
 * (the root's to a listed intermediate too); if not, the first listed certificate on the way
 * anchors the chain (a partial chain, as JSSE and SChannel accept). */
static int reaches_root(X509_STORE_CTX *sctx)
{
    X509 *cur = X509_STORE_CTX_get0_cert(sctx);
    const STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(sctx);
    int root = 0;
    if (!cur || !X509_up_ref(cur))
        return 0;
    for (int depth = 0; cur && !root && depth < 100; depth++) {
        X509 *issuer = NULL;
        if (X509_STORE_CTX_get1_issuer(&issuer, sctx, cur) == 1) {
            root = X509_check_issued(issuer, issuer) == X509_V_OK;
        } else {
            for (int i = 0; !issuer && i < sk_X509_num(sent); i++) {
                X509 *x = sk_X509_value(sent, i);
                if (x != cur && X509_check_issued(x, cur) == X509_V_OK && X509_up_ref(x))
                    issuer = x;
            }
        }
        X509_free(cur);
        cur = issuer;
    }
    X509_free(cur);
    ERR_clear_error();
    return root;
}

static int verify_chain(X509_STORE_CTX *sctx, void *arg)
{
    (void)arg;
    tlsb_verify_state *st = state_of(sctx);
    if (st && st->context->anchors && !reaches_root(sctx))
        X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(sctx), X509_V_FLAG_PARTIAL_CHAIN);
    int ok = X509_verify_cert(sctx);
    if (ok <= 0 || !st)
        return ok;
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(sctx);
    for (int i = 0; ok > 0 && i < sk_X509_num(chain) - 1; i++) {
        int err;
        const char *why = cert_rule(sk_X509_value(chain, i), i, sctx, &err);
        if (why)
            ok = report(sctx, st, err, i, why);
    }
    if (ok > 0)
        ok = check_depth(sctx, st);
    if (ok > 0)
        ok = check_name(sctx, st);
    return ok;
}

/* ---- the store --------------------------------------------------------------------- */

/* quiet (a file in a directory): a file without any certificate is skipped, not an error. */
static int32_t add_anchor_file(const char *path, X509_STORE *store, STACK_OF(X509) *anchors, int quiet)
{
    ERR_clear_error();
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (!certs)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    int count = 0;
    int32_t rc = tlsb_pem_read_file("trusted-ca", path, 0, certs, &count);
    if (rc == TLSB_OK && !count && !quiet)
        rc = tlsb_fail(TLSB_ERR_FILE, "option trusted-ca: '%s' holds no PEM certificate", path);
    for (int i = 0; rc == TLSB_OK && i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);
        if (!X509_STORE_add_cert(store, x) && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
            rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option trusted-ca: '%s' cannot be used", path);
        else if (!sk_X509_push(anchors, x) || !X509_up_ref(x))
            rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        ERR_clear_error();
    }
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

static int32_t add_anchor_dir(const char *dir, X509_STORE *store, STACK_OF(X509) *anchors)
{
    ERR_clear_error();
    DIR *d = opendir(dir);
    if (!d)
        return tlsb_fail(TLSB_ERR_FILE, "option trusted-ca: cannot open directory '%s': %s", dir, strerror(errno));
    int before = sk_X509_num(anchors);
    int32_t rc = TLSB_OK;
    struct dirent *e;
    while (rc == TLSB_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
            rc = add_anchor_file(path, store, anchors, 1);
    }
    closedir(d);
    if (rc == TLSB_OK && sk_X509_num(anchors) == before)
        rc = tlsb_fail(TLSB_ERR_FILE, "option trusted-ca: directory '%s' holds no PEM certificate", dir);
    return rc;
}

/* Warns at context build about a CRL that cannot help: outside its validity, or from an issuer
 * that is not in trusted-ca (it still applies if that CA arrives in a peer's chain). */
static int32_t check_crl(tlsb_options *o, const char *file, X509_CRL *crl, const STACK_OF(X509) *anchors)
{
    char issuer[256], when[64];
    tlsb_name_text(X509_CRL_get_issuer(crl), issuer, sizeof issuer);
    int32_t rc = TLSB_OK;
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
    if (X509_cmp_current_time(X509_CRL_get0_lastUpdate(crl)) > 0) {
        time_text(X509_CRL_get0_lastUpdate(crl), when, sizeof when);
        rc = tlsb_options_warn(o, "tls-crl: the CRL of '%s' in '%s' is not valid before %s", issuer, file, when);
    } else if (next && X509_cmp_current_time(next) < 0) {
        time_text(next, when, sizeof when);
        rc = tlsb_options_warn(o, "tls-crl: the CRL of '%s' in '%s' expired at %s", issuer, file, when);
    }
    int known = 0;
    for (int i = 0; anchors && !known && i < sk_X509_num(anchors); i++)
        known = X509_NAME_cmp(X509_get_subject_name(sk_X509_value(anchors, i)), X509_CRL_get_issuer(crl)) == 0;
    if (rc == TLSB_OK && anchors && !known)
        rc = tlsb_options_warn(o, "tls-crl: the issuer '%s' of a CRL in '%s' is not in trusted-ca", issuer, file);
    return rc;
}

static int32_t add_crls(tlsb_options *o, X509_STORE *store, const STACK_OF(X509) *anchors)
{
    ERR_clear_error();
    char **files;
    int n = tlsb_split(o->crl, 0, &files);
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    int32_t rc = n < 0 || !crls ? tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory") : TLSB_OK;
    for (int i = 0; i < n && rc == TLSB_OK; i++) {
        int count = 0;
        rc = tlsb_pem_read_file("tls-crl", files[i], 1, crls, &count);
        if (rc == TLSB_OK && !count)
            rc = tlsb_fail(TLSB_ERR_FILE, "option tls-crl: '%s' holds no PEM CRL", files[i]);
        X509_CRL *crl;
        while ((crl = sk_X509_CRL_shift(crls)) != NULL) {
            if (rc == TLSB_OK && !X509_STORE_add_crl(store, crl))
                rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option tls-crl: a CRL in '%s' cannot be used", files[i]);
            else if (rc == TLSB_OK)
                rc = check_crl(o, files[i], crl, anchors);
            X509_CRL_free(crl);
        }
    }
    sk_X509_CRL_free(crls);
    if (n >= 0)
        tlsb_split_free(files, n);
    return rc;
}

int32_t tlsb_verify_configure(SSL_CTX *ctx, int32_t role, tlsb_options *o, STACK_OF(X509) **anchors_out)
{
    ERR_clear_error();
    CRYPTO_THREAD_run_once(&state_once, make_index);
    if (state_index < 0)
        return tlsb_fail_ssl(TLSB_ERR_INTERNAL, "cannot allocate SSL ex_data index");
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509) *anchors = NULL;
    int32_t rc = TLSB_OK;
    if (o->trusted_ca) {
        char **items;
        int n = tlsb_split(o->trusted_ca, 0, &items);
        anchors = sk_X509_new_null();
        if (n < 0 || !anchors)
            rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        for (int i = 0; i < n && rc == TLSB_OK; i++) {
            struct stat sb;
            if (stat(items[i], &sb) == 0 && S_ISDIR(sb.st_mode))
                rc = add_anchor_dir(items[i], store, anchors);
            else
                rc = add_anchor_file(items[i], store, anchors, 0);
        }
        if (n >= 0)
            tlsb_split_free(items, n);
    } else if ((role == TLSB_ROLE_CLIENT || o->mutual) && !SSL_CTX_set_default_verify_paths(ctx)) {
        /* Only a context that verifies its peer needs the system store, and loading it costs
         * tens of milliseconds per context. */
        rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option trusted-ca: the system trust store cannot be loaded");
    }
    if (rc == TLSB_OK && o->crl) {
        rc = add_crls(o, store, anchors);
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    if (rc == TLSB_OK && role == TLSB_ROLE_SERVER && o->mutual && anchors) {
        /* Clients pick their certificate from these names. */
        STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
        for (int i = 0; names && i < sk_X509_num(anchors); i++) {
            X509_NAME *nm = X509_NAME_dup(X509_get_subject_name(sk_X509_value(anchors, i)));
            if (!nm || !sk_X509_NAME_push(names, nm))
                X509_NAME_free(nm);
        }
        if (!names)
            rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        else
            SSL_CTX_set_client_CA_list(ctx, names);
    }
    if (rc != TLSB_OK) {
        sk_X509_pop_free(anchors, X509_free);
        return rc;
    }
    int mode = SSL_VERIFY_NONE;
    if (role == TLSB_ROLE_CLIENT)
        mode = SSL_VERIFY_PEER;
    else if (o->mutual)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, verify_cb);
    SSL_CTX_set_cert_verify_callback(ctx, verify_chain, NULL);
    *anchors_out = anchors;
    return TLSB_OK;
}

/* ---- per connection ---------------------------------------------------------------- */

tlsb_verify_state *tlsb_verify_attach(SSL *ssl, const struct tlsb_context *context, const char *target)
{
    ERR_clear_error();
    tlsb_verify_state *st = calloc(1, sizeof *st);
    if (!st) {
        tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    st->context = context;
    if (target && *target && context->options.name_check)
        snprintf(st->target, sizeof st->target, "%s", target);
    if (!SSL_set_ex_data(ssl, state_index, st)) {
        tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        free(st);
        return NULL;
    }
    return st;
}

void tlsb_verify_state_free(tlsb_verify_state *st) { free(st); }

int32_t tlsb_verify_failure(const tlsb_verify_state *st)
{
    if (!st || !st->error)
        return TLSB_OK;
    if (st->error == X509_V_ERR_HOSTNAME_MISMATCH || st->error == X509_V_ERR_IP_ADDRESS_MISMATCH)
        return tlsb_fail(TLSB_ERR_VERIFY_NAME,
                         "certificate verification failed: target name '%s' does not match the certificate "
                         "'%s', whose names are %s%s",
                         st->target, st->subject, st->names,
                         st->context->options.wildcards ? "" : " (tls-target-name-wildcards=deny)");
    return tlsb_fail(TLSB_ERR_VERIFY, "certificate verification failed: %s%s%s (certificate '%s' at depth %d)",
                     X509_verify_cert_error_string(st->error), st->detail[0] ? ": " : "", st->detail, st->subject,
                     st->depth);
}

const char *tlsb_verify_summary(const tlsb_verify_state *st, SSL *ssl)
{
    if (st && st->error)
        return X509_verify_cert_error_string(st->error);
    if (!(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER))
        return "none";
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (!peer)
        return "none";
    return SSL_get_verify_result(ssl) == X509_V_OK ? "ok" : X509_verify_cert_error_string(SSL_get_verify_result(ssl));
}

/* ---- offline ------------------------------------------------------------------------ */

TLSB_API int32_t tlsb_verify(const tlsb_context *context, const uint8_t *pem, int32_t length, const char *peer_name,
                             int64_t at_time)
{
    ERR_clear_error();
    if (!context || !pem || length <= 0)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_verify: %s", !context ? "context is NULL" : "no chain given");
    if (!context->ssl_ctx)
        return tlsb_fail(TLSB_ERR_STATE, "tlsb_verify: the context has tls=0");
    BIO *b = BIO_new_mem_buf(pem, length);
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    if (!b || !chain || !sctx) {
        BIO_free(b);
        sk_X509_free(chain);
        X509_STORE_CTX_free(sctx);
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    }
    int count = 0;
    int32_t rc = tlsb_pem_read(b, 0, TLSB_ERR_ARGUMENT, "tlsb_verify: the chain", chain, &count);
    BIO_free(b);
    tlsb_verify_state st = {.context = context};
    const char *name = peer_name ? peer_name : context->options.target_name;
    if (name && *name && context->options.name_check)
        snprintf(st.target, sizeof st.target, "%s", name);
    if (rc == TLSB_OK && !count)
        rc = tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_verify: the chain holds no PEM certificate");
    else if (rc == TLSB_OK &&
             !X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(context->ssl_ctx), sk_X509_value(chain, 0), chain))
        rc = tlsb_fail_ssl(TLSB_ERR_INTERNAL, "tlsb_verify: cannot start verification");
    if (rc == TLSB_OK) {
        /* The same preparation as OpenSSL's ssl_verify_cert_chain(): security level, purpose
         * (a client checks servers, a server checks clients), the context's parameters. */
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(sctx);
        X509_VERIFY_PARAM_set_auth_level(param, SSL_CTX_get_security_level(context->ssl_ctx));
        X509_STORE_CTX_set_default(sctx, context->role == TLSB_ROLE_CLIENT ? "ssl_server" : "ssl_client");
        X509_VERIFY_PARAM_set1(param, SSL_CTX_get0_param(context->ssl_ctx));
        if (at_time)
            X509_VERIFY_PARAM_set_time(param, (time_t)at_time);
        X509_STORE_CTX_set_app_data(sctx, &st);
        X509_STORE_CTX_set_verify_cb(sctx, verify_cb);
        int ok = verify_chain(sctx, NULL);
        if (ok <= 0 && !st.error)
            st.error = X509_STORE_CTX_get_error(sctx);
        rc = ok > 0 ? TLSB_OK : tlsb_verify_failure(&st);
        if (rc == TLSB_OK && ok <= 0)
            rc = tlsb_fail(TLSB_ERR_VERIFY, "certificate verification failed");
    }
    X509_STORE_CTX_free(sctx);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}
