/* Shared internals of libtlsbridge: nothing here crosses the ABI. */
#ifndef TLSB_INTERNAL_H
#define TLSB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsbridge.h"

/* Protocol versions as a bit set, lowest first. */
enum {
    TLSB_V10 = 1u << 0,
    TLSB_V11 = 1u << 1,
    TLSB_V12 = 1u << 2,
    TLSB_V13 = 1u << 3,
    TLSB_V_ALL = TLSB_V10 | TLSB_V11 | TLSB_V12 | TLSB_V13
};

/* ---- errors.c ---- */
/* Records status + message as this thread's last error and returns status. */
int32_t tlsb_fail(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like tlsb_fail, appending the reason of the oldest queued OpenSSL error (and clearing the queue). */
int32_t tlsb_fail_ssl(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- log.c ---- */
typedef struct {
    tlsb_log_fn fn;
    void *user;
} tlsb_logger;
void tlsb_log(const tlsb_logger *logger, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- text buffer (errors.c) ---- */
typedef struct {
    char *data;
    size_t len, cap;
    int oom;
} tlsb_text;
void tlsb_text_add(tlsb_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *tlsb_text_take(tlsb_text *t); /* NULL when out of memory */

/* ---- options.c ---- */
struct tlsb_config {
    char **names;
    char **values;
    size_t count, cap;
    tlsb_logger logger;
};

/* Options after parsing: every value checked, files not yet opened. */
typedef struct {
    int tls;                   /* 0: clear text */
    int mutual;                /* tls-mutual */
    char *certificate;         /* raw option values, NULL when not given */
    char *certificate_key;
    char *key_password;        /* certificate-key-password: never shown in settings or messages */
    char *key_password_file;   /* certificate-key-password-file */
    char *trusted_ca;
    char *crl;
    int name_check;            /* tls-target-name-check=host */
    int name_check_given;
    char *target_name;
    char *cipher_list;
    unsigned versions;         /* TLSB_V* set after the intersection rule */
    char *version_sources;     /* "sec-protocol, tls-version": options that defined the set */
    char **warnings;
    size_t warning_count;
    int wildcards;             /* tls-target-name-wildcards: 1 allow (default), 0 deny */
    int verify_depth;          /* tls-verify-depth: most intermediates allowed, -1 = OpenSSL's default */
    int dns_cache_ttl;         /* dns-cache-ttl: seconds tlsb_dial keeps a resolved host */
} tlsb_options;

#define TLSB_DNS_CACHE_TTL 30 /* seconds, as the JVM's networkaddress.cache.ttl */
int32_t tlsb_options_parse(const struct tlsb_config *config, int32_t role, tlsb_options *out);
void tlsb_options_clear(tlsb_options *options);
int32_t tlsb_options_warn(tlsb_options *options, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "TLSv1.2 TLSv1.3" for a version set. */
void tlsb_versions_text(unsigned versions, tlsb_text *out);
/* Splits a list on commas (and, if spaces is set, white space); returns count or -1 (no memory). */
int tlsb_split(const char *list, int spaces, char ***items);
void tlsb_split_free(char **items, int count);

/* ---- ciphers.c ---- */
/* Applies cipher-list to ctx; may drop versions that are left without suites (with a warning). */
int32_t tlsb_ciphers_apply(SSL_CTX *ctx, tlsb_options *options);
/* Appends "ciphers: ..." and "ciphers-iana: ..." lines for what ctx enables. */
int32_t tlsb_ciphers_describe(SSL_CTX *ctx, tlsb_text *out);

/* ---- certs.c ---- */
/* Loads certificate (+ chain) and certificate-key into ctx. */
int32_t tlsb_certs_load_own(SSL_CTX *ctx, const tlsb_options *options);
/* Reads every certificate of a PEM file into stack; option names the option for messages. */
int32_t tlsb_certs_read_file(const char *option, const char *path, STACK_OF(X509) *stack);
/* Pushes every PEM block of b labelled as a certificate (crl: a CRL) onto stack (STACK_OF(X509) or
 * STACK_OF(X509_CRL)) and counts them; other blocks are skipped. A block that is not valid PEM or
 * does not decode fails with status, "WHERE: PEM block N is not a valid certificate". */
int32_t tlsb_pem_read(BIO *b, int crl, int32_t status, const char *where, void *stack, int *count);
/* The same for a file named by option: TLSB_ERR_FILE naming the option, the path and the block. */
int32_t tlsb_pem_read_file(const char *option, const char *path, int crl, void *stack, int *count);
/* RFC 2253 text of a name, e.g. "CN=localhost,O=tlsbridge tests"; "" on failure. */
void tlsb_name_text(const X509_NAME *name, char *out, size_t size);

/* ---- verify.c ---- */
typedef struct tlsb_verify_state tlsb_verify_state;
/* Sets the trust store, CRLs, verify mode and callback on ctx; *anchors gets the trusted-ca
 * certificates that were listed explicitly (NULL for the system store). */
int32_t tlsb_verify_configure(SSL_CTX *ctx, int32_t role, tlsb_options *options, STACK_OF(X509) **anchors);
/* Per-connection verification state, attached to ssl. */
tlsb_verify_state *tlsb_verify_attach(SSL *ssl, const struct tlsb_context *context,
                                      const char *target_name);
void tlsb_verify_state_free(tlsb_verify_state *state);
/* After a failed handshake: the verification failure as a status + last error, or 0 if the
 * failure was not about verification. */
int32_t tlsb_verify_failure(const tlsb_verify_state *state);
/* "ok", "none", or the reason verification failed. */
const char *tlsb_verify_summary(const tlsb_verify_state *state, SSL *ssl);

/* ---- names.c ---- */
/* 1 if name (a DNS name) matches cert by RFC 6125; wildcards 0 refuses every wildcard. */
int tlsb_name_match(X509 *cert, const char *name, int wildcards);
/* 1 if domain (lower case) is a public suffix (ICANN section of the public suffix list). */
int tlsb_public_suffix(const char *domain);

/* ---- resolve.c ---- */
#define TLSB_RESOLVE_MAX 8 /* addresses tried per host */
typedef struct {
    int family, socktype, protocol;
    socklen_t len;
    struct sockaddr_storage addr;
} tlsb_address;
typedef struct tlsb_resolver tlsb_resolver;
/* A cache that keeps each resolved host for ttl_seconds (0: resolves every time). */
tlsb_resolver *tlsb_resolver_new(int32_t ttl_seconds);
void tlsb_resolver_free(tlsb_resolver *resolver);
/* host:port as at most TLSB_RESOLVE_MAX addresses in out; returns their count or a negative
 * status; *cached: whether they came from the cache. */
int32_t tlsb_resolve(tlsb_resolver *resolver, const char *host, int32_t port, tlsb_address *out, int *cached);
/* Drops host from the cache. */
void tlsb_resolver_forget(tlsb_resolver *resolver, const char *host);

/* ---- context.c ---- */
struct tlsb_context {
    atomic_int refs;
    int32_t role;
    tlsb_options options;
    SSL_CTX *ssl_ctx;              /* NULL when tls=0 */
    STACK_OF(X509) *anchors;       /* explicitly trusted CAs (compat mode rule 1) */
    char *settings;
    unsigned char settings_digest[SHA256_DIGEST_LENGTH]; /* SHA-256 of settings: what an exported session is bound to */
    tlsb_logger logger;
    tlsb_resolver *resolver;       /* clients: tlsb_dial's dns-cache-ttl cache */
    /* The session imported last, decoded (conn.c: decode_session), and its encoding. */
    pthread_mutex_t session_lock;
    SSL_SESSION *session;
    unsigned char *session_der;
    long session_len;
};
void tlsb_context_ref(struct tlsb_context *context);

/* ---- compat mode (version.c) ---- */
int tlsb_compat(void);

/* ---- transport.c ---- */
/* Connects to host:port within timeout_ms, resolving through resolver (NULL: no cache); returns
 * a non-blocking fd or a negative status. */
int32_t tlsb_tcp_dial(tlsb_resolver *resolver, const char *host, int32_t port, int32_t timeout_ms);
/* A connection on a socket the core made (tlsb_accept): non-blocking underneath, blocking for
 * the caller. */
int32_t tlsb_conn_adopt(tlsb_context *context, int fd, tlsb_conn **out);
/* Waits until fd is ready (POLLIN/POLLOUT); returns 0, TLSB_ERR_TIMEOUT or TLSB_ERR_IO. */
int32_t tlsb_wait_fd(int fd, short events, int32_t timeout_ms);
void tlsb_tcp_tune(int fd);
/* Milliseconds on the monotonic clock, for deadlines and expiry. */
int64_t tlsb_now_ms(void);
/* A BIO over a socket that never raises SIGPIPE; the descriptor stays the caller's. */
BIO *tlsb_socket_bio(int fd);

#endif
