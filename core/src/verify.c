/* Certificate verification policy: trust store, CRLs, peer name, compatibility mode, and the
 * offline tlsb_verify() that applies exactly what a handshake applies (docs/verification.md). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal.h"

struct tlsb_verify_state {
    const struct tlsb_context *context;
    int error;            /* first X509_V_ERR_* seen, 0 if none */
    int depth;
    char subject[256];    /* certificate at that depth */
    char names[512];      /* the leaf's names, for a name mismatch */
    char target[256];     /* the name checked, "" if none */
};

static int state_index = -1;
static CRYPTO_ONCE state_once = CRYPTO_ONCE_STATIC_INIT;

static void make_index(void) { state_index = SSL_get_ex_new_index(0, "tlsbridge verify", NULL, NULL, NULL); }

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
            char *ip = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(g->d.iPAddress), ASN1_STRING_length(g->d.iPAddress));
            const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
            if (ASN1_STRING_length(g->d.iPAddress) == 4)
                tlsb_text_add(&t, "%sIP:%u.%u.%u.%u", t.len ? ", " : "", a[0], a[1], a[2], a[3]);
            else
                tlsb_text_add(&t, "%sIP:%s", t.len ? ", " : "", ip ? ip : "?");
            OPENSSL_free(ip);
        }
    }
    GENERAL_NAMES_free(sans);
    if (!t.len) {
        char cn[256] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
        tlsb_text_add(&t, "CN=%s (no subjectAltName)", cn);
    }
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

/* Compatibility mode rule 2: the purpose check failed only because of Key Usage. */
static int key_usage_only(X509 *cert, int role)
{
    uint32_t want = role == TLSB_ROLE_CLIENT ? XKU_SSL_SERVER : XKU_SSL_CLIENT;
    return (X509_get_extended_key_usage(cert) & want) != 0;
}

static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    tlsb_verify_state *st = ssl ? SSL_get_ex_data(ssl, state_index) : X509_STORE_CTX_get_app_data(sctx);
    if (ok || !st)
        return ok;
    int err = X509_STORE_CTX_get_error(sctx);
    X509 *cert = X509_STORE_CTX_get_current_cert(sctx);
    int depth = X509_STORE_CTX_get_error_depth(sctx);
    if (tlsb_compat() && cert) {
        int forgive = (err == X509_V_ERR_CERT_REVOKED && listed_anchor(st->context, cert)) ||
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
    }
    return 0;
}

/* ---- the store --------------------------------------------------------------------- */

static int32_t add_anchor_file(const char *path, X509_STORE *store, STACK_OF(X509) *anchors, int quiet)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (!certs)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    int32_t rc = tlsb_certs_read_file("trusted-ca", path, certs);
    for (int i = 0; rc == TLSB_OK && i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);
        if (!X509_STORE_add_cert(store, x) && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
            rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option trusted-ca: '%s' cannot be used", path);
        else if (!sk_X509_push(anchors, x) || !X509_up_ref(x))
            rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        ERR_clear_error();
    }
    sk_X509_pop_free(certs, X509_free);
    /* In a directory, files that are not PEM certificates are skipped. */
    if (quiet && rc == TLSB_ERR_FILE)
        rc = TLSB_OK;
    return rc;
}

static int32_t add_anchor_dir(const char *dir, X509_STORE *store, STACK_OF(X509) *anchors)
{
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

static int32_t add_crls(const char *list, X509_STORE *store)
{
    char **files;
    int n = tlsb_split(list, 0, &files);
    if (n < 0)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    int32_t rc = TLSB_OK;
    for (int i = 0; i < n && rc == TLSB_OK; i++) {
        FILE *f = fopen(files[i], "r");
        if (!f) {
            rc = tlsb_fail(TLSB_ERR_FILE, "option tls-crl: cannot open '%s': %s", files[i], strerror(errno));
            break;
        }
        int count = 0;
        X509_CRL *crl;
        while (rc == TLSB_OK && (crl = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL) {
            if (!X509_STORE_add_crl(store, crl))
                rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option tls-crl: a CRL in '%s' cannot be used", files[i]);
            X509_CRL_free(crl);
            count++;
        }
        fclose(f);
        ERR_clear_error();
        if (rc == TLSB_OK && !count)
            rc = tlsb_fail(TLSB_ERR_FILE, "option tls-crl: '%s' holds no PEM CRL", files[i]);
    }
    tlsb_split_free(files, n);
    return rc;
}

int32_t tlsb_verify_configure(SSL_CTX *ctx, int32_t role, const tlsb_options *o, STACK_OF(X509) **anchors_out)
{
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
    } else if (!SSL_CTX_set_default_verify_paths(ctx)) {
        rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option trusted-ca: the system trust store cannot be loaded");
    }
    if (rc == TLSB_OK && o->crl) {
        rc = add_crls(o->crl, store);
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
    *anchors_out = anchors;
    return TLSB_OK;
}

/* ---- per connection ---------------------------------------------------------------- */

static int is_ip(const char *name)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
    ASN1_OCTET_STRING_free(ip);
    return ip != NULL;
}

/* Applies the peer-name check to param; returns 0 on failure. */
static int set_name_check(X509_VERIFY_PARAM *param, const char *name)
{
    if (is_ip(name))
        return X509_VERIFY_PARAM_set1_ip_asc(param, name);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return X509_VERIFY_PARAM_set1_host(param, name, 0);
}

tlsb_verify_state *tlsb_verify_attach(SSL *ssl, const struct tlsb_context *context, const char *target)
{
    tlsb_verify_state *st = calloc(1, sizeof *st);
    if (!st) {
        tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    st->context = context;
    if (target && *target && context->options.name_check) {
        snprintf(st->target, sizeof st->target, "%s", target);
        if (!set_name_check(SSL_get0_param(ssl), target)) {
            tlsb_fail_ssl(TLSB_ERR_ARGUMENT, "target name '%s' cannot be checked", target);
            free(st);
            return NULL;
        }
    }
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
                         "'%s', whose names are %s",
                         st->target, st->subject, st->names);
    return tlsb_fail(TLSB_ERR_VERIFY, "certificate verification failed: %s (certificate '%s' at depth %d)",
                     X509_verify_cert_error_string(st->error), st->subject, st->depth);
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
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(chain, x))
            X509_free(x);
    BIO_free(b);
    ERR_clear_error();
    int32_t rc = TLSB_OK;
    tlsb_verify_state st = {.context = context};
    const char *name = peer_name ? peer_name : context->options.target_name;
    if (!sk_X509_num(chain))
        rc = tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_verify: the chain holds no PEM certificate");
    else if (!X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(context->ssl_ctx), sk_X509_value(chain, 0), chain))
        rc = tlsb_fail_ssl(TLSB_ERR_INTERNAL, "tlsb_verify: cannot start verification");
    if (rc == TLSB_OK) {
        /* A client checks servers and a server checks clients, as in a handshake. */
        X509_STORE_CTX_set_default(sctx, context->role == TLSB_ROLE_CLIENT ? "ssl_server" : "ssl_client");
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(sctx);
        if (at_time)
            X509_VERIFY_PARAM_set_time(param, (time_t)at_time);
        if (name && *name && context->options.name_check) {
            snprintf(st.target, sizeof st.target, "%s", name);
            if (!set_name_check(param, name))
                rc = tlsb_fail_ssl(TLSB_ERR_ARGUMENT, "tlsb_verify: peer name '%s' cannot be checked", name);
        }
    }
    if (rc == TLSB_OK) {
        X509_STORE_CTX_set_app_data(sctx, &st);
        X509_STORE_CTX_set_verify_cb(sctx, verify_cb);
        int ok = X509_verify_cert(sctx);
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
