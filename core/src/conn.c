/* The connection state machine: one code path for socket and buffer mode, TLS and clear text. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "internal.h"

#define INFO_KEYS 9 /* TLSB_INFO_* are 1..8 */

struct tlsb_conn {
    struct tlsb_context *context;
    SSL *ssl;                   /* NULL in clear mode (tls=0) */
    tlsb_verify_state *verify;
    int fd;                     /* socket mode; -1 in buffer mode */
    atomic_int nonblocking;     /* what the caller's calls do; set from any thread */
    BIO *in, *out;              /* buffer mode: ciphertext in (fed) and out (to drain) */
    pthread_mutex_t lock;       /* serialises every use of ssl and the BIOs */
    pthread_mutex_t hs_lock;    /* one thread drives the handshake; the others wait for it */
    atomic_int closed;
    atomic_int handshake_done; /* published (release) after the details in info[] */
    atomic_int shutdown_sent;   /* tlsb_conn_shutdown was called: no more writes */
    atomic_int peer_closed;     /* clear mode: the peer's end of stream was read (TLS asks the SSL) */
    atomic_int eof_fed;
    atomic_int timeout_ms;      /* each blocking wait's limit; set from any thread */
    int32_t hs_status;          /* under hs_lock: the status a handshake failed with, 0 if none */
    char *hs_error;             /* under hs_lock: its message, repeated to every later call */
    char *target;
    char *info[INFO_KEYS];
};

static int32_t check(tlsb_conn *c, const char *what)
{
    if (!c)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "%s: connection is NULL", what);
    if (atomic_load(&c->closed))
        return tlsb_fail(TLSB_ERR_HANDLE_CLOSED, "%s: the connection is closed", what);
    return TLSB_OK;
}

/* Acquire: pairs with record_details' release, so the details are there once this says done. */
static int handshake_is_done(tlsb_conn *c)
{
    return atomic_load_explicit(&c->handshake_done, memory_order_acquire);
}

/* ---- creation ----------------------------------------------------------------------- */

/* fd (socket mode) is already non-blocking underneath, so that a reader waiting for data never
 * holds the connection's lock; nonblocking is what the caller's calls do. Buffer mode: fd < 0,
 * and it never blocks. */
static int32_t conn_new(struct tlsb_context *ctx, int fd, int nonblocking, const char *target_name, tlsb_conn **out)
{
    tlsb_conn *c = calloc(1, sizeof *c);
    if (!c)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    c->fd = fd;
    atomic_init(&c->closed, 0);
    atomic_init(&c->handshake_done, 0);
    atomic_init(&c->shutdown_sent, 0);
    atomic_init(&c->peer_closed, 0);
    atomic_init(&c->eof_fed, 0);
    atomic_init(&c->timeout_ms, 0);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->hs_lock, NULL);
    tlsb_context_ref(ctx);
    c->context = ctx;
    const tlsb_options *o = &ctx->options;
    int32_t rc = TLSB_OK;
    const char *target = ctx->role == TLSB_ROLE_CLIENT ? (o->target_name ? o->target_name : target_name) : NULL;
    if (target && *target && !(c->target = strdup(target)))
        rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    if (rc == TLSB_OK && ctx->ssl_ctx && o->name_check && !c->target)
        rc = tlsb_fail(TLSB_ERR_ARGUMENT, "a client connection needs a target name to check: pass one, set "
                                          "tls-target-name, or set tls-target-name-check=no");
    atomic_init(&c->nonblocking, nonblocking);
    if (rc == TLSB_OK && fd < 0) {
        c->in = BIO_new(BIO_s_mem());
        c->out = BIO_new(BIO_s_mem());
        if (!c->in || !c->out)
            rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    }
    if (rc == TLSB_OK && ctx->ssl_ctx) {
        if (!(c->ssl = SSL_new(ctx->ssl_ctx)))
            rc = tlsb_fail_ssl(TLSB_ERR_NO_MEMORY, "cannot create an OpenSSL connection");
        else if (fd >= 0) {
            BIO *sock = tlsb_socket_bio(fd);
            if (sock)
                SSL_set_bio(c->ssl, sock, sock);
            else
                rc = tlsb_fail_ssl(TLSB_ERR_NO_MEMORY, "cannot attach the socket");
        }
    }
    if (rc == TLSB_OK && c->ssl) {
        if (fd < 0) { /* the SSL owns the BIOs from here on */
            BIO_up_ref(c->in);
            BIO_up_ref(c->out);
            SSL_set_bio(c->ssl, c->in, c->out);
        }
        if (ctx->role == TLSB_ROLE_CLIENT) {
            SSL_set_connect_state(c->ssl);
            ASN1_OCTET_STRING *ip = c->target ? a2i_IPADDRESS(c->target) : NULL;
            if (c->target && !ip && !SSL_set_tlsext_host_name(c->ssl, c->target))
                rc = tlsb_fail_ssl(TLSB_ERR_ARGUMENT, "target name '%s' cannot be sent as SNI", c->target);
            ASN1_OCTET_STRING_free(ip);
            ERR_clear_error();
        } else {
            SSL_set_accept_state(c->ssl);
        }
        if (rc == TLSB_OK && !(c->verify = tlsb_verify_attach(c->ssl, ctx, c->target)))
            rc = tlsb_last_status();
    }
    if (rc != TLSB_OK) {
        c->fd = -1; /* on failure the caller keeps its descriptor */
        tlsb_conn_free(c);
        return rc;
    }
    *out = c;
    return TLSB_OK;
}

TLSB_API int32_t tlsb_conn_new_socket(tlsb_context *ctx, int32_t fd, const char *target_name, tlsb_conn **out)
{
    if (!ctx || !out || fd < 0)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_new_socket: %s",
                         !ctx ? "context is NULL" : !out ? "out is NULL" : "descriptor is negative");
    /* The caller's blocking choice stays the connection's; underneath, the socket becomes
     * non-blocking (and is put back if the connection cannot be made). */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0))
        return tlsb_fail(TLSB_ERR_ARGUMENT, "descriptor %d: %s", fd, strerror(errno));
    int32_t rc = conn_new(ctx, fd, (flags & O_NONBLOCK) != 0, target_name, out);
    if (rc != TLSB_OK)
        fcntl(fd, F_SETFL, flags);
    return rc;
}

int32_t tlsb_conn_adopt(tlsb_context *ctx, int fd, tlsb_conn **out) { return conn_new(ctx, fd, 0, NULL, out); }

TLSB_API int32_t tlsb_conn_new_buffer(tlsb_context *ctx, const char *target_name, tlsb_conn **out)
{
    if (!ctx || !out)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_new_buffer: %s is NULL", ctx ? "out" : "context");
    return conn_new(ctx, -1, 1, target_name, out);
}

TLSB_API int32_t tlsb_dial(tlsb_context *ctx, const char *host, int32_t port, int32_t timeout_ms, tlsb_conn **out)
{
    if (!ctx || !host || !out)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_dial: %s is NULL", !ctx ? "context" : !host ? "host" : "out");
    if (ctx->role != TLSB_ROLE_CLIENT)
        return tlsb_fail(TLSB_ERR_STATE, "tlsb_dial: the context is a server context");
    int32_t fd = tlsb_tcp_dial(ctx->resolver, host, port, timeout_ms);
    if (fd < 0)
        return fd;
    int32_t rc = conn_new(ctx, fd, 0, host, out);
    if (rc != TLSB_OK)
        close(fd);
    return rc;
}

/* ---- errors --------------------------------------------------------------------------- */

enum op { OP_HANDSHAKE, OP_READ, OP_WRITE, OP_SHUTDOWN };
static const char *const op_names[] = {"handshake", "read", "write", "shutdown"};

/* After either side closed the session a write is a usage error, never TLSB_CLOSED: that belongs
 * to read alone, and to a caller adding up write counts it would look like a count. */
static int32_t write_after_close(tlsb_conn *c)
{
    int received = c->ssl ? (SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN) != 0 : atomic_load(&c->peer_closed);
    if (received)
        return tlsb_fail(TLSB_ERR_STATE, "write: the peer closed the session (%s received)",
                         c->ssl ? "close_notify" : "end of stream");
    if (atomic_load(&c->shutdown_sent))
        return tlsb_fail(TLSB_ERR_STATE, "write: this side closed the session (tlsb_conn_shutdown)");
    return TLSB_OK;
}

static int32_t protocol_mismatch(tlsb_conn *c, const char *reason)
{
    tlsb_text t = {0};
    tlsb_versions_text(c->context->options.versions, &t);
    const char *src = c->context->options.version_sources;
    int32_t rc = tlsb_fail(TLSB_ERR_PROTOCOL_VERSION,
                           "no protocol version in common with the peer: this side %s %s (%s) and the peer "
                           "%s none of them (%s)",
                           c->context->role == TLSB_ROLE_CLIENT ? "offers" : "accepts", t.data ? t.data : "",
                           src ? src : "default", c->context->role == TLSB_ROLE_CLIENT ? "accepts" : "offers",
                           reason);
    free(t.data);
    return rc;
}

/* Whether a handshake failed on the peer's very first bytes not being a TLS record (plain text, a
 * web request) rather than on a version both sides could read and disagreed about: OpenSSL says
 * "wrong version number" for both, but only the first comes before anything of the peer's was
 * understood (a server still before the ClientHello, a client still waiting for the ServerHello). */
static int not_tls(tlsb_conn *c, int reason)
{
    if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST)
        return 1;
    OSSL_HANDSHAKE_STATE st = SSL_get_state(c->ssl);
    return reason == SSL_R_WRONG_VERSION_NUMBER && (st == TLS_ST_BEFORE || st == TLS_ST_CW_CLNT_HELLO);
}

/* Turns an SSL_* failure into a status with a message; during the handshake a verification
 * failure recorded by the callback explains it best. */
static int32_t ssl_failure(tlsb_conn *c, int ret, enum op o)
{
    const char *op = op_names[o];
    int err = SSL_get_error(c->ssl, ret);
    int saved_errno = errno;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return err == SSL_ERROR_WANT_READ ? TLSB_WANT_READ : TLSB_WANT_WRITE;
    }
    if (atomic_load(&c->closed))
        return tlsb_fail(TLSB_ERR_HANDLE_CLOSED, "%s: the connection was closed", op);
    if (err == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        if (o == OP_READ || o == OP_SHUTDOWN) /* shutdown: the caller's close meets the peer's */
            return TLSB_CLOSED;
        if (o == OP_WRITE) /* ZERO_RETURN means the peer's close_notify was received: an error, not 0 */
            return write_after_close(c);
        return tlsb_fail(TLSB_ERR_HANDSHAKE,
                         "handshake: the peer closed the session (close_notify) during the handshake");
    }
    if (!handshake_is_done(c)) {
        int32_t v = tlsb_verify_failure(c->verify);
        if (v != TLSB_OK)
            return v;
    }
    unsigned long e = ERR_peek_error();
    int reason = ERR_GET_REASON(e);
    const char *text = e ? ERR_reason_error_string(e) : NULL;
    if (err == SSL_ERROR_SYSCALL || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        if (err == SSL_ERROR_SYSCALL && saved_errno && saved_errno != ECONNRESET && saved_errno != EPIPE)
            return tlsb_fail(TLSB_ERR_IO, "%s: %s", op, strerror(saved_errno));
        return tlsb_fail(TLSB_ERR_PEER_RESET, "%s: the peer closed the connection without close_notify%s", op,
                         handshake_is_done(c) ? "" : " during the handshake");
    }
    if (!handshake_is_done(c) && not_tls(c, reason))
        return tlsb_fail(TLSB_ERR_HANDSHAKE,
                         "%s: the peer did not speak TLS (its first bytes are not a TLS record: %s)", op,
                         text ? text : "not a TLS record");
    switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
        return protocol_mismatch(c, text ? text : "protocol version");
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        return tlsb_fail(TLSB_ERR_PEER_CERT_MISSING,
                         "%s: tls-mutual is set and the client sent no certificate", op);
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return tlsb_fail(TLSB_ERR_HANDSHAKE, "%s: the server requires a client certificate (%s)", op, text);
    default:
        break;
    }
    if (!handshake_is_done(c))
        return tlsb_fail_ssl(TLSB_ERR_HANDSHAKE, "%s: handshake failed", op);
    return tlsb_fail_ssl(TLSB_ERR_TLS, "%s: TLS error", op);
}

/* ---- handshake, read, write ----------------------------------------------------------- */

static void remember(tlsb_conn *c, int key, const char *value)
{
    free(c->info[key]);
    c->info[key] = strdup(value ? value : "");
}

/* The negotiated details are fixed once the handshake is done: compute them once, then publish
 * handshake_done, so that a thread that sees it done (acquire) sees the details too. */
static void record_details(tlsb_conn *c)
{
    if (!c->ssl) {
        remember(c, TLSB_INFO_VERSION, "none");
        remember(c, TLSB_INFO_CIPHER, "none");
        remember(c, TLSB_INFO_CIPHER_IANA, "none");
        remember(c, TLSB_INFO_VERIFY, "none");
        remember(c, TLSB_INFO_SESSION_REUSED, "no");
        atomic_store_explicit(&c->handshake_done, 1, memory_order_release);
        return;
    }
    const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
    remember(c, TLSB_INFO_VERSION, SSL_get_version(c->ssl));
    remember(c, TLSB_INFO_CIPHER, cipher ? SSL_CIPHER_get_name(cipher) : "");
    remember(c, TLSB_INFO_CIPHER_IANA, cipher ? SSL_CIPHER_standard_name(cipher) : "");
    X509 *peer = SSL_get0_peer_certificate(c->ssl);
    char buf[512] = "";
    if (peer)
        tlsb_name_text(X509_get_subject_name(peer), buf, sizeof buf);
    remember(c, TLSB_INFO_PEER_SUBJECT, buf);
    buf[0] = '\0';
    if (peer)
        tlsb_name_text(X509_get_issuer_name(peer), buf, sizeof buf);
    remember(c, TLSB_INFO_PEER_ISSUER, buf);
    remember(c, TLSB_INFO_VERIFY, tlsb_verify_summary(c->verify, c->ssl));
    if (c->context->role == TLSB_ROLE_SERVER)
        remember(c, TLSB_INFO_TARGET_NAME, SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name));
    remember(c, TLSB_INFO_SESSION_REUSED, SSL_session_reused(c->ssl) ? "yes" : "no");
    atomic_store_explicit(&c->handshake_done, 1, memory_order_release);
}

/* Clear mode (tls=0): the same operations as plain I/O. */
static int32_t clear_attempt(tlsb_conn *c, enum op op, uint8_t *buf, int32_t len)
{
    ssize_t n = -1;
    switch (op) {
    case OP_HANDSHAKE:
        record_details(c);
        return TLSB_OK;
    case OP_SHUTDOWN:
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_WR);
        return TLSB_OK;
    case OP_READ:
        if (c->fd < 0) {
            int r = BIO_read(c->in, buf, len);
            if (r > 0)
                return r;
            if (!atomic_load(&c->eof_fed))
                return TLSB_WANT_READ;
            n = 0;
        } else if ((n = recv(c->fd, buf, (size_t)len, 0)) > 0) {
            return (int32_t)n;
        }
        if (n == 0) {
            atomic_store(&c->peer_closed, 1);
            return TLSB_CLOSED;
        }
        break;
    case OP_WRITE:
        if (c->fd < 0)
            return BIO_write(c->out, buf, len) == len ? len : tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        n = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL);
        if (n > 0)
            return (int32_t)n;
        break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return op == OP_READ ? TLSB_WANT_READ : TLSB_WANT_WRITE;
    if (atomic_load(&c->closed))
        return tlsb_fail(TLSB_ERR_HANDLE_CLOSED, "%s: the connection was closed", op_names[op]);
    return tlsb_fail(errno == ECONNRESET || errno == EPIPE ? TLSB_ERR_PEER_RESET : TLSB_ERR_IO, "%s: %s",
                     op_names[op], strerror(errno));
}

/* One attempt, under the lock: bytes, TLSB_OK, TLSB_WANT_*, or an error. */
static int32_t attempt(tlsb_conn *c, enum op op, uint8_t *buf, int32_t len)
{
    if (atomic_load(&c->closed))
        return tlsb_fail(TLSB_ERR_HANDLE_CLOSED, "%s: the connection is closed", op_names[op]);
    if (op == OP_HANDSHAKE && handshake_is_done(c))
        return TLSB_OK;
    int32_t closed = op == OP_WRITE ? write_after_close(c) : TLSB_OK;
    if (closed != TLSB_OK)
        return closed;
    if (!c->ssl)
        return clear_attempt(c, op, buf, len);
    /* SSL_get_error needs an empty error queue; clearing one that is already empty costs ~800
     * instructions in OpenSSL 3.0, a tenth of a small record's SSL_read. */
    if (ERR_peek_error())
        ERR_clear_error();
    errno = 0;
    int r = 0;
    switch (op) {
    case OP_HANDSHAKE:
        if ((r = SSL_do_handshake(c->ssl)) == 1) {
            record_details(c);
            return TLSB_OK;
        }
        break;
    case OP_READ:
        if ((r = SSL_read(c->ssl, buf, len)) > 0)
            return r;
        break;
    case OP_WRITE:
        if ((r = SSL_write(c->ssl, buf, len)) > 0)
            return r;
        break;
    case OP_SHUTDOWN:
        if ((r = SSL_shutdown(c->ssl)) >= 0)
            return TLSB_OK;
        break;
    }
    return ssl_failure(c, r, op);
}

/* Waits for the socket, outside the lock; the limit is read at each wait, as another thread may set it. */
static int32_t wait_socket(tlsb_conn *c, short events, enum op op)
{
    int32_t timeout = atomic_load(&c->timeout_ms);
    if (tlsb_wait_fd(c->fd, events, timeout) == TLSB_ERR_TIMEOUT)
        return tlsb_fail(TLSB_ERR_TIMEOUT, "%s: timed out after %d ms", op_names[op], timeout);
    return TLSB_OK;
}

/* Runs op to completion. OpenSSL forbids concurrent use of one SSL, so every attempt holds the
 * lock; a blocking connection waits for its socket outside the lock, so that a reader waiting
 * for data never stalls a writer. The socket itself is always non-blocking underneath. */
static int32_t run(tlsb_conn *c, enum op op, uint8_t *buf, int32_t len)
{
    int32_t done = 0;
    int wait_first = op == OP_READ && !c->nonblocking && c->fd >= 0;
    for (;;) {
        if (wait_first) {
            /* Poll before reading when nothing is buffered: one read() per record, not EAGAIN + read(). */
            pthread_mutex_lock(&c->lock);
            int pending = c->ssl ? SSL_has_pending(c->ssl) : 0;
            pthread_mutex_unlock(&c->lock);
            if (!pending && wait_socket(c, POLLIN, op) == TLSB_ERR_TIMEOUT)
                return TLSB_ERR_TIMEOUT;
            wait_first = 0;
        }
        pthread_mutex_lock(&c->lock);
        int32_t st = attempt(c, op, buf ? buf + done : NULL, len - done); /* handshake, shutdown: no buffer */
        pthread_mutex_unlock(&c->lock);
        if (op == OP_WRITE && st > 0 && (done += st) < len && !c->nonblocking)
            continue; /* clear-mode partial send */
        if (op == OP_WRITE && done > 0 && st >= 0)
            return done;
        if ((st != TLSB_WANT_READ && st != TLSB_WANT_WRITE) || c->nonblocking || c->fd < 0)
            return op == OP_WRITE && done > 0 ? done : st;
        if (wait_socket(c, st == TLSB_WANT_READ ? POLLIN : POLLOUT, op) == TLSB_ERR_TIMEOUT)
            return TLSB_ERR_TIMEOUT;
        if (atomic_load(&c->closed))
            return tlsb_fail(TLSB_ERR_HANDLE_CLOSED, "%s: the connection was closed", op_names[op]);
    }
}

/* A reader and a writer may both start before the handshake is done. Were both to drive it, the
 * one that lost the race could wait for bytes the other already consumed; so one drives it and
 * the other finds it done. */
static int32_t handshake(tlsb_conn *c)
{
    if (handshake_is_done(c))
        return TLSB_OK;
    pthread_mutex_lock(&c->hs_lock);
    int32_t rc;
    if (c->hs_status) {
        rc = tlsb_fail(c->hs_status, "%s", c->hs_error ? c->hs_error : tlsb_status_name(c->hs_status));
    } else {
        rc = run(c, OP_HANDSHAKE, NULL, 0);
        /* A failed handshake cannot be resumed (OpenSSL would wait for a flight that never comes
         * after a close_notify or an alert): every later call gets the same failure. A timeout
         * or a close of ours is not the handshake's failure. */
        int kind = tlsb_status_kind(rc);
        if ((kind == TLSB_KIND_PROTOCOL || kind == TLSB_KIND_VERIFY || kind == TLSB_KIND_TRANSPORT) &&
            rc != TLSB_ERR_TIMEOUT) {
            c->hs_status = rc;
            c->hs_error = strdup(tlsb_last_error());
        }
    }
    pthread_mutex_unlock(&c->hs_lock);
    return rc;
}

TLSB_API int32_t tlsb_conn_handshake(tlsb_conn *c)
{
    int32_t rc = check(c, "tlsb_conn_handshake");
    return rc ? rc : handshake(c);
}

TLSB_API int32_t tlsb_conn_read(tlsb_conn *c, uint8_t *buf, int32_t len)
{
    int32_t rc = check(c, "tlsb_conn_read");
    if (rc)
        return rc;
    if (!buf || len <= 0)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_read: %s", buf ? "length must be positive" : "buffer is NULL");
    if ((rc = handshake(c)) != TLSB_OK)
        return rc;
    return run(c, OP_READ, buf, len);
}

TLSB_API int32_t tlsb_conn_write(tlsb_conn *c, const uint8_t *buf, int32_t len)
{
    int32_t rc = check(c, "tlsb_conn_write");
    if (rc)
        return rc;
    if (!buf || len < 0)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_write: %s", buf ? "length is negative" : "buffer is NULL");
    if ((rc = handshake(c)) != TLSB_OK)
        return rc;
    /* OpenSSL only reads through the buffer; the cast keeps one run() for both directions. */
    return len ? run(c, OP_WRITE, (uint8_t *)buf, len) : 0;
}

TLSB_API int32_t tlsb_conn_shutdown(tlsb_conn *c)
{
    int32_t rc = check(c, "tlsb_conn_shutdown");
    if (rc || atomic_load(&c->shutdown_sent))
        return rc;
    /* Before a TLS session exists there is nothing to close in order; writes end all the same. */
    if (c->ssl && !handshake_is_done(c)) {
        atomic_store(&c->shutdown_sent, 1);
        return TLSB_OK;
    }
    rc = run(c, OP_SHUTDOWN, NULL, 0);
    /* A peer that already left is not an error for a close. */
    if (rc == TLSB_ERR_PEER_RESET || rc == TLSB_CLOSED)
        rc = TLSB_OK;
    if (rc == TLSB_OK)
        atomic_store(&c->shutdown_sent, 1);
    return rc;
}

TLSB_API int32_t tlsb_conn_close(tlsb_conn *c)
{
    if (!c)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_close: connection is NULL");
    /* shutdown() wakes a thread waiting in poll on this socket; the descriptor itself is closed
     * only by tlsb_conn_free, so that it cannot be reused under that thread. */
    if (!atomic_exchange(&c->closed, 1) && c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
    return TLSB_OK;
}

TLSB_API void tlsb_conn_free(tlsb_conn *c)
{
    if (!c)
        return;
    SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    BIO_free(c->in);
    BIO_free(c->out);
    tlsb_verify_state_free(c->verify);
    for (int i = 0; i < INFO_KEYS; i++)
        free(c->info[i]);
    free(c->target);
    free(c->hs_error);
    tlsb_context_free(c->context);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->hs_lock);
    free(c);
}

TLSB_API int32_t tlsb_conn_set_timeout(tlsb_conn *c, int32_t timeout_ms)
{
    int32_t rc = check(c, "tlsb_conn_set_timeout");
    if (rc)
        return rc;
    if (c->fd < 0)
        return tlsb_fail(TLSB_ERR_STATE, "tlsb_conn_set_timeout: a buffer-mode connection has no socket");
    atomic_store(&c->timeout_ms, timeout_ms > 0 ? timeout_ms : 0);
    return TLSB_OK;
}

TLSB_API int32_t tlsb_conn_set_nonblocking(tlsb_conn *c, int32_t nonblocking)
{
    int32_t rc = check(c, "tlsb_conn_set_nonblocking");
    if (rc)
        return rc;
    if (c->fd < 0)
        return tlsb_fail(TLSB_ERR_STATE, "tlsb_conn_set_nonblocking: a buffer-mode connection never blocks");
    if (nonblocking != 0 && nonblocking != 1)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_set_nonblocking: %d is neither 0 nor 1", nonblocking);
    /* The socket is non-blocking underneath in every case: only the caller's view changes. */
    atomic_store(&c->nonblocking, nonblocking);
    return TLSB_OK;
}

TLSB_API int32_t tlsb_conn_fd(tlsb_conn *c)
{
    int32_t rc = check(c, "tlsb_conn_fd");
    if (rc)
        return rc;
    return c->fd >= 0 ? c->fd : tlsb_fail(TLSB_ERR_STATE, "tlsb_conn_fd: a buffer-mode connection has no socket");
}

/* ---- buffer mode ------------------------------------------------------------------------ */

static int32_t check_buffer(tlsb_conn *c, const char *what)
{
    int32_t rc = check(c, what);
    if (rc == TLSB_OK && c->fd >= 0)
        rc = tlsb_fail(TLSB_ERR_STATE, "%s: the connection is in socket mode", what);
    return rc;
}

TLSB_API int32_t tlsb_conn_feed(tlsb_conn *c, const uint8_t *buf, int32_t len)
{
    int32_t rc = check_buffer(c, "tlsb_conn_feed");
    if (rc)
        return rc;
    if (!buf || len < 0)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_feed: %s", buf ? "length is negative" : "buffer is NULL");
    if (atomic_load(&c->eof_fed))
        return tlsb_fail(TLSB_ERR_STATE, "tlsb_conn_feed: end of stream was already fed");
    pthread_mutex_lock(&c->lock);
    int written = len ? BIO_write(c->in, buf, len) : 0;
    pthread_mutex_unlock(&c->lock);
    return written == len ? len : tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
}

TLSB_API int32_t tlsb_conn_feed_eof(tlsb_conn *c)
{
    int32_t rc = check_buffer(c, "tlsb_conn_feed_eof");
    if (rc)
        return rc;
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->eof_fed, 1);
    BIO_set_mem_eof_return(c->in, 0); /* an empty buffer now reads as end of stream */
    pthread_mutex_unlock(&c->lock);
    return TLSB_OK;
}

TLSB_API int32_t tlsb_conn_drain(tlsb_conn *c, uint8_t *buf, int32_t cap)
{
    int32_t rc = check_buffer(c, "tlsb_conn_drain");
    if (rc)
        return rc;
    if (!buf || cap <= 0)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_drain: %s", buf ? "capacity must be positive" : "buffer is NULL");
    pthread_mutex_lock(&c->lock);
    int n = BIO_read(c->out, buf, cap);
    pthread_mutex_unlock(&c->lock);
    return n > 0 ? n : 0;
}

TLSB_API int32_t tlsb_conn_pending(tlsb_conn *c)
{
    int32_t rc = check_buffer(c, "tlsb_conn_pending");
    if (rc)
        return rc;
    pthread_mutex_lock(&c->lock);
    rc = (int32_t)BIO_ctrl_pending(c->out);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---- details, sessions ------------------------------------------------------------------- */

TLSB_API const char *tlsb_conn_info(tlsb_conn *c, int32_t key)
{
    if (!c) {
        tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_info: connection is NULL");
        return NULL;
    }
    if (key < TLSB_INFO_VERSION || key > TLSB_INFO_SESSION_REUSED) {
        tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_info: unknown key %d", key);
        return NULL;
    }
    if (key == TLSB_INFO_TARGET_NAME && c->context->role == TLSB_ROLE_CLIENT)
        return c->target ? c->target : "";
    if (!handshake_is_done(c)) {
        tlsb_fail(TLSB_ERR_STATE, "tlsb_conn_info: the handshake is not done");
        return NULL;
    }
    return c->info[key] ? c->info[key] : "";
}

/* An exported session is bound to the policy that verified its peer: "TLSB", the SHA-256 of
 * the exporting context's effective settings, then the DER session. A session only resumes
 * under the same settings, so resumption never skips a check the importer would make. */
#define SESSION_MAGIC "TLSB"
#define SESSION_HEADER (4 + SHA256_DIGEST_LENGTH)

TLSB_API int32_t tlsb_conn_session_export(tlsb_conn *c, uint8_t *buf, int32_t cap)
{
    int32_t rc = check(c, "tlsb_conn_session_export");
    if (rc)
        return rc;
    pthread_mutex_lock(&c->lock);
    SSL_SESSION *s = c->ssl && handshake_is_done(c) ? SSL_get1_session(c->ssl) : NULL;
    pthread_mutex_unlock(&c->lock);
    int len = s && SSL_SESSION_is_resumable(s) ? i2d_SSL_SESSION(s, NULL) : 0;
    if (len <= 0)
        rc = tlsb_fail(TLSB_ERR_STATE, "tlsb_conn_session_export: no resumable session (yet)");
    else if (!buf || cap < SESSION_HEADER + len)
        rc = tlsb_fail(TLSB_ERR_BUFFER_TOO_SMALL, "tlsb_conn_session_export: needs %d bytes, got %d",
                       SESSION_HEADER + len, cap);
    else {
        memcpy(buf, SESSION_MAGIC, 4);
        memcpy(buf + 4, c->context->settings_digest, SHA256_DIGEST_LENGTH);
        unsigned char *p = buf + SESSION_HEADER;
        rc = SESSION_HEADER + i2d_SSL_SESSION(s, &p);
    }
    SSL_SESSION_free(s);
    return rc;
}

/* The session's server certificate must pass this connection's name check, as a full
 * handshake's would. */
static int session_name_ok(const tlsb_conn *c, SSL_SESSION *s)
{
    X509 *peer = SSL_SESSION_get0_peer(s);
    if (!c->context->options.name_check || !c->target)
        return 1;
    if (!peer)
        return 0;
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(c->target);
    int ok = ip ? X509_check_ip_asc(peer, c->target, 0) == 1
                : tlsb_name_match(peer, c->target, c->context->options.wildcards);
    ASN1_OCTET_STRING_free(ip);
    return ok;
}

/* Decoding a session parses its certificates, which in OpenSSL 3 costs about as much as the
 * resumed handshake itself. Clients offer one exported session on many connections, so the
 * context keeps the session it decoded last and hands out references to it while the same bytes
 * come in and it is still resumable (a connection freed without close_notify marks it not). */
static SSL_SESSION *decode_session(struct tlsb_context *ctx, const unsigned char *der, long len)
{
    SSL_SESSION *s = NULL;
    pthread_mutex_lock(&ctx->session_lock);
    if (ctx->session && ctx->session_len == len && memcmp(ctx->session_der, der, (size_t)len) == 0 &&
        SSL_SESSION_is_resumable(ctx->session) && SSL_SESSION_up_ref(ctx->session))
        s = ctx->session;
    pthread_mutex_unlock(&ctx->session_lock);
    if (s)
        return s;
    const unsigned char *p = der;
    if (!(s = d2i_SSL_SESSION(NULL, &p, len)))
        return NULL;
    unsigned char *copy = malloc((size_t)len);
    if (copy && SSL_SESSION_up_ref(s)) {
        memcpy(copy, der, (size_t)len);
        pthread_mutex_lock(&ctx->session_lock);
        SSL_SESSION *old = ctx->session;
        free(ctx->session_der);
        ctx->session = s;
        ctx->session_der = copy;
        ctx->session_len = len;
        pthread_mutex_unlock(&ctx->session_lock);
        SSL_SESSION_free(old);
    } else {
        free(copy);
    }
    return s;
}

TLSB_API int32_t tlsb_conn_session_import(tlsb_conn *c, const uint8_t *buf, int32_t len)
{
    int32_t rc = check(c, "tlsb_conn_session_import");
    if (rc)
        return rc;
    if (!buf || len <= SESSION_HEADER || memcmp(buf, SESSION_MAGIC, 4) != 0)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_session_import: not a session exported by tlsbridge");
    if (!c->ssl || c->context->role != TLSB_ROLE_CLIENT || handshake_is_done(c))
        return tlsb_fail(TLSB_ERR_STATE, "tlsb_conn_session_import: only a TLS client before its handshake");
    if (memcmp(buf + 4, c->context->settings_digest, SHA256_DIGEST_LENGTH) != 0)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_conn_session_import: the session comes from a context with other "
                                            "settings (trust, names, versions); it would skip their checks");
    SSL_SESSION *s = decode_session(c->context, buf + SESSION_HEADER, len - SESSION_HEADER);
    if (!s)
        return tlsb_fail_ssl(TLSB_ERR_ARGUMENT, "tlsb_conn_session_import: not a session");
    if (!session_name_ok(c, s)) {
        SSL_SESSION_free(s);
        return tlsb_fail(TLSB_ERR_VERIFY_NAME,
                         "tlsb_conn_session_import: the session's server certificate does not match target name "
                         "'%s'",
                         c->target);
    }
    pthread_mutex_lock(&c->lock);
    int ok = SSL_set_session(c->ssl, s);
    pthread_mutex_unlock(&c->lock);
    SSL_SESSION_free(s);
    return ok ? TLSB_OK : tlsb_fail_ssl(TLSB_ERR_INTERNAL, "tlsb_conn_session_import: cannot use the session");
}
