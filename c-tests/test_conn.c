/* Our client against our server: both transports, clear mode, verification failures,
 * resumption, timeouts, closing from another thread, peers that vanish. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"


/* Dials the server, handshakes, echoes one message; returns the client's handshake status. */
static int32_t round_trip(tlsb_context *client, int port, const char *host, tlsb_conn **keep)
{
    tlsb_conn *conn;
    int32_t rc = tlsb_dial(client, host, port, 5000, &conn);
    if (rc != TLSB_OK)
        return rc;
    tlsb_conn_set_timeout(conn, 10000);
    rc = tlsb_conn_handshake(conn);
    if (rc == TLSB_OK) {
        static const uint8_t msg[] = "ping over tlsbridge";
        uint8_t back[sizeof msg];
        CHECK_STATUS(tlsb_conn_write(conn, msg, sizeof msg), (int32_t)sizeof msg);
        int got = 0;
        while (got < (int)sizeof msg) {
            int32_t n = tlsb_conn_read(conn, back + got, (int32_t)sizeof msg - got);
            if (n <= 0) {
                CHECK_STATUS(n, 1);
                break;
            }
            got += n;
        }
        CHECK(got == (int)sizeof msg && memcmp(back, msg, sizeof msg) == 0);
        tlsb_conn_shutdown(conn);
    }
    if (keep && rc == TLSB_OK)
        *keep = conn;
    else
        tlsb_conn_free(conn);
    return rc;
}

static void tls13_socket_mode(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key")));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_conn *conn = NULL;
    CHECK_STATUS(round_trip(client, port, "localhost", &conn), TLSB_OK);
    if (conn) {
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_VERSION), "TLSv1.3");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_CIPHER), "TLS_AES_256_GCM_SHA384");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_CIPHER_IANA), "TLS_AES_256_GCM_SHA384");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_PEER_SUBJECT), "CN=localhost,O=tlsbridge tests");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_PEER_ISSUER), "CN=tlsbridge Test CA,O=tlsbridge tests");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_VERIFY), "ok");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_TARGET_NAME), "localhost");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_SESSION_REUSED), "no");
        tlsb_conn_free(conn);
    }
    echo_stop(&s);
    CHECK_STATUS(s.handshake, TLSB_OK);
    CHECK_STR(s.verify, "none");
    CHECK_STATUS(s.end, TLSB_CLOSED); /* our close_notify reached the server */
    tlsb_context_free(client);
}

static void tls12_ip_target(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "server-ec.pem"), opt("certificate-key", "server-ec.key"),
                                       "sec-protocol=TLSv12"));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"),
                                  "cipher-list=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    tlsb_conn *conn = NULL;
    CHECK_STATUS(round_trip(client, port, "127.0.0.1", &conn), TLSB_OK);
    if (conn) {
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_VERSION), "TLSv1.2");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_CIPHER), "ECDHE-ECDSA-AES128-GCM-SHA256");
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_CIPHER_IANA), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        tlsb_conn_free(conn);
    }
    echo_stop(&s);
    tlsb_context_free(client);
}

static void mutual_tls(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                                       opt("trusted-ca", "ca.pem"), "tls-mutual=1"));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), opt("certificate", "client.pem"),
                                  opt("certificate-key", "client.key"));
    CHECK_STATUS(round_trip(client, port, "localhost", NULL), TLSB_OK);
    echo_stop(&s);
    CHECK_STATUS(s.handshake, TLSB_OK);
    CHECK_STR(s.peer, "CN=tlsbridge client,O=tlsbridge tests");
    CHECK_STR(s.verify, "ok");
    tlsb_context_free(client);
}

static void mutual_tls_without_client_certificate(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                                       opt("trusted-ca", "ca.pem"), "tls-mutual=1"));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_conn *conn;
    REQUIRE_STATUS(tlsb_dial(client, "localhost", port, 5000, &conn), TLSB_OK);
    /* TLS 1.3: the client's handshake ends before the server has looked at its (absent)
     * certificate, so the refusal arrives with the first read. */
    CHECK_STATUS(tlsb_conn_handshake(conn), TLSB_OK);
    uint8_t buf[16];
    CHECK_STATUS(tlsb_conn_read(conn, buf, sizeof buf), TLSB_ERR_HANDSHAKE);
    CHECK_CONTAINS(tlsb_last_error(), "the server requires a client certificate");
    tlsb_conn_free(conn);
    echo_stop(&s);
    CHECK_STATUS(s.handshake, TLSB_ERR_PEER_CERT_MISSING);
    CHECK_CONTAINS(s.error, "tls-mutual is set and the client sent no certificate");
    tlsb_context_free(client);
}

static void mutual_tls_untrusted_client(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                                       opt("trusted-ca", "ca.pem"), "tls-mutual=1", "sec-protocol=TLSv12"));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), opt("certificate", "other-client.pem"),
                                  opt("certificate-key", "other-client.key"));
    CHECK_STATUS(round_trip(client, port, "localhost", NULL), TLSB_ERR_HANDSHAKE);
    CHECK_CONTAINS(tlsb_last_error(), "unknown ca");
    echo_stop(&s);
    CHECK_STATUS(s.handshake, TLSB_ERR_VERIFY);
    CHECK_CONTAINS(s.error, "unable to get local issuer certificate");
    CHECK_CONTAINS(s.error, "CN=tlsbridge other client");
    tlsb_context_free(client);
}

/* Client-side verification failures: the status, and a message naming the check. */
static void verify_failure(const char *server_cert, const char *server_key, const char *client_option,
                           int32_t status, const char *message)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", server_cert), opt("certificate-key", server_key)));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), client_option);
    CHECK_STATUS(round_trip(client, port, "localhost", NULL), status);
    CHECK_CONTAINS(tlsb_last_error(), message);
    echo_stop(&s);
    CHECK(s.handshake < 0); /* the server sees the client's alert */
    tlsb_context_free(client);
}

static void wrong_host(void)
{
    verify_failure("server.pem", "server.key", "tls-target-name=127.0.0.2", TLSB_ERR_VERIFY_NAME,
                   "target name '127.0.0.2' does not match the certificate 'CN=localhost,O=tlsbridge tests', whose "
                   "names are DNS:localhost, IP:127.0.0.1");
    verify_failure("wrongname.pem", "wrongname.key", NULL, TLSB_ERR_VERIFY_NAME,
                   "target name 'localhost' does not match the certificate 'CN=wrong.example,O=tlsbridge tests', "
                   "whose names are DNS:wrong.example");
}

static void untrusted_ca(void)
{
    verify_failure("untrusted.pem", "untrusted.key", NULL, TLSB_ERR_VERIFY,
                   "certificate verification failed: unable to get local issuer certificate (certificate "
                   "'CN=localhost,O=tlsbridge tests' at depth 0)");
}

static void expired_certificate(void)
{
    verify_failure("expired.pem", "expired.key", NULL, TLSB_ERR_VERIFY,
                   "certificate verification failed: certificate has expired");
}

static void target_name_option_wins(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "wrongname.pem"), opt("certificate-key", "wrongname.key")));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), "tls-target-name=wrong.example");
    CHECK_STATUS(round_trip(client, port, "localhost", NULL), TLSB_OK);
    echo_stop(&s);
    tlsb_context_free(client);
}

static void name_check_off(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "wrongname.pem"), opt("certificate-key", "wrongname.key")));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), "tls-target-name-check=no");
    CHECK_STATUS(round_trip(client, port, "localhost", NULL), TLSB_OK);
    echo_stop(&s);
    tlsb_context_free(client);
}

static void protocol_mismatch(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                                       "sec-protocol=TLSv12"));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), "sec-protocol=TLSv13");
    CHECK_STATUS(round_trip(client, port, "localhost", NULL), TLSB_ERR_PROTOCOL_VERSION);
    CHECK_CONTAINS(tlsb_last_error(), "this side offers TLSv1.3 (sec-protocol=TLSv13)");
    echo_stop(&s);
    CHECK_STATUS(s.handshake, TLSB_ERR_PROTOCOL_VERSION);
    CHECK_CONTAINS(s.error, "this side accepts TLSv1.2 (sec-protocol=TLSv12)");
    tlsb_context_free(client);
}

static void legacy_tls10_when_asked(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                                       "protocol-list=TLSv1"));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), "tls-version=TLSv1");
    tlsb_conn *conn = NULL;
    CHECK_STATUS(round_trip(client, port, "localhost", &conn), TLSB_OK);
    if (conn) {
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_VERSION), "TLSv1");
        tlsb_conn_free(conn);
    }
    echo_stop(&s);
    tlsb_context_free(client);
}

static void resumption(void)
{
    struct echo_server s;
    tlsb_context *server = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    int port = echo_start(&s, server);
    tlsb_conn *first = NULL;
    CHECK_STATUS(round_trip(client, port, "localhost", &first), TLSB_OK);
    uint8_t session[8192];
    int32_t len = first ? tlsb_conn_session_export(first, session, sizeof session) : -1;
    CHECK(len > 0);
    CHECK_STATUS(tlsb_conn_session_export(first, session, 10), TLSB_ERR_BUFFER_TOO_SMALL);
    tlsb_conn_free(first);
    /* echo_serve_one takes one connection; the listener (and the server context) stay for the next. */
    pthread_join(s.thread, NULL);
    pthread_create(&s.thread, NULL, echo_serve_one, &s);
    tlsb_conn *second;
    REQUIRE_STATUS(tlsb_dial(client, "localhost", port, 5000, &second), TLSB_OK);
    CHECK_STATUS(tlsb_conn_session_import(second, session, len), TLSB_OK);
    CHECK_STATUS(tlsb_conn_handshake(second), TLSB_OK);
    CHECK_STR(tlsb_conn_info(second, TLSB_INFO_SESSION_REUSED), "yes");
    CHECK_STATUS(tlsb_conn_session_import(second, session, len), TLSB_ERR_STATE);
    tlsb_conn_shutdown(second);
    tlsb_conn_free(second);
    /* A session resumes only where a full handshake would have passed the same checks. */
    tlsb_conn *other;
    REQUIRE_STATUS(tlsb_conn_new_buffer(client, "wrong.example", &other), TLSB_OK);
    CHECK_STATUS(tlsb_conn_session_import(other, session, len), TLSB_ERR_VERIFY_NAME);
    CHECK_CONTAINS(tlsb_last_error(), "does not match target name 'wrong.example'");
    tlsb_conn_free(other);
    tlsb_context *stranger = CLIENT(opt("trusted-ca", "other-ca.pem"));
    REQUIRE_STATUS(tlsb_conn_new_buffer(stranger, "localhost", &other), TLSB_OK);
    CHECK_STATUS(tlsb_conn_session_import(other, session, len), TLSB_ERR_ARGUMENT);
    CHECK_CONTAINS(tlsb_last_error(), "from a context with other settings");
    tlsb_conn_free(other);
    tlsb_context_free(stranger);
    REQUIRE_STATUS(tlsb_conn_new_buffer(client, "localhost", &other), TLSB_OK);
    session[10] ^= 1; /* a damaged binding is refused, not trusted */
    CHECK_STATUS(tlsb_conn_session_import(other, session, len), TLSB_ERR_ARGUMENT);
    tlsb_conn_free(other);
    echo_stop(&s);
    tlsb_context_free(client);
}

/* A connection driven on another thread, and how its call ended. */
struct writer {
    tlsb_conn *conn;
    int32_t result;
};

static void *handshake_then_shutdown(void *arg);
static void *handshake_then_wait(void *arg);

/* ---- buffer mode: two engines pumped by hand ---- */

static int pump(tlsb_conn *from, tlsb_conn *to)
{
    uint8_t buf[4096];
    int moved = 0;
    int32_t n;
    while ((n = tlsb_conn_drain(from, buf, sizeof buf)) > 0) {
        CHECK_STATUS(tlsb_conn_feed(to, buf, n), n);
        moved += n;
    }
    return moved;
}

/* Drives both buffer-mode handshakes to the end; *c and *s get each side's last status. */
static void handshake_pumped(tlsb_conn *client, tlsb_conn *server, int32_t *c, int32_t *s)
{
    *c = *s = TLSB_WANT_READ;
    for (int round = 0; round < 20 && (*c != TLSB_OK || *s != TLSB_OK); round++) {
        if (*c != TLSB_OK)
            *c = tlsb_conn_handshake(client);
        CHECK(tlsb_conn_pending(client) >= 0);
        pump(client, server);
        if (*s != TLSB_OK)
            *s = tlsb_conn_handshake(server);
        pump(server, client);
    }
}

static void buffer_mode(void)
{
    tlsb_context *sctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                                opt("trusted-ca", "ca.pem"), "tls-mutual=1");
    tlsb_context *cctx = CLIENT(opt("trusted-ca", "ca.pem"), opt("certificate", "client.pem"),
                                opt("certificate-key", "client.key"));
    tlsb_conn *client, *server;
    REQUIRE_STATUS(tlsb_conn_new_buffer(cctx, "localhost", &client), TLSB_OK);
    REQUIRE_STATUS(tlsb_conn_new_buffer(sctx, NULL, &server), TLSB_OK);
    int32_t c, s;
    handshake_pumped(client, server, &c, &s);
    CHECK_STATUS(c, TLSB_OK);
    CHECK_STATUS(s, TLSB_OK);
    CHECK_STR(tlsb_conn_info(server, TLSB_INFO_PEER_SUBJECT), "CN=tlsbridge client,O=tlsbridge tests");
    CHECK_STR(tlsb_conn_info(server, TLSB_INFO_TARGET_NAME), "localhost"); /* SNI */
    /* 1 MiB each way through the engines. */
    static uint8_t big[1 << 20], got[1 << 20];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 31 + 7);
    CHECK_STATUS(tlsb_conn_write(client, big, sizeof big), (int32_t)sizeof big);
    pump(client, server);
    int32_t total = 0, n;
    while (total < (int32_t)sizeof got && (n = tlsb_conn_read(server, got + total, (int32_t)sizeof got - total)) > 0)
        total += n;
    CHECK(total == (int32_t)sizeof got && memcmp(big, got, sizeof big) == 0);
    CHECK_STATUS(tlsb_conn_read(server, got, 16), TLSB_WANT_READ);
    /* Orderly close, then end of stream. */
    CHECK_STATUS(tlsb_conn_shutdown(client), TLSB_OK);
    pump(client, server);
    CHECK_STATUS(tlsb_conn_read(server, got, 16), TLSB_CLOSED);
    CHECK_STATUS(tlsb_conn_feed_eof(client), TLSB_OK);
    CHECK_STATUS(tlsb_conn_feed(client, big, 1), TLSB_ERR_STATE);
    CHECK_STATUS(tlsb_conn_fd(client), TLSB_ERR_STATE);
    CHECK_STATUS(tlsb_conn_set_timeout(client, 10), TLSB_ERR_STATE);
    tlsb_conn_free(client);
    tlsb_conn_free(server);
    tlsb_context_free(sctx);
    tlsb_context_free(cctx);
}

static void buffer_mode_peer_vanishes(void)
{
    tlsb_context *cctx = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_conn *client;
    REQUIRE_STATUS(tlsb_conn_new_buffer(cctx, "localhost", &client), TLSB_OK);
    CHECK_STATUS(tlsb_conn_handshake(client), TLSB_WANT_READ);
    CHECK(tlsb_conn_pending(client) > 0); /* the ClientHello */
    CHECK_STATUS(tlsb_conn_feed_eof(client), TLSB_OK);
    CHECK_STATUS(tlsb_conn_handshake(client), TLSB_ERR_PEER_RESET);
    CHECK_CONTAINS(tlsb_last_error(), "during the handshake");
    tlsb_conn_free(client);
    tlsb_context_free(cctx);
}

static void buffer_mode_needs_a_target_name(void)
{
    tlsb_context *cctx = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_conn *client = NULL;
    CHECK_STATUS(tlsb_conn_new_buffer(cctx, NULL, &client), TLSB_ERR_ARGUMENT);
    CHECK_CONTAINS(tlsb_last_error(), "needs a target name");
    CHECK(client == NULL); /* out-parameters are written only on success */
    tlsb_context_free(cctx);
}

/* After close_notify either way a write is an error naming who closed, never TLSB_CLOSED (a
 * negative "count" a caller could add to its position) and never 0; shutdown stays idempotent. */
static void write_after_close_notify(void)
{
    tlsb_context *sctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_context *cctx = CLIENT(opt("trusted-ca", "ca.pem"));
    REQUIRE(sctx && cctx);
    /* Buffer mode: the client closes, the server reads the close, then both try to write. */
    tlsb_conn *client, *server;
    REQUIRE_STATUS(tlsb_conn_new_buffer(cctx, "localhost", &client), TLSB_OK);
    REQUIRE_STATUS(tlsb_conn_new_buffer(sctx, NULL, &server), TLSB_OK);
    int32_t c, s;
    handshake_pumped(client, server, &c, &s);
    REQUIRE_STATUS(c, TLSB_OK);
    REQUIRE_STATUS(s, TLSB_OK);
    uint8_t buf[16];
    CHECK_STATUS(tlsb_conn_shutdown(client), TLSB_OK);
    CHECK_STATUS(tlsb_conn_shutdown(client), TLSB_OK); /* once; again is a no-op */
    CHECK_STATUS(tlsb_conn_write(client, (const uint8_t *)"late", 4), TLSB_ERR_STATE);
    CHECK_CONTAINS(tlsb_last_error(), "write: this side closed the session (tlsb_conn_shutdown)");
    pump(client, server);
    CHECK_STATUS(tlsb_conn_read(server, buf, sizeof buf), TLSB_CLOSED);
    CHECK_STATUS(tlsb_conn_write(server, (const uint8_t *)"late", 4), TLSB_ERR_STATE);
    CHECK_CONTAINS(tlsb_last_error(), "write: the peer closed the session (close_notify received)");
    CHECK_STATUS(tlsb_conn_shutdown(server), TLSB_OK); /* answers the peer's close_notify */
    CHECK(pump(server, client) > 0);
    CHECK_STATUS(tlsb_conn_read(client, buf, sizeof buf), TLSB_CLOSED);
    tlsb_conn_free(client);
    tlsb_conn_free(server);
    /* Socket mode: the server closes and goes away; the client reads the close, then writes. */
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    REQUIRE_STATUS(tlsb_conn_new_socket(cctx, sv[0], "localhost", &client), TLSB_OK);
    REQUIRE_STATUS(tlsb_conn_new_socket(sctx, sv[1], NULL, &server), TLSB_OK);
    tlsb_conn_set_timeout(client, 5000);
    tlsb_conn_set_timeout(server, 5000);
    struct writer w = {server, 0};
    pthread_t t;
    pthread_create(&t, NULL, handshake_then_shutdown, &w);
    CHECK_STATUS(tlsb_conn_handshake(client), TLSB_OK);
    pthread_join(t, NULL);
    CHECK_STATUS(w.result, TLSB_OK);
    tlsb_conn_free(server); /* closes its socket too */
    CHECK_STATUS(tlsb_conn_read(client, buf, sizeof buf), TLSB_CLOSED);
    for (int i = 0; i < 3; i++) { /* the first write used to succeed, the next ones to say TLSB_CLOSED */
        CHECK_STATUS(tlsb_conn_write(client, (const uint8_t *)"late", 4), TLSB_ERR_STATE);
        CHECK_CONTAINS(tlsb_last_error(), "the peer closed the session");
    }
    CHECK_STATUS(tlsb_conn_shutdown(client), TLSB_OK);
    tlsb_conn_free(client);
    /* Clear mode (tls=0): the same rules for the end of stream and our own close. */
    tlsb_context *clear = CLIENT("tls=0");
    REQUIRE(clear);
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    REQUIRE_STATUS(tlsb_conn_new_socket(clear, sv[0], NULL, &client), TLSB_OK);
    CHECK_STATUS(tlsb_conn_shutdown(client), TLSB_OK);
    CHECK_STATUS(tlsb_conn_write(client, (const uint8_t *)"late", 4), TLSB_ERR_STATE);
    CHECK_CONTAINS(tlsb_last_error(), "write: this side closed the session (tlsb_conn_shutdown)");
    tlsb_conn_free(client);
    REQUIRE_STATUS(tlsb_conn_new_socket(clear, sv[1], NULL, &server), TLSB_OK);
    CHECK_STATUS(tlsb_conn_read(server, buf, sizeof buf), TLSB_CLOSED);
    CHECK_STATUS(tlsb_conn_write(server, (const uint8_t *)"late", 4), TLSB_ERR_STATE);
    CHECK_CONTAINS(tlsb_last_error(), "write: the peer closed the session (end of stream received)");
    tlsb_conn_free(server);
    tlsb_context_free(clear);
    tlsb_context_free(sctx);
    tlsb_context_free(cctx);
}

struct watcher {
    tlsb_conn *conn;
    atomic_int stop;
    const char *seen; /* the first detail seen once the handshake was reported done */
};

static void *watch_details(void *arg)
{
    struct watcher *w = arg;
    for (;;) {
        int last = atomic_load(&w->stop); /* set after the handshake: one more look must see it */
        if ((w->seen = tlsb_conn_info(w->conn, TLSB_INFO_SESSION_REUSED)) || last)
            break;
    }
    return NULL;
}

/* Another thread that sees the handshake done sees its details too, never an empty value. */
static void details_are_published_with_the_handshake(void)
{
    tlsb_context *sctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_context *cctx = CLIENT(opt("trusted-ca", "ca.pem"));
    REQUIRE(sctx && cctx);
    for (int round = 0; round < 200; round++) {
        tlsb_conn *client, *server;
        REQUIRE_STATUS(tlsb_conn_new_buffer(cctx, "localhost", &client), TLSB_OK);
        REQUIRE_STATUS(tlsb_conn_new_buffer(sctx, NULL, &server), TLSB_OK);
        struct watcher w = {.conn = client};
        pthread_t t;
        pthread_create(&t, NULL, watch_details, &w);
        int32_t c, s;
        handshake_pumped(client, server, &c, &s);
        atomic_store(&w.stop, 1);
        pthread_join(t, NULL);
        CHECK_STATUS(c, TLSB_OK);
        CHECK_STR(w.seen, "no");
        tlsb_conn_free(client);
        tlsb_conn_free(server);
        if (harness_failures)
            break;
    }
    tlsb_context_free(sctx);
    tlsb_context_free(cctx);
}

/* ---- non-blocking sockets ---- */

static void nonblocking_socket_mode(void)
{
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    tlsb_context *sctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_context *cctx = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_conn *client, *server;
    REQUIRE_STATUS(tlsb_conn_new_socket(cctx, sv[0], "localhost", &client), TLSB_OK);
    REQUIRE_STATUS(tlsb_conn_new_socket(sctx, sv[1], NULL, &server), TLSB_OK);
    CHECK(tlsb_conn_fd(client) == sv[0]);
    int32_t c = TLSB_WANT_READ, s = TLSB_WANT_READ;
    int wants = 0;
    for (int round = 0; round < 50 && (c != TLSB_OK || s != TLSB_OK); round++) {
        if (c != TLSB_OK)
            c = tlsb_conn_handshake(client);
        if (s != TLSB_OK)
            s = tlsb_conn_handshake(server);
        wants += c == TLSB_WANT_READ || s == TLSB_WANT_READ;
    }
    CHECK_STATUS(c, TLSB_OK);
    CHECK_STATUS(s, TLSB_OK);
    CHECK(wants > 0); /* it really did not block */
    uint8_t buf[64];
    CHECK_STATUS(tlsb_conn_read(server, buf, sizeof buf), TLSB_WANT_READ);
    CHECK_STATUS(tlsb_conn_write(client, (const uint8_t *)"abc", 3), 3);
    struct pollfd p = {.fd = sv[1], .events = POLLIN};
    CHECK(poll(&p, 1, 5000) == 1);
    CHECK_STATUS(tlsb_conn_read(server, buf, sizeof buf), 3);
    tlsb_conn_free(client);
    tlsb_conn_free(server);
    tlsb_context_free(sctx);
    tlsb_context_free(cctx);
}

/* A connection the core dialled (and one it accepted) switched to non-blocking: calls return
 * TLSB_WANT_* instead of waiting, and switched back they wait again. */
static void nonblocking_switch_on_core_sockets(void)
{
    tlsb_context *sctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_context *cctx = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_listener *l;
    REQUIRE_STATUS(tlsb_listen("127.0.0.1", 0, 4, &l), TLSB_OK);
    tlsb_conn *client = NULL, *server = NULL;
    REQUIRE_STATUS(tlsb_dial(cctx, "localhost", tlsb_listener_port(l), 5000, &client), TLSB_OK);
    REQUIRE_STATUS(tlsb_accept(l, sctx, 5000, &server), TLSB_OK);
    CHECK_STATUS(tlsb_conn_set_nonblocking(client, 1), TLSB_OK);
    CHECK_STATUS(tlsb_conn_set_nonblocking(server, 1), TLSB_OK);
    CHECK_STATUS(tlsb_conn_set_nonblocking(server, 2), TLSB_ERR_ARGUMENT);
    int32_t c = TLSB_WANT_READ, s = TLSB_WANT_READ;
    int wants = 0;
    for (int round = 0; round < 200 && (c != TLSB_OK || s != TLSB_OK); round++) {
        if (c != TLSB_OK)
            c = tlsb_conn_handshake(client);
        if (s != TLSB_OK)
            s = tlsb_conn_handshake(server);
        wants += c == TLSB_WANT_READ || s == TLSB_WANT_READ;
        if (c != TLSB_OK || s != TLSB_OK) {
            struct pollfd p[2] = {{.fd = tlsb_conn_fd(client), .events = POLLIN}, {.fd = tlsb_conn_fd(server), .events = POLLIN}};
            poll(p, 2, 100);
        }
    }
    CHECK_STATUS(c, TLSB_OK);
    CHECK_STATUS(s, TLSB_OK);
    CHECK(wants > 0);
    uint8_t buf[16];
    CHECK_STATUS(tlsb_conn_read(server, buf, sizeof buf), TLSB_WANT_READ);
    /* Back to blocking: the read waits for the client's bytes. */
    CHECK_STATUS(tlsb_conn_set_nonblocking(server, 0), TLSB_OK);
    CHECK_STATUS(tlsb_conn_set_timeout(server, 5000), TLSB_OK);
    CHECK_STATUS(tlsb_conn_write(client, (const uint8_t *)"abc", 3), 3);
    CHECK_STATUS(tlsb_conn_read(server, buf, sizeof buf), 3);
    tlsb_conn *buffered;
    REQUIRE_STATUS(tlsb_conn_new_buffer(cctx, "localhost", &buffered), TLSB_OK);
    CHECK_STATUS(tlsb_conn_set_nonblocking(buffered, 0), TLSB_ERR_STATE);
    tlsb_conn_free(buffered);
    tlsb_conn_free(client);
    tlsb_conn_free(server);
    tlsb_listener_free(l);
    tlsb_context_free(sctx);
    tlsb_context_free(cctx);
}

/* ---- clear mode ---- */

static void clear_mode(void)
{
    struct echo_server s;
    int port = echo_start(&s, SERVER("tls=0"));
    tlsb_context *client = CLIENT("tls=0");
    tlsb_conn *conn = NULL;
    CHECK_STATUS(round_trip(client, port, "localhost", &conn), TLSB_OK);
    if (conn) {
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_VERSION), "none");
        tlsb_conn_free(conn);
    }
    echo_stop(&s);
    CHECK_STATUS(s.end, TLSB_CLOSED);
    /* The same in buffer mode: bytes pass through unchanged. */
    tlsb_conn *b;
    REQUIRE_STATUS(tlsb_conn_new_buffer(client, NULL, &b), TLSB_OK);
    CHECK_STATUS(tlsb_conn_write(b, (const uint8_t *)"plain", 5), 5);
    uint8_t out[16];
    CHECK_STATUS(tlsb_conn_drain(b, out, sizeof out), 5);
    CHECK(memcmp(out, "plain", 5) == 0);
    CHECK_STATUS(tlsb_conn_feed(b, (const uint8_t *)"back", 4), 4);
    CHECK_STATUS(tlsb_conn_read(b, out, sizeof out), 4);
    CHECK_STATUS(tlsb_conn_read(b, out, sizeof out), TLSB_WANT_READ);
    tlsb_conn_feed_eof(b);
    CHECK_STATUS(tlsb_conn_read(b, out, sizeof out), TLSB_CLOSED);
    tlsb_conn_free(b);
    tlsb_context_free(client);
}

/* ---- peers that misbehave ---- */

struct raw_peer {
    int listen_fd, port;
    const char *send; /* bytes to send before closing, or NULL */
    pthread_t thread;
};

static void *raw_serve(void *arg)
{
    struct raw_peer *r = arg;
    int fd = accept(r->listen_fd, NULL, NULL);
    if (fd >= 0) {
        char hello[512];
        (void)!read(fd, hello, sizeof hello); /* wait for the ClientHello */
        if (r->send)
            (void)!write(fd, r->send, strlen(r->send));
        close(fd);
    }
    return NULL;
}

static void raw_start(struct raw_peer *r, const char *send)
{
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    bind(r->listen_fd, (struct sockaddr *)&sa, sizeof sa);
    listen(r->listen_fd, 1);
    getsockname(r->listen_fd, (struct sockaddr *)&sa, &len);
    r->port = ntohs(sa.sin_port);
    r->send = send;
    pthread_create(&r->thread, NULL, raw_serve, r);
}

static void peer_vanishes_mid_handshake(void)
{
    struct raw_peer r;
    raw_start(&r, NULL);
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_STATUS(round_trip(client, r.port, "localhost", NULL), TLSB_ERR_PEER_RESET);
    CHECK_CONTAINS(tlsb_last_error(), "the peer closed the connection without close_notify during the handshake");
    pthread_join(r.thread, NULL);
    close(r.listen_fd);
    raw_start(&r, "HTTP/1.1 400 Bad Request\r\n\r\n");
    CHECK_STATUS(round_trip(client, r.port, "localhost", NULL), TLSB_ERR_HANDSHAKE);
    CHECK_CONTAINS(tlsb_last_error(), "handshake: the peer did not speak TLS");
    pthread_join(r.thread, NULL);
    close(r.listen_fd);
    tlsb_context_free(client);
}

/* Plain text where a ClientHello belongs is not a version mismatch: the peer did not speak TLS. */
static void plain_text_to_a_tls_server(void)
{
    static const char *const greetings[] = {"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "hello, not TLS at all\n"};
    for (size_t i = 0; i < sizeof greetings / sizeof greetings[0]; i++) {
        struct echo_server s;
        int port = echo_start(&s, SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key")));
        REQUIRE(port > 0);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
        CHECK(write(fd, greetings[i], strlen(greetings[i])) == (ssize_t)strlen(greetings[i]));
        char reply[256];
        while (read(fd, reply, sizeof reply) > 0) /* until the server gives up on us */
            ;
        close(fd);
        echo_stop(&s);
        CHECK_STATUS(s.handshake, TLSB_ERR_HANDSHAKE);
        CHECK_CONTAINS(s.error, "handshake: the peer did not speak TLS");
    }
}

/* A handshake that failed stays failed: every later call repeats the failure at once instead of
 * waiting for a flight that cannot come (here: close_notify in place of the ServerHello). */
static void failed_handshake_stays_failed(void)
{
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_conn *conn;
    REQUIRE_STATUS(tlsb_conn_new_buffer(client, "localhost", &conn), TLSB_OK);
    CHECK_STATUS(tlsb_conn_handshake(conn), TLSB_WANT_READ);
    static const uint8_t close_notify[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
    CHECK_STATUS(tlsb_conn_feed(conn, close_notify, sizeof close_notify), (int32_t)sizeof close_notify);
    CHECK_STATUS(tlsb_conn_handshake(conn), TLSB_ERR_HANDSHAKE);
    char first[512];
    snprintf(first, sizeof first, "%s", tlsb_last_error());
    CHECK_CONTAINS(first, "close_notify");
    CHECK_STATUS(tlsb_conn_handshake(conn), TLSB_ERR_HANDSHAKE);
    CHECK_STR(tlsb_last_error(), first);
    uint8_t buf[16];
    CHECK_STATUS(tlsb_conn_read(conn, buf, sizeof buf), TLSB_ERR_HANDSHAKE);
    CHECK_STATUS(tlsb_conn_write(conn, buf, sizeof buf), TLSB_ERR_HANDSHAKE);
    tlsb_conn_free(conn);
    tlsb_context_free(client);
}

static void dial_errors(void)
{
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_conn *conn = NULL;
    CHECK_STATUS(tlsb_dial(client, "127.0.0.1", free_port(), 2000, &conn), TLSB_ERR_CONNECT);
    CHECK_CONTAINS(tlsb_last_error(), "Connection refused");
    CHECK_STATUS(tlsb_dial(client, "no-such-host.invalid", 443, 2000, &conn), TLSB_ERR_RESOLVE);
    CHECK_CONTAINS(tlsb_last_error(), "cannot resolve 'no-such-host.invalid'");
    CHECK_STATUS(tlsb_dial(client, "localhost", 70000, 2000, &conn), TLSB_ERR_ARGUMENT);
    CHECK(conn == NULL);
    tlsb_context_free(client);
}

/* ---- timeouts and closing from another thread ---- */

struct blocked {
    tlsb_conn *conn;
    int32_t result;
};

static void *read_blocked(void *arg)
{
    struct blocked *b = arg;
    uint8_t buf[16];
    b->result = tlsb_conn_read(b->conn, buf, sizeof buf);
    return NULL;
}

static void read_timeout_and_close_from_another_thread(void)
{
    tlsb_context *sctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_listener *l;
    REQUIRE_STATUS(tlsb_listen("127.0.0.1", 0, 4, &l), TLSB_OK);
    struct echo_server s = {.ctx = sctx, .listener = l};
    pthread_create(&s.thread, NULL, echo_serve_one, &s);
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    tlsb_conn *conn;
    REQUIRE_STATUS(tlsb_dial(client, "localhost", tlsb_listener_port(l), 5000, &conn), TLSB_OK);
    CHECK_STATUS(tlsb_conn_handshake(conn), TLSB_OK);
    uint8_t buf[16];
    CHECK_STATUS(tlsb_conn_set_timeout(conn, 200), TLSB_OK);
    CHECK_STATUS(tlsb_conn_read(conn, buf, sizeof buf), TLSB_ERR_TIMEOUT);
    CHECK_CONTAINS(tlsb_last_error(), "timed out after 200 ms");
    /* Still usable after a timeout. */
    CHECK_STATUS(tlsb_conn_write(conn, (const uint8_t *)"x", 1), 1);
    CHECK_STATUS(tlsb_conn_read(conn, buf, sizeof buf), 1);
    CHECK_STATUS(tlsb_conn_set_timeout(conn, 0), TLSB_OK);
    struct blocked b = {conn, 0};
    pthread_t t;
    pthread_create(&t, NULL, read_blocked, &b);
    usleep(200000);
    CHECK_STATUS(tlsb_conn_close(conn), TLSB_OK);
    pthread_join(t, NULL);
    CHECK_STATUS(b.result, TLSB_ERR_HANDLE_CLOSED);
    CHECK_STATUS(tlsb_conn_close(conn), TLSB_OK); /* idempotent */
    CHECK_STATUS(tlsb_conn_read(conn, buf, sizeof buf), TLSB_ERR_HANDLE_CLOSED);
    CHECK_STATUS(tlsb_conn_write(conn, buf, 1), TLSB_ERR_HANDLE_CLOSED);
    CHECK_STATUS(tlsb_conn_handshake(conn), TLSB_ERR_HANDLE_CLOSED);
    tlsb_conn_free(conn);
    echo_stop(&s);
    tlsb_context_free(client);
}

static void *handshake_then_shutdown(void *arg)
{
    struct writer *w = arg;
    w->result = tlsb_conn_handshake(w->conn);
    if (w->result == TLSB_OK)
        w->result = tlsb_conn_shutdown(w->conn);
    return NULL;
}

static void *handshake_then_wait(void *arg)
{
    struct writer *w = arg;
    w->result = tlsb_conn_handshake(w->conn);
    return NULL;
}

static void *write_64k(void *arg)
{
    struct writer *w = arg;
    static uint8_t data[65536];
    w->result = tlsb_conn_write(w->conn, data, sizeof data);
    return NULL;
}

/* A reader thread and a writer thread that both start before the handshake: one drives it,
 * neither waits for bytes the other consumed. */
static void reader_and_writer_start_together(void)
{
    /* TLS 1.2: nothing arrives after the handshake that could wake a thread waiting in vain. */
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), "sec-protocol=TLSv12");
    for (int round = 0; round < 30; round++) {
        struct echo_server s;
        int port = echo_start(&s, SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key")));
        tlsb_conn *conn;
        REQUIRE_STATUS(tlsb_dial(client, "localhost", port, 5000, &conn), TLSB_OK);
        CHECK_STATUS(tlsb_conn_set_timeout(conn, 5000), TLSB_OK);
        struct writer w = {conn, 0};
        pthread_t t;
        pthread_create(&t, NULL, write_64k, &w);
        uint8_t buf[16384];
        int32_t total = 0, n = 0;
        while (total < 65536 && (n = tlsb_conn_read(conn, buf, sizeof buf)) > 0)
            total += n;
        pthread_join(t, NULL);
        CHECK_STATUS(w.result, 65536);
        CHECK(total == 65536);
        tlsb_conn_shutdown(conn);
        tlsb_conn_free(conn);
        echo_stop(&s);
    }
    tlsb_context_free(client);
}

/* The timeout bounds every blocking wait, not only reads: a handshake with a silent peer, and a
 * write and a shutdown to a peer that reads nothing. */
static void timeout_applies_to_every_wait(void)
{
    tlsb_context *sctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_context *cctx = CLIENT(opt("trusted-ca", "ca.pem"));
    REQUIRE(sctx && cctx);
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    tlsb_conn *client, *server;
    REQUIRE_STATUS(tlsb_conn_new_socket(cctx, sv[0], "localhost", &client), TLSB_OK);
    CHECK_STATUS(tlsb_conn_set_timeout(client, 200), TLSB_OK);
    CHECK_STATUS(tlsb_conn_handshake(client), TLSB_ERR_TIMEOUT); /* nobody answers the ClientHello */
    CHECK_CONTAINS(tlsb_last_error(), "handshake: timed out after 200 ms");
    tlsb_conn_free(client);
    close(sv[1]);
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    REQUIRE_STATUS(tlsb_conn_new_socket(cctx, sv[0], "localhost", &client), TLSB_OK);
    REQUIRE_STATUS(tlsb_conn_new_socket(sctx, sv[1], NULL, &server), TLSB_OK);
    tlsb_conn_set_timeout(server, 5000);
    struct writer w = {server, 0};
    pthread_t t;
    pthread_create(&t, NULL, handshake_then_wait, &w);
    CHECK_STATUS(tlsb_conn_handshake(client), TLSB_OK);
    pthread_join(t, NULL);
    CHECK_STATUS(w.result, TLSB_OK);
    /* The server reads nothing from here on: the socket buffers fill up. */
    static uint8_t data[1 << 22];
    CHECK_STATUS(tlsb_conn_set_timeout(client, 200), TLSB_OK);
    CHECK_STATUS(tlsb_conn_write(client, data, sizeof data), TLSB_ERR_TIMEOUT);
    CHECK_CONTAINS(tlsb_last_error(), "write: timed out after 200 ms");
    CHECK_STATUS(tlsb_conn_shutdown(client), TLSB_ERR_TIMEOUT);
    CHECK_CONTAINS(tlsb_last_error(), "shutdown: timed out after 200 ms");
    tlsb_conn_free(client);
    tlsb_conn_free(server);
    tlsb_context_free(sctx);
    tlsb_context_free(cctx);
}

static void accept_timeout_and_close(void)
{
    tlsb_context *sctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_listener *l;
    REQUIRE_STATUS(tlsb_listen("127.0.0.1", 0, 4, &l), TLSB_OK);
    tlsb_conn *conn = NULL;
    CHECK_STATUS(tlsb_accept(l, sctx, 100, &conn), TLSB_ERR_TIMEOUT);
    CHECK_STATUS(tlsb_listener_close(l), TLSB_OK);
    CHECK_STATUS(tlsb_accept(l, sctx, 100, &conn), TLSB_ERR_HANDLE_CLOSED);
    CHECK(conn == NULL);
    tlsb_listener_free(l);
    tlsb_context_free(sctx);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"tls13_socket_mode", tls13_socket_mode},
        {"tls12_ip_target", tls12_ip_target},
        {"mutual_tls", mutual_tls},
        {"mutual_tls_without_client_certificate", mutual_tls_without_client_certificate},
        {"mutual_tls_untrusted_client", mutual_tls_untrusted_client},
        {"wrong_host", wrong_host},
        {"untrusted_ca", untrusted_ca},
        {"expired_certificate", expired_certificate},
        {"target_name_option_wins", target_name_option_wins},
        {"name_check_off", name_check_off},
        {"protocol_mismatch", protocol_mismatch},
        {"legacy_tls10_when_asked", legacy_tls10_when_asked},
        {"resumption", resumption},
        {"buffer_mode", buffer_mode},
        {"buffer_mode_peer_vanishes", buffer_mode_peer_vanishes},
        {"buffer_mode_needs_a_target_name", buffer_mode_needs_a_target_name},
        {"write_after_close_notify", write_after_close_notify},
        {"details_are_published_with_the_handshake", details_are_published_with_the_handshake},
        {"nonblocking_socket_mode", nonblocking_socket_mode},
        {"nonblocking_switch_on_core_sockets", nonblocking_switch_on_core_sockets},
        {"clear_mode", clear_mode},
        {"peer_vanishes_mid_handshake", peer_vanishes_mid_handshake},
        {"plain_text_to_a_tls_server", plain_text_to_a_tls_server},
        {"failed_handshake_stays_failed", failed_handshake_stays_failed},
        {"dial_errors", dial_errors},
        {"read_timeout_and_close_from_another_thread", read_timeout_and_close_from_another_thread},
        {"accept_timeout_and_close", accept_timeout_and_close},
        {"timeout_applies_to_every_wait", timeout_applies_to_every_wait},
        {"reader_and_writer_start_together", reader_and_writer_start_together},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
