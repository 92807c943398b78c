/*
 * tlsbridge — one TLS stack for C, Java and .NET, over OpenSSL 3.
 *
 * This header is the stable ABI. Only opaque pointers, fixed-width integers, UTF-8
 * `const char *` strings and (uint8_t *, int32_t) buffers cross it, so that every
 * function is blittable for P/Invoke and trivially wrapped by JNI. A released signature
 * never changes; status codes are append-only with explicit values. See docs/abi.md.
 *
 * Conventions:
 *  - every fallible call returns int32_t: 0 = success, a negative TLSB_ERR_* / TLSB_WANT_*
 *    / TLSB_CLOSED code, or for I/O a byte count;
 *  - on failure tlsb_last_error() (thread-local) says what was wrong;
 *  - out-parameters are written only on success;
 *  - NULL or closed handles give an error, never a crash;
 *  - strings returned as `const char *` are owned by the library and stay valid as
 *    documented per call (until the owning handle is freed, or until the next call on the
 *    same thread for tlsb_last_error());
 *  - each function's comment ends with every status it can return ("Statuses:"). Two groups
 *    recur: HANDSHAKE_ERRORS = TLSB_ERR_PROTOCOL_VERSION, TLSB_ERR_HANDSHAKE, TLSB_ERR_VERIFY,
 *    TLSB_ERR_VERIFY_NAME, TLSB_ERR_PEER_CERT_MISSING; TRANSPORT_ERRORS = TLSB_ERR_IO,
 *    TLSB_ERR_TIMEOUT, TLSB_ERR_PEER_RESET. Unless its comment says otherwise, a call on a
 *    connection also returns TLSB_ERR_ARGUMENT for a NULL connection and TLSB_ERR_HANDLE_CLOSED
 *    after tlsb_conn_close.
 */
#ifndef TLSBRIDGE_H
#define TLSBRIDGE_H

#include <stdint.h>

#if defined(_WIN32)
#define TLSB_API __declspec(dllexport)
#elif defined(__GNUC__)
#define TLSB_API __attribute__((visibility("default")))
#else
#define TLSB_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes (append-only, never renumbered) -------------------------------- */
enum {
    TLSB_OK = 0,
    TLSB_WANT_READ = -1,             /* non-blocking: call again when readable / after feed */
    TLSB_WANT_WRITE = -2,            /* non-blocking: call again when writable / after drain */
    TLSB_CLOSED = -3,                /* peer closed the TLS session in order (close_notify) */

    TLSB_ERR_ARGUMENT = -10,         /* NULL handle, negative length, bad enum value */
    TLSB_ERR_HANDLE_CLOSED = -11,    /* the connection or listener was closed */
    TLSB_ERR_NO_MEMORY = -12,
    TLSB_ERR_STATE = -13,            /* call not valid now (e.g. feed on a socket connection) */

    TLSB_ERR_OPTION_UNKNOWN = -20,   /* unknown option name */
    TLSB_ERR_OPTION_VALUE = -21,     /* bad value for a known option */
    TLSB_ERR_OPTION_CONFLICT = -22,  /* options contradict each other */
    TLSB_ERR_FILE = -23,             /* a file named by an option is missing or unreadable */
    TLSB_ERR_KEY_MISMATCH = -24,     /* certificate-key does not match certificate */
    TLSB_ERR_CIPHER_NONE = -25,      /* cipher-list leaves no usable cipher suite */
    TLSB_ERR_CERT_REQUIRED = -26,    /* a server context needs certificate + certificate-key */
    TLSB_ERR_PROTOCOL_NONE = -27,    /* the version options leave no protocol version */

    TLSB_ERR_PROTOCOL_VERSION = -30, /* no protocol version in common with the peer */
    TLSB_ERR_HANDSHAKE = -31,        /* any other handshake failure (alert, bad message, a peer not speaking TLS) */
    TLSB_ERR_VERIFY = -32,           /* the peer certificate chain failed verification */
    TLSB_ERR_VERIFY_NAME = -33,      /* the peer certificate does not match the target name */
    TLSB_ERR_PEER_CERT_MISSING = -34,/* tls-mutual server: the client sent no certificate */
    TLSB_ERR_TLS = -35,              /* TLS protocol error after the handshake */

    TLSB_ERR_IO = -40,               /* system I/O error on the transport */
    TLSB_ERR_TIMEOUT = -41,          /* dial / accept timeout, or a connection's wait (tlsb_conn_set_timeout) */
    TLSB_ERR_CONNECT = -42,          /* TCP connect refused or unreachable */
    TLSB_ERR_RESOLVE = -43,          /* host name did not resolve */
    TLSB_ERR_PEER_RESET = -44,       /* transport ended without close_notify (peer vanished) */

    TLSB_ERR_BUFFER_TOO_SMALL = -50, /* output buffer too small; nothing was written */
    TLSB_ERR_INTERNAL = -99
};

/* ---- roles, info keys ------------------------------------------------------------ */
enum { TLSB_ROLE_CLIENT = 0, TLSB_ROLE_SERVER = 1 };

/* Keys for tlsb_conn_info(); append-only. */
enum {
    TLSB_INFO_VERSION = 1,        /* "TLSv1.3", "TLSv1.2", ...; "none" in clear mode (tls=0) */
    TLSB_INFO_CIPHER = 2,         /* OpenSSL name, e.g. "TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256" */
    TLSB_INFO_CIPHER_IANA = 3,    /* IANA name, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" */
    TLSB_INFO_PEER_SUBJECT = 4,   /* RFC 2253 subject of the peer certificate, "" if none */
    TLSB_INFO_PEER_ISSUER = 5,    /* RFC 2253 issuer of the peer certificate, "" if none */
    TLSB_INFO_VERIFY = 6,         /* "ok", "none" (not verified/no certificate), or the reason it failed */
    TLSB_INFO_TARGET_NAME = 7,    /* client: the name checked/sent as SNI; server: SNI received */
    TLSB_INFO_SESSION_REUSED = 8  /* "yes" / "no" */
};

/* What a status is about (tlsb_status_kind); append-only. Every face maps statuses to its
 * exception types through this one table. */
enum {
    TLSB_KIND_NONE = 0,      /* TLSB_OK or a byte count: not a failure */
    TLSB_KIND_PROGRESS = 1,  /* TLSB_WANT_READ / TLSB_WANT_WRITE: call again later */
    TLSB_KIND_CLOSED = 2,    /* TLSB_CLOSED: the peer ended the session in order */
    TLSB_KIND_USAGE = 3,     /* bad arguments, closed handles, calls out of order, buffer too small */
    TLSB_KIND_CONFIG = 4,    /* the options: names, values, conflicts, files, keys */
    TLSB_KIND_PROTOCOL = 5,  /* the handshake or TLS itself: versions, alerts, bad messages */
    TLSB_KIND_VERIFY = 6,    /* the peer's certificate: chain, name, or none sent where required */
    TLSB_KIND_TRANSPORT = 7, /* the network: I/O, timeouts, connect, resolve, peer vanished */
    TLSB_KIND_INTERNAL = 8   /* out of memory, OpenSSL failures that are not the peer's doing */
};

/* Log levels for the log callback. */
enum { TLSB_LOG_ERROR = 0, TLSB_LOG_WARNING = 1, TLSB_LOG_INFO = 2, TLSB_LOG_DEBUG = 3 };

typedef struct tlsb_config tlsb_config;
typedef struct tlsb_context tlsb_context;
typedef struct tlsb_conn tlsb_conn;
typedef struct tlsb_listener tlsb_listener;

/* Called on the thread that caused the message; `message` is valid for the call only. */
typedef void (*tlsb_log_fn)(void *user, int32_t level, const char *message);

/* ---- library --------------------------------------------------------------------- */
/* The functions of this section never fail. */
TLSB_API const char *tlsb_version(void);          /* "1.0.0" */
TLSB_API const char *tlsb_openssl_version(void);  /* the linked OpenSSL, e.g. "OpenSSL 3.0.19 27 Jan 2026" */
/* Thread-local message of the last failed call on this thread ("" if none). Always valid UTF-8:
 * quoted bytes that are not (an option value, a path) appear as \xNN; at most 1535 bytes, a
 * longer message is cut between characters and ends with "...". */
TLSB_API const char *tlsb_last_error(void);
/* Status code of the last failed call on this thread (0 if none). */
TLSB_API int32_t tlsb_last_status(void);
/* The symbolic name of a status code, e.g. "TLSB_ERR_OPTION_VALUE"; "TLSB_BYTES" for a count,
 * "TLSB_UNKNOWN_STATUS" for a code this version does not know. */
TLSB_API const char *tlsb_status_name(int32_t status);
/* 1 if compatibility mode (TLSBRIDGE_COMPAT_MODE / GCTI_SECPACK_COMPAT_MODE) is on. */
TLSB_API int32_t tlsb_compat_mode(void);

/* ---- config: a mutable bag of name=value options, checked when a context is built --- */
/* Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (out NULL), TLSB_ERR_NO_MEMORY. */
TLSB_API int32_t tlsb_config_new(tlsb_config **out);
/* Sets (or replaces, in place) one option; value NULL removes it, keeping the others in the order
 * of first setting, the order tlsb_context_new checks them in. Names and values are not checked
 * here. Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (config or name NULL), TLSB_ERR_NO_MEMORY. */
TLSB_API int32_t tlsb_config_set(tlsb_config *config, const char *name, const char *value);
/* Routes the library's messages for contexts built from this config. fn NULL removes it.
 * Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (config NULL). */
TLSB_API int32_t tlsb_config_set_log(tlsb_config *config, tlsb_log_fn fn, void *user);
TLSB_API void tlsb_config_free(tlsb_config *config);

/* ---- context: validated, immutable, reference-counted, thread-safe ------------------ */
/* Parses and checks every option (in the order of first setting; the first bad one is reported)
 * and builds the context. Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (NULL, unknown role),
 * TLSB_ERR_NO_MEMORY, TLSB_ERR_INTERNAL (OpenSSL), and the configuration errors (docs/options.md):
 * TLSB_ERR_OPTION_UNKNOWN, _OPTION_VALUE, _OPTION_CONFLICT, _FILE, _KEY_MISMATCH, _CIPHER_NONE,
 * _CERT_REQUIRED, _PROTOCOL_NONE. */
TLSB_API int32_t tlsb_context_new(const tlsb_config *config, int32_t role, tlsb_context **out);
/* The effective settings as "key: value" lines; valid until the context is freed. NULL (with
 * TLSB_ERR_ARGUMENT as the last error) for a NULL context. */
TLSB_API const char *tlsb_context_settings(const tlsb_context *context);
/* Drops the caller's reference; connections keep their own. */
TLSB_API void tlsb_context_free(tlsb_context *context);

/* Verifies a PEM chain (leaf first, then intermediates) offline with the policy a handshake
 * with this context applies to its peer. peer_name NULL: the context's tls-target-name (if
 * any); "" skips the name check. at_time: seconds since the epoch, 0 = now. Returns 0 when
 * trusted, or TLSB_ERR_VERIFY / TLSB_ERR_VERIFY_NAME with the reason in tlsb_last_error().
 * Statuses: TLSB_OK, TLSB_ERR_VERIFY, TLSB_ERR_VERIFY_NAME, TLSB_ERR_ARGUMENT (NULL, no PEM
 * certificate), TLSB_ERR_STATE (a tls=0 context), TLSB_ERR_NO_MEMORY, TLSB_ERR_INTERNAL. */
TLSB_API int32_t tlsb_verify(const tlsb_context *context, const uint8_t *chain_pem, int32_t length,
                             const char *peer_name, int64_t at_time);

/* ---- connections ------------------------------------------------------------------- */
/* Socket mode: the connection takes ownership of a connected descriptor (blocking or not);
 * on failure the caller still owns it. target_name (client): the SNI and the name to verify;
 * the option tls-target-name, when set, takes precedence. A client that checks names
 * (tls-target-name-check=host, the default) needs one or the other.
 * Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (NULL, bad descriptor, no target name, a name that cannot
 * be sent as SNI), TLSB_ERR_NO_MEMORY. */
TLSB_API int32_t tlsb_conn_new_socket(tlsb_context *context, int32_t fd, const char *target_name,
                                      tlsb_conn **out);
/* Buffer mode: no socket; ciphertext moves with tlsb_conn_feed / tlsb_conn_drain.
 * Statuses: as tlsb_conn_new_socket. */
TLSB_API int32_t tlsb_conn_new_buffer(tlsb_context *context, const char *target_name, tlsb_conn **out);
/* Dials host:port (timeout_ms <= 0: no limit) and makes a socket-mode client connection;
 * the target name is tls-target-name or else host. The handshake is not done yet.
 * Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (NULL, port out of range), TLSB_ERR_STATE (a server
 * context), TLSB_ERR_RESOLVE, TLSB_ERR_CONNECT, TLSB_ERR_TIMEOUT, TLSB_ERR_NO_MEMORY. */
TLSB_API int32_t tlsb_dial(tlsb_context *context, const char *host, int32_t port, int32_t timeout_ms,
                           tlsb_conn **out);

/* Runs the handshake: 0 when done, TLSB_WANT_* when it would block, or an error.
 * Statuses: TLSB_OK, TLSB_WANT_READ, TLSB_WANT_WRITE (non-blocking and buffer mode),
 * HANDSHAKE_ERRORS, TRANSPORT_ERRORS. */
TLSB_API int32_t tlsb_conn_handshake(tlsb_conn *conn);
/* Reads plaintext: bytes > 0, TLSB_CLOSED at an orderly close, TLSB_WANT_*, or an error.
 * Does the handshake first if it is not done. TLSB_CLOSED is read's alone, and stays: every
 * later read returns it again. Statuses: bytes > 0, TLSB_CLOSED, TLSB_WANT_READ, TLSB_WANT_WRITE,
 * TLSB_ERR_ARGUMENT (NULL buffer, length <= 0), HANDSHAKE_ERRORS (TLS 1.3: a server's refusal of
 * the client certificate arrives with the first read), TLSB_ERR_TLS, TRANSPORT_ERRORS. */
TLSB_API int32_t tlsb_conn_read(tlsb_conn *conn, uint8_t *buffer, int32_t length);
/* Writes plaintext: blocking sockets write everything; otherwise bytes written or TLSB_WANT_*.
 * Never TLSB_CLOSED, never 0 for length > 0: after the peer's close_notify (clear mode: its end of
 * stream) or after tlsb_conn_shutdown a write is TLSB_ERR_STATE, saying which side closed.
 * Length 0 returns 0. Statuses: bytes > 0, 0 (length 0 only), TLSB_WANT_READ, TLSB_WANT_WRITE,
 * TLSB_ERR_ARGUMENT (NULL buffer, negative length), TLSB_ERR_STATE, HANDSHAKE_ERRORS,
 * TLSB_ERR_TLS, TRANSPORT_ERRORS, TLSB_ERR_NO_MEMORY. */
TLSB_API int32_t tlsb_conn_write(tlsb_conn *conn, const uint8_t *buffer, int32_t length);
/* Sends close_notify (clear mode: ends our direction of the stream) and ends writing. Does not
 * wait for the peer's; the transport stays open and reads go on until the peer's close. After
 * the peer's close_notify it sends the answer. Idempotent: again, or before the handshake (no
 * session to close), it only ends writing. A peer that already left is not an error.
 * Statuses: TLSB_OK, TLSB_WANT_WRITE (non-blocking), TLSB_ERR_TLS, TLSB_ERR_IO, TLSB_ERR_TIMEOUT. */
TLSB_API int32_t tlsb_conn_shutdown(tlsb_conn *conn);
/* Closes the transport; safe from any thread while another is blocked in a read or write,
 * which then returns TLSB_ERR_HANDLE_CLOSED. Idempotent. Memory stays until tlsb_conn_free.
 * Statuses: TLSB_OK (also when already closed), TLSB_ERR_ARGUMENT (NULL). */
TLSB_API int32_t tlsb_conn_close(tlsb_conn *conn);
TLSB_API void tlsb_conn_free(tlsb_conn *conn);

/* Socket mode, blocking: the limit (ms, <= 0: none) of every wait for the socket, in the
 * handshake, read, write and shutdown alike; a call whose wait runs out returns
 * TLSB_ERR_TIMEOUT (a read can be retried). Takes effect at the next wait, from any thread.
 * Statuses: TLSB_OK, TLSB_ERR_STATE (buffer mode). */
TLSB_API int32_t tlsb_conn_set_timeout(tlsb_conn *conn, int32_t timeout_ms);
/* The socket descriptor (for poll). Statuses: the descriptor (>= 0), TLSB_ERR_STATE (buffer mode). */
TLSB_API int32_t tlsb_conn_fd(tlsb_conn *conn);

/* Buffer mode: hands received ciphertext in; returns bytes taken (all of them). Statuses: length,
 * TLSB_ERR_ARGUMENT (NULL buffer, negative length), TLSB_ERR_STATE (socket mode, after
 * tlsb_conn_feed_eof), TLSB_ERR_NO_MEMORY. */
TLSB_API int32_t tlsb_conn_feed(tlsb_conn *conn, const uint8_t *buffer, int32_t length);
/* Buffer mode: the inner transport reached end of stream.
 * Statuses: TLSB_OK, TLSB_ERR_STATE (socket mode). */
TLSB_API int32_t tlsb_conn_feed_eof(tlsb_conn *conn);
/* Buffer mode: takes ciphertext to send; returns bytes copied (0 = nothing pending).
 * Statuses: bytes >= 0, TLSB_ERR_ARGUMENT (NULL buffer, capacity <= 0), TLSB_ERR_STATE (socket mode). */
TLSB_API int32_t tlsb_conn_drain(tlsb_conn *conn, uint8_t *buffer, int32_t capacity);
/* Buffer mode: ciphertext bytes waiting to be drained.
 * Statuses: bytes >= 0, TLSB_ERR_STATE (socket mode). */
TLSB_API int32_t tlsb_conn_pending(tlsb_conn *conn);

/* Negotiated details (TLSB_INFO_*); valid until the connection is freed. NULL on error, with the
 * last error TLSB_ERR_ARGUMENT (NULL, unknown key) or TLSB_ERR_STATE (handshake not done; a
 * client's TLSB_INFO_TARGET_NAME is known before). Still answers after tlsb_conn_close. */
TLSB_API const char *tlsb_conn_info(tlsb_conn *conn, int32_t key);

/* Resumption: serialises the session (after the handshake) into buffer. Returns its length,
 * or TLSB_ERR_BUFFER_TOO_SMALL (nothing written), or TLSB_ERR_STATE if no session.
 * Statuses: length > 0, TLSB_ERR_BUFFER_TOO_SMALL, TLSB_ERR_STATE. */
TLSB_API int32_t tlsb_conn_session_export(tlsb_conn *conn, uint8_t *buffer, int32_t capacity);
/* Client, before the handshake: offers a session exported earlier, if it comes from a context
 * with the same settings. Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (not a tlsbridge session, other
 * settings), TLSB_ERR_STATE (not a TLS client before its handshake), TLSB_ERR_VERIFY_NAME (the
 * session's server certificate does not match the target name), TLSB_ERR_INTERNAL. */
TLSB_API int32_t tlsb_conn_session_import(tlsb_conn *conn, const uint8_t *session, int32_t length);

/* ---- listeners (socket mode servers; Java cannot hand a descriptor across) ------------ */
/* Listens on host (NULL or "" = all interfaces) and port (0 = any free port).
 * Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (out NULL, port out of range), TLSB_ERR_RESOLVE,
 * TLSB_ERR_IO (cannot bind or listen), TLSB_ERR_NO_MEMORY. */
TLSB_API int32_t tlsb_listen(const char *host, int32_t port, int32_t backlog, tlsb_listener **out);
/* The bound port. Statuses: the port (> 0), TLSB_ERR_ARGUMENT (NULL). */
TLSB_API int32_t tlsb_listener_port(tlsb_listener *listener);
/* Accepts one TCP connection (timeout_ms <= 0: wait) as a server connection of context;
 * the handshake is not done yet. Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (NULL), TLSB_ERR_STATE (a
 * client context), TLSB_ERR_HANDLE_CLOSED (the listener was closed), TLSB_ERR_TIMEOUT,
 * TLSB_ERR_IO, TLSB_ERR_NO_MEMORY. */
TLSB_API int32_t tlsb_accept(tlsb_listener *listener, tlsb_context *context, int32_t timeout_ms,
                             tlsb_conn **out);
/* Stops listening; a blocked tlsb_accept returns TLSB_ERR_HANDLE_CLOSED. Idempotent.
 * Statuses: TLSB_OK, TLSB_ERR_ARGUMENT (NULL). */
TLSB_API int32_t tlsb_listener_close(tlsb_listener *listener);
TLSB_API void tlsb_listener_free(tlsb_listener *listener);

/* ---- 1.1 (version node TLSBRIDGE_1.1) ------------------------------------------------ */
/* The TLSB_KIND_* of a status; unknown negative codes are TLSB_KIND_INTERNAL. Never fails. */
TLSB_API int32_t tlsb_status_kind(int32_t status);
/* Socket mode: nonblocking 1 makes every call on the connection return TLSB_WANT_* instead of
 * waiting (poll tlsb_conn_fd, then call again); 0 makes them wait. Works on connections from
 * tlsb_dial and tlsb_accept too, whose socket the core made. Statuses: TLSB_OK,
 * TLSB_ERR_ARGUMENT (neither 0 nor 1), TLSB_ERR_STATE (buffer mode). */
TLSB_API int32_t tlsb_conn_set_nonblocking(tlsb_conn *conn, int32_t nonblocking);

#ifdef __cplusplus
}
#endif
#endif /* TLSBRIDGE_H */
