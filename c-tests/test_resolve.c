/* tlsb_dial's resolution cache (dns-cache-ttl; core/src/resolve.c). This program defines
 * getaddrinfo, which the library's calls then reach first, to count the lookups it makes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static atomic_int lookups;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    atomic_fetch_add(&lookups, 1);
    return real(node, service, hints, res);
}

/* A TCP listener: tlsb_dial returns once TCP connects, before any TLS. */
static tlsb_listener *listener(void)
{
    tlsb_listener *l = NULL;
    CHECK_STATUS(tlsb_listen("127.0.0.1", 0, 16, &l), TLSB_OK);
    return l;
}

static int32_t dial(tlsb_context *client, const char *host, int port)
{
    tlsb_conn *conn = NULL;
    int32_t rc = tlsb_dial(client, host, port, 5000, &conn);
    tlsb_conn_free(conn);
    return rc;
}

static void a_name_is_resolved_once(void)
{
    tlsb_listener *a = listener(), *b = listener();
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_CONTAINS(tlsb_context_settings(client), "dns-cache-ttl: 30s\n");
    atomic_store(&lookups, 0);
    CHECK_STATUS(dial(client, "localhost", tlsb_listener_port(a)), TLSB_OK);
    CHECK_STATUS(dial(client, "localhost", tlsb_listener_port(a)), TLSB_OK);
    /* The port is not part of the name: the second listener's dial finds it cached too. */
    CHECK_STATUS(dial(client, "localhost", tlsb_listener_port(b)), TLSB_OK);
    CHECK(atomic_load(&lookups) == 1);
    /* Each context has its own cache. */
    tlsb_context *other = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_STATUS(dial(other, "localhost", tlsb_listener_port(a)), TLSB_OK);
    CHECK(atomic_load(&lookups) == 2);
    tlsb_context_free(other);
    tlsb_context_free(client);
    tlsb_listener_free(a);
    tlsb_listener_free(b);
}

static void ttl_zero_resolves_every_time(void)
{
    tlsb_listener *l = listener();
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), "dns-cache-ttl=0");
    CHECK_CONTAINS(tlsb_context_settings(client), "dns-cache-ttl: 0s\n");
    atomic_store(&lookups, 0);
    CHECK_STATUS(dial(client, "localhost", tlsb_listener_port(l)), TLSB_OK);
    CHECK_STATUS(dial(client, "localhost", tlsb_listener_port(l)), TLSB_OK);
    CHECK(atomic_load(&lookups) == 2);
    tlsb_context_free(client);
    tlsb_listener_free(l);
}

static void an_entry_expires(void)
{
    tlsb_listener *l = listener();
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), "dns-cache-ttl=1");
    atomic_store(&lookups, 0);
    CHECK_STATUS(dial(client, "localhost", tlsb_listener_port(l)), TLSB_OK);
    usleep(1100 * 1000);
    CHECK_STATUS(dial(client, "localhost", tlsb_listener_port(l)), TLSB_OK);
    CHECK(atomic_load(&lookups) == 2);
    tlsb_context_free(client);
    tlsb_listener_free(l);
}

/* Cached addresses that all refuse are resolved afresh and tried once more (a fail-over), and
 * the refusal is still reported as such. */
static void a_refused_address_is_resolved_again(void)
{
    tlsb_listener *l = listener();
    int port = tlsb_listener_port(l);
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    atomic_store(&lookups, 0);
    CHECK_STATUS(dial(client, "localhost", port), TLSB_OK);
    tlsb_listener_free(l);
    CHECK_STATUS(dial(client, "localhost", port), TLSB_ERR_CONNECT);
    CHECK_CONTAINS(tlsb_last_error(), "dial localhost:");
    CHECK_CONTAINS(tlsb_last_error(), "refused");
    CHECK(atomic_load(&lookups) == 2);
    /* The fresh resolution was kept: a listener back on the port is reached without a lookup. */
    CHECK_STATUS(tlsb_listen("127.0.0.1", port, 16, &l), TLSB_OK);
    atomic_store(&lookups, 0);
    CHECK_STATUS(dial(client, "localhost", port), TLSB_OK);
    CHECK(atomic_load(&lookups) == 0);
    tlsb_context_free(client);
    tlsb_listener_free(l);
}

static void failures_are_not_cached(void)
{
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    atomic_store(&lookups, 0);
    CHECK_STATUS(dial(client, "no-such-host.invalid", 443), TLSB_ERR_RESOLVE);
    CHECK_CONTAINS(tlsb_last_error(), "cannot resolve 'no-such-host.invalid'");
    CHECK_STATUS(dial(client, "no-such-host.invalid", 443), TLSB_ERR_RESOLVE);
    CHECK(atomic_load(&lookups) == 2);
    tlsb_context_free(client);
}

/* More names than the cache holds: the oldest make room and every dial still works. */
static void many_names(void)
{
    tlsb_listener *l = listener();
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    char host[32];
    for (int round = 0; round < 2; round++)
        for (int i = 1; i <= 40; i++) {
            snprintf(host, sizeof host, "127.0.0.%d", i);
            CHECK_STATUS(dial(client, host, tlsb_listener_port(l)), i == 1 ? TLSB_OK : TLSB_ERR_CONNECT);
        }
    tlsb_context_free(client);
    tlsb_listener_free(l);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"a_name_is_resolved_once", a_name_is_resolved_once},
        {"ttl_zero_resolves_every_time", ttl_zero_resolves_every_time},
        {"an_entry_expires", an_entry_expires},
        {"a_refused_address_is_resolved_again", a_refused_address_is_resolved_again},
        {"failures_are_not_cached", failures_are_not_cached},
        {"many_names", many_names},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
