/* A complete tlsbridge program: a TLS echo server and a client for it (docs/c.md).
 *   tlsb_example server CERT.pem KEY.pem          listens on 127.0.0.1, prints "port N", echoes
 *                                                  one message back, then exits
 *   tlsb_example client PORT CA.pem               connects to localhost:PORT, verifies the
 *                                                  server against CA.pem, sends a line and
 *                                                  prints the echo and the negotiated details
 * Every failure prints the library's message (which option, file or certificate check) and
 * exits 1. Build: cc tlsb_example.c $(pkg-config --cflags --libs tlsbridge) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tlsbridge.h>

static int fail(const char *what, int32_t status)
{
    fprintf(stderr, "%s: %s: %s\n", what, tlsb_status_name(status), tlsb_last_error());
    return 1;
}

/* A context for role from NULL-terminated name/value pairs. */
static int32_t make_context(int32_t role, const char *const *options, tlsb_context **out)
{
    tlsb_config *config;
    int32_t rc = tlsb_config_new(&config);
    if (rc != TLSB_OK)
        return rc;
    for (int i = 0; rc == TLSB_OK && options[i]; i += 2)
        rc = tlsb_config_set(config, options[i], options[i + 1]);
    if (rc == TLSB_OK)
        rc = tlsb_context_new(config, role, out);
    tlsb_config_free(config);
    return rc;
}

static int server(const char *cert, const char *key)
{
    const char *options[] = {"certificate", cert, "certificate-key", key, NULL};
    tlsb_context *context;
    int32_t rc = make_context(TLSB_ROLE_SERVER, options, &context);
    if (rc != TLSB_OK)
        return fail("server options", rc);
    tlsb_listener *listener;
    rc = tlsb_listen("127.0.0.1", 0, 16, &listener);
    if (rc != TLSB_OK) {
        tlsb_context_free(context);
        return fail("listen", rc);
    }
    printf("port %d\n", (int)tlsb_listener_port(listener));
    fflush(stdout);

    int result = 1;
    tlsb_conn *conn;
    rc = tlsb_accept(listener, context, 30000, &conn);
    if (rc != TLSB_OK) {
        fail("accept", rc);
    } else {
        uint8_t buffer[4096];
        int32_t n = tlsb_conn_read(conn, buffer, sizeof buffer);
        if (n < 0)
            fail("read", n);
        else if ((rc = tlsb_conn_write(conn, buffer, n)) < 0)
            fail("write", rc);
        else
            result = 0;
        tlsb_conn_shutdown(conn);
        tlsb_conn_close(conn);
        tlsb_conn_free(conn);
    }
    tlsb_listener_close(listener);
    tlsb_listener_free(listener);
    tlsb_context_free(context);
    return result;
}

static int client(int port, const char *ca)
{
    const char *options[] = {"trusted-ca", ca, NULL};
    tlsb_context *context;
    int32_t rc = make_context(TLSB_ROLE_CLIENT, options, &context);
    if (rc != TLSB_OK)
        return fail("client options", rc);
    int result = 1;
    tlsb_conn *conn;
    rc = tlsb_dial(context, "localhost", port, 10000, &conn);
    if (rc != TLSB_OK) {
        fail("dial", rc);
    } else {
        static const char hello[] = "hello from C";
        uint8_t echo[64];
        int32_t n;
        if ((rc = tlsb_conn_handshake(conn)) != TLSB_OK)
            fail("handshake", rc);
        else if ((rc = tlsb_conn_write(conn, (const uint8_t *)hello, sizeof hello - 1)) < 0)
            fail("write", rc);
        else if ((n = tlsb_conn_read(conn, echo, sizeof echo - 1)) < 0)
            fail("read", n);
        else {
            echo[n] = '\0';
            printf("version: %s\n", tlsb_conn_info(conn, TLSB_INFO_VERSION));
            printf("cipher: %s\n", tlsb_conn_info(conn, TLSB_INFO_CIPHER_IANA));
            printf("peer: %s\n", tlsb_conn_info(conn, TLSB_INFO_PEER_SUBJECT));
            printf("echo: %s\n", (const char *)echo);
            result = strcmp((const char *)echo, hello) == 0 ? 0 : 1;
        }
        tlsb_conn_shutdown(conn);
        tlsb_conn_free(conn);
    }
    tlsb_context_free(context);
    return result;
}

int main(int argc, char **argv)
{
    printf("tlsbridge %s on %s\n", tlsb_version(), tlsb_openssl_version());
    if (argc == 4 && strcmp(argv[1], "server") == 0)
        return server(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "client") == 0)
        return client(atoi(argv[2]), argv[3]);
    fprintf(stderr, "usage: tlsb_example server CERT.pem KEY.pem | client PORT CA.pem\n");
    return 2;
}
