/* Soak: thousands of connections (full handshake, echo, close) through the core in one process.
 * Resident memory and open descriptors, measured after a warm-up and at the end, must stay flat:
 * whatever a connection leaves behind (a leak, a cache without a bound, a descriptor) adds up
 * here long before a user sees it. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define CONNECTIONS 2000
#define WARM_UP 200
/* Growth allowed between the warm-up and the end. malloc keeps freed pages and fragments a
 * little; a leak of 1 KiB per connection would already exceed this over 1800 connections. */
#define RSS_TOLERANCE_KB 1536
#define FD_TOLERANCE 0

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

struct server {
    tlsb_context *ctx;
    tlsb_listener *listener;
    int served;
    int32_t failed; /* the first failure, or 0 */
    char error[1024];
    pthread_t thread;
};

/* One connection at a time: handshake, echo until the client's close_notify, close. */
static void *serve(void *arg)
{
    struct server *s = arg;
    for (int i = 0; i < CONNECTIONS; i++) {
        tlsb_conn *conn;
        int32_t rc = tlsb_accept(s->listener, s->ctx, 20000, &conn);
        if (rc != TLSB_OK) {
            s->failed = rc;
            snprintf(s->error, sizeof s->error, "accept %d: %s", i, tlsb_last_error());
            return NULL;
        }
        tlsb_conn_set_timeout(conn, 20000);
        uint8_t buf[256];
        int32_t n;
        while ((n = tlsb_conn_read(conn, buf, sizeof buf)) > 0 && tlsb_conn_write(conn, buf, n) == n)
            ;
        if (n != TLSB_CLOSED && !s->failed) {
            s->failed = n;
            snprintf(s->error, sizeof s->error, "connection %d: %s", i, tlsb_last_error());
        }
        tlsb_conn_shutdown(conn);
        tlsb_conn_free(conn);
        s->served++;
    }
    return NULL;
}

/* One client connection: full handshake, an echo, an orderly close. */
static int32_t one_connection(tlsb_context *ctx, int port, int i)
{
    tlsb_conn *conn;
    int32_t rc = tlsb_dial(ctx, "127.0.0.1", port, 20000, &conn);
    if (rc != TLSB_OK)
        return rc;
    tlsb_conn_set_timeout(conn, 20000);
    char msg[64], got[64];
    int len = snprintf(msg, sizeof msg, "soak connection %d", i);
    rc = tlsb_conn_handshake(conn);
    if (rc == TLSB_OK)
        rc = tlsb_conn_write(conn, (const uint8_t *)msg, len) == len ? TLSB_OK : tlsb_last_status();
    int32_t total = 0, n = 0;
    while (rc == TLSB_OK && total < len && (n = tlsb_conn_read(conn, (uint8_t *)got + total, len - total)) > 0)
        total += n;
    if (rc == TLSB_OK && (total != len || memcmp(got, msg, (size_t)len) != 0))
        rc = n < 0 ? n : TLSB_ERR_INTERNAL;
    if (rc == TLSB_OK)
        rc = tlsb_conn_shutdown(conn);
    tlsb_conn_free(conn);
    return rc;
}

static void thousands_of_connections(void)
{
    alarm(120); /* a hang fails the test instead of stalling CI */
    struct server s = {.ctx = SERVER(opt("certificate", "server-ec.pem"), opt("certificate-key", "server-ec.key"))};
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_STATUS(tlsb_listen("127.0.0.1", 0, 16, &s.listener), TLSB_OK);
    if (!s.ctx || !client || !s.listener)
        return;
    int port = tlsb_listener_port(s.listener);
    pthread_create(&s.thread, NULL, serve, &s);
    long rss_warm = 0;
    int fds_warm = 0, done = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
        int32_t rc = one_connection(client, port, i);
        if (rc != TLSB_OK) {
            harness_fail(__FILE__, __LINE__, "connection %d: %s: %s", i, tlsb_status_name(rc), tlsb_last_error());
            break;
        }
        done++;
        if (done == WARM_UP) {
            rss_warm = rss_kb();
            fds_warm = open_fds();
        }
    }
    tlsb_listener_close(s.listener);
    pthread_join(s.thread, NULL);
    long rss_end = rss_kb();
    int fds_end = open_fds();
    printf("  %d connections; after %d: RSS %ld KiB, %d descriptors; at the end: RSS %ld KiB, %d descriptors\n", done,
           WARM_UP, rss_warm, fds_warm, rss_end, fds_end);
    CHECK(done == CONNECTIONS);
    if (s.failed)
        harness_fail(__FILE__, __LINE__, "server: %s: %s", tlsb_status_name(s.failed), s.error);
    CHECK(s.served == CONNECTIONS);
    if (fds_end - fds_warm > FD_TOLERANCE)
        harness_fail(__FILE__, __LINE__, "descriptors grew from %d to %d", fds_warm, fds_end);
    /* ASan's quarantine holds freed memory back on purpose; there its leak checker stands in. */
    if (!UNDER_ASAN && rss_end - rss_warm > RSS_TOLERANCE_KB)
        harness_fail(__FILE__, __LINE__, "RSS grew by %ld KiB (tolerance %d KiB)", rss_end - rss_warm,
                     RSS_TOLERANCE_KB);
    tlsb_listener_free(s.listener);
    tlsb_context_free(s.ctx);
    tlsb_context_free(client);
    alarm(0);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"thousands_of_connections", thousands_of_connections},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
