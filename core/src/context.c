/* A validated, immutable role + options owning one SSL_CTX, shared by all its connections. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/sha.h>

#include "internal.h"

static const int protocol_of[4] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};

/* A client offers one range: an OpenSSL client stops at the first version cut out of it, so a
 * set with a gap ({1.0, 1.2}) would offer only its lowest run. It offers the highest run instead,
 * and o->versions becomes what it offers, so that the settings and errors name exactly that. */
static int32_t client_offer(tlsb_options *o)
{
    unsigned run = 0;
    for (int i = 3; i >= 0; i--) {
        if (o->versions & (1u << i))
            run |= 1u << i;
        else if (run)
            break;
    }
    if (run == o->versions)
        return TLSB_OK;
    tlsb_text dropped = {0}, kept = {0};
    tlsb_versions_text(o->versions & ~run, &dropped);
    tlsb_versions_text(run, &kept);
    int32_t rc = tlsb_options_warn(o, "%s not offered: a client offers one contiguous range of versions, here %s",
                                   dropped.data ? dropped.data : "", kept.data ? kept.data : "");
    free(dropped.data);
    free(kept.data);
    o->versions = run;
    return rc;
}

/* OpenSSL takes a min/max range; a server's holes ({1.0, 1.2}) are cut out with SSL_OP_NO_*. */
static int32_t apply_versions(SSL_CTX *ctx, int32_t role, tlsb_options *o)
{
    static const uint64_t no_op[4] = {SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1, SSL_OP_NO_TLSv1_2, SSL_OP_NO_TLSv1_3};
    if (!o->versions)
        return tlsb_fail(TLSB_ERR_PROTOCOL_NONE, "no protocol version is enabled");
    int32_t rc = role == TLSB_ROLE_CLIENT ? client_offer(o) : TLSB_OK;
    if (rc != TLSB_OK)
        return rc;
    int lo = -1, hi = -1;
    for (int i = 0; i < 4; i++)
        if (o->versions & (1u << i)) {
            if (lo < 0)
                lo = i;
            hi = i;
        }
    if (!SSL_CTX_set_min_proto_version(ctx, protocol_of[lo]) || !SSL_CTX_set_max_proto_version(ctx, protocol_of[hi]))
        return tlsb_fail_ssl(TLSB_ERR_INTERNAL, "cannot set the protocol versions");
    for (int i = lo + 1; i < hi; i++)
        if (!(o->versions & (1u << i)))
            SSL_CTX_set_options(ctx, no_op[i]);
    if (o->versions & (TLSB_V10 | TLSB_V11)) {
        /* TLS 1.0/1.1 sign with SHA-1, which security level 1 forbids: lower it for this context. */
        SSL_CTX_set_security_level(ctx, 0);
        tlsb_text t = {0};
        tlsb_versions_text(o->versions & (TLSB_V10 | TLSB_V11), &t);
        rc = tlsb_options_warn(o, "security level lowered to 0 for %s (enabled explicitly)", t.data ? t.data : "");
        free(t.data);
        return rc;
    }
    return TLSB_OK;
}

static void list_line(tlsb_text *t, const char *key, const char *value, const char *none)
{
    if (!value) {
        tlsb_text_add(t, "%s: %s\n", key, none);
        return;
    }
    /* Normalise "a,b , c" to "a, b, c" so that every face prints the same line. */
    char **items;
    int n = tlsb_split(value, 0, &items);
    tlsb_text_add(t, "%s: ", key);
    for (int i = 0; i < n; i++)
        tlsb_text_add(t, "%s%s", i ? ", " : "", items[i]);
    tlsb_text_add(t, "\n");
    if (n >= 0)
        tlsb_split_free(items, n);
}

static int32_t describe(struct tlsb_context *c)
{
    const tlsb_options *o = &c->options;
    tlsb_text t = {0};
    tlsb_text_add(&t, "role: %s\ntls: %s\n", c->role == TLSB_ROLE_CLIENT ? "client" : "server", o->tls ? "on" : "off");
    if (c->ssl_ctx) {
        tlsb_text_add(&t, "protocols: ");
        tlsb_versions_text(o->versions, &t);
        tlsb_text_add(&t, "\nsecurity-level: %d\n", SSL_CTX_get_security_level(c->ssl_ctx));
        int32_t rc = tlsb_ciphers_describe(c->ssl_ctx, &t);
        if (rc != TLSB_OK) {
            free(t.data);
            return rc;
        }
        const char *verify = c->role == TLSB_ROLE_CLIENT || o->mutual ? "required" : "none";
        tlsb_text_add(&t, "verify-peer: %s\ntls-target-name-check: %s\ntls-target-name: %s\ntls-mutual: %s\n", verify,
                      o->name_check ? "host" : "no",
                      o->target_name ? o->target_name : (c->role == TLSB_ROLE_CLIENT ? "(dialled host)" : "(none)"),
                      c->role == TLSB_ROLE_SERVER && o->mutual ? "yes" : "no");
        list_line(&t, "certificate", o->certificate, "none");
        list_line(&t, "trusted-ca", o->trusted_ca, c->role == TLSB_ROLE_CLIENT || o->mutual ? "system" : "none");
        list_line(&t, "tls-crl", o->crl, "none");
        tlsb_text_add(&t, "tls-target-name-wildcards: %s\n", o->wildcards ? "allow" : "deny");
        if (o->verify_depth >= 0)
            tlsb_text_add(&t, "tls-verify-depth: %d\n", o->verify_depth);
        else
            tlsb_text_add(&t, "tls-verify-depth: default\n");
    }
    if (c->role == TLSB_ROLE_CLIENT)
        tlsb_text_add(&t, "dns-cache-ttl: %ds\n", o->dns_cache_ttl);
    tlsb_text_add(&t, "compat-mode: %s\n", tlsb_compat() ? "on" : "off");
    for (size_t i = 0; i < o->warning_count; i++)
        tlsb_text_add(&t, "warning: %s\n", o->warnings[i]);
    if (!(c->settings = tlsb_text_take(&t)))
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    SHA256((const unsigned char *)c->settings, strlen(c->settings), c->settings_digest);
    return TLSB_OK;
}

static int32_t build_ssl_ctx(struct tlsb_context *c)
{
    tlsb_options *o = &c->options;
    SSL_CTX *ctx = SSL_CTX_new(c->role == TLSB_ROLE_CLIENT ? TLS_client_method() : TLS_server_method());
    if (!ctx)
        return tlsb_fail_ssl(TLSB_ERR_NO_MEMORY, "cannot create an OpenSSL context");
    c->ssl_ctx = ctx;
    /* Read-ahead lets one read() bring a whole small record (and more), not header then body;
     * a moving write buffer lets managed faces retry a write from a re-pinned buffer; releasing
     * the record buffers when they are empty keeps an idle connection small (~34 KiB less). */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* Renegotiation would let a read need a write (and the reverse) mid-stream. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    /* One TLS 1.3 ticket per handshake, not OpenSSL's two: a tlsbridge client keeps one session
     * (tlsb_conn_session_export), as JSSE's server sends one; the second cost each side an
     * encryption, a record and a session copy per handshake. */
    if (c->role == TLSB_ROLE_SERVER)
        SSL_CTX_set_num_tickets(ctx, 1);
    /* Server sessions of tls-mutual contexts must carry an id context to be resumable. */
    static const unsigned char sid_ctx[] = "tlsbridge";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);

    int32_t rc = tlsb_ciphers_apply(ctx, o);
    if (rc == TLSB_OK)
        rc = apply_versions(ctx, c->role, o);
    if (rc == TLSB_OK)
        rc = tlsb_certs_load_own(ctx, o);
    if (rc == TLSB_OK)
        rc = tlsb_verify_configure(ctx, c->role, o, &c->anchors);
    /* Given a leaf without its chain, OpenSSL searches the trust store for the chain to send on
     * every handshake; search once here instead (same store, same result; a failure leaves the
     * per-handshake search as it was). */
    STACK_OF(X509) *chain = NULL;
    if (rc == TLSB_OK && SSL_CTX_get0_certificate(ctx) && SSL_CTX_get0_chain_certs(ctx, &chain) && !chain) {
        SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR);
        ERR_clear_error();
    }
    return rc;
}

TLSB_API int32_t tlsb_context_new(const tlsb_config *config, int32_t role, tlsb_context **out)
{
    if (!config || !out)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_context_new: %s is NULL", config ? "out" : "config");
    if (role != TLSB_ROLE_CLIENT && role != TLSB_ROLE_SERVER)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_context_new: role %d is neither client (0) nor server (1)", role);
    struct tlsb_context *c = calloc(1, sizeof *c);
    if (!c)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    atomic_init(&c->refs, 1);
    pthread_mutex_init(&c->session_lock, NULL);
    c->role = role;
    c->logger = config->logger;
    int32_t rc = tlsb_options_parse(config, role, &c->options);
    if (rc == TLSB_OK && c->options.tls)
        rc = build_ssl_ctx(c);
    if (rc == TLSB_OK && role == TLSB_ROLE_CLIENT && !(c->resolver = tlsb_resolver_new(c->options.dns_cache_ttl)))
        rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    if (rc == TLSB_OK)
        rc = describe(c);
    if (rc != TLSB_OK) {
        tlsb_log(&c->logger, TLSB_LOG_ERROR, "%s", tlsb_last_error());
        tlsb_context_free(c);
        return rc;
    }
    for (size_t i = 0; i < c->options.warning_count; i++)
        tlsb_log(&c->logger, TLSB_LOG_WARNING, "%s", c->options.warnings[i]);
    *out = c;
    return TLSB_OK;
}

void tlsb_context_ref(struct tlsb_context *c) { atomic_fetch_add(&c->refs, 1); }

TLSB_API const char *tlsb_context_settings(const tlsb_context *c)
{
    if (!c) {
        tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_context_settings: context is NULL");
        return NULL;
    }
    return c->settings;
}

TLSB_API void tlsb_context_free(tlsb_context *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    SSL_CTX_free(c->ssl_ctx);
    SSL_SESSION_free(c->session);
    free(c->session_der);
    pthread_mutex_destroy(&c->session_lock);
    tlsb_resolver_free(c->resolver);
    sk_X509_pop_free(c->anchors, X509_free);
    tlsb_options_clear(&c->options);
    free(c->settings);
    free(c);
}
