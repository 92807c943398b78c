/* libtlsbridge.so.1 beside the system's libssl.so.3 in one process (issue 14): the application
 * uses OpenSSL itself while tlsbridge connections run, as a JVM, a CLR or any C program may. In a
 * TLSB_OPENSSL_STATIC build the library carries its own OpenSSL and must export none of it; in
 * the default build it must use the process's one. Either way, both stacks handshake with
 * each other in the same process. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "harness.h"

static const char hello[] = "hello across stacks";

/* The application's own OpenSSL, on one end of a socket pair. */
struct app_peer {
    int fd;
    int server;
    int ok;
};

static void *app_side(void *arg)
{
    struct app_peer *p = arg;
    SSL_CTX *ctx = SSL_CTX_new(p->server ? TLS_server_method() : TLS_client_method());
    if (p->server) {
        SSL_CTX_use_certificate_chain_file(ctx, cert("server.pem"));
        SSL_CTX_use_PrivateKey_file(ctx, cert("server.key"), SSL_FILETYPE_PEM);
    } else {
        SSL_CTX_load_verify_locations(ctx, cert("ca.pem"), NULL);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, p->fd);
    if (!p->server) {
        SSL_set_tlsext_host_name(ssl, "localhost");
        SSL_set1_host(ssl, "localhost");
    }
    char buf[64];
    int n;
    if ((p->server ? SSL_accept(ssl) : SSL_connect(ssl)) == 1) {
        if (p->server) {
            n = SSL_read(ssl, buf, sizeof buf);
            p->ok = n > 0 && SSL_write(ssl, buf, n) == n;
        } else {
            p->ok = SSL_write(ssl, hello, sizeof hello - 1) == (int)sizeof hello - 1 &&
                    (n = SSL_read(ssl, buf, sizeof buf)) == (int)sizeof hello - 1 && memcmp(buf, hello, n) == 0;
        }
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(p->fd);
    return NULL;
}

/* tlsbridge on the other end: a client that sends and checks the echo, or a server that echoes. */
static void bridge_side(tlsb_context *ctx, int fd, int server)
{
    tlsb_conn *conn = NULL;
    CHECK_STATUS(tlsb_conn_new_socket(ctx, fd, server ? NULL : "localhost", &conn), TLSB_OK);
    if (!conn)
        return;
    CHECK_STATUS(tlsb_conn_handshake(conn), TLSB_OK);
    uint8_t buf[64];
    if (server) {
        int32_t n = tlsb_conn_read(conn, buf, sizeof buf);
        CHECK(n > 0);
        if (n > 0)
            CHECK_STATUS(tlsb_conn_write(conn, buf, n), n);
    } else {
        CHECK_STATUS(tlsb_conn_write(conn, (const uint8_t *)hello, sizeof hello - 1), (int32_t)sizeof hello - 1);
        CHECK_STATUS(tlsb_conn_read(conn, buf, sizeof buf), (int32_t)sizeof hello - 1);
        CHECK(memcmp(buf, hello, sizeof hello - 1) == 0);
    }
    tlsb_conn_shutdown(conn);
    tlsb_conn_free(conn);
}

static void run_pair(tlsb_context *ctx, int bridge_is_server)
{
    int fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    struct app_peer app = {.fd = fds[0], .server = !bridge_is_server};
    pthread_t thread;
    pthread_create(&thread, NULL, app_side, &app);
    bridge_side(ctx, fds[1], bridge_is_server);
    pthread_join(thread, NULL);
    CHECK(app.ok);
    tlsb_context_free(ctx);
}

static void bridge_client_app_server(void)
{
    run_pair(CLIENT(opt("trusted-ca", "ca.pem")), 0);
}

static void app_client_bridge_server(void)
{
    run_pair(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key")), 1);
}

/* Which OpenSSL the library resolves: its own, hidden (static build), or the process's. */
static void the_library_uses_the_openssl_it_was_built_for(void)
{
    Dl_info info;
    CHECK(dladdr((void *)tlsb_version, &info) != 0);
    void *lib = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    CHECK(lib != NULL);
    if (!lib)
        return;
    void *seen = dlsym(lib, "SSL_CTX_new"); /* the library's exports, then its dependencies' */
#ifdef TLSB_OPENSSL_STATIC
    if (seen != NULL)
        harness_fail(__FILE__, __LINE__, "%s exports or imports SSL_CTX_new: OpenSSL is not hidden", info.dli_fname);
#else
    CHECK(seen == (void *)SSL_CTX_new);
#endif
    dlclose(lib);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"bridge_client_app_server", bridge_client_app_server},
        {"app_client_bridge_server", app_client_bridge_server},
        {"the_library_uses_the_openssl_it_was_built_for", the_library_uses_the_openssl_it_was_built_for},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
