/* Host name resolution for tlsb_dial, with the per-context cache of dns-cache-ttl.
 *
 * getaddrinfo costs a netlink round trip (AI_ADDRCONFIG) and an /etc/hosts or DNS lookup on
 * every call: ~40 us for "localhost" here, 4 % of a resumed handshake. The JVM keeps a name for
 * 30 s (networkaddress.cache.ttl) and libcurl for 60 s; a context keeps it for its dns-cache-ttl
 * (default 30 s), and transport.c forgets an entry whose addresses all refuse a connection, so a
 * DNS fail-over is seen at the next dial instead of after the TTL. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Names kept per context; a client dials few distinct hosts. The oldest entry makes room. */
#define CACHED_HOSTS 16

typedef struct {
    char *host;
    int64_t expires_ms;
    int count;
    tlsb_address addresses[TLSB_RESOLVE_MAX];
} entry;

struct tlsb_resolver {
    pthread_mutex_t lock;
    int64_t ttl_ms;
    entry entries[CACHED_HOSTS];
};

tlsb_resolver *tlsb_resolver_new(int32_t ttl_seconds)
{
    tlsb_resolver *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->ttl_ms = (int64_t)ttl_seconds * 1000;
    return r;
}

void tlsb_resolver_free(tlsb_resolver *r)
{
    if (!r)
        return;
    for (int i = 0; i < CACHED_HOSTS; i++)
        free(r->entries[i].host);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static void set_port(tlsb_address *a, int32_t port)
{
    if (a->addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->addr)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)&a->addr)->sin_port = htons((uint16_t)port);
}

/* The live entry for host, or NULL; called with the lock held. */
static entry *find(tlsb_resolver *r, const char *host, int64_t now)
{
    for (int i = 0; i < CACHED_HOSTS; i++) {
        entry *e = &r->entries[i];
        if (e->host && e->expires_ms > now && strcmp(e->host, host) == 0)
            return e;
    }
    return NULL;
}

static void remember(tlsb_resolver *r, const char *host, const tlsb_address *addresses, int count, int64_t now)
{
    char *copy = strdup(host);
    if (!copy)
        return; /* not cached: the next dial resolves again */
    pthread_mutex_lock(&r->lock);
    entry *slot = &r->entries[0];
    for (int i = 0; i < CACHED_HOSTS; i++) {
        entry *e = &r->entries[i];
        if (!e->host || strcmp(e->host, host) == 0) {
            slot = e;
            break;
        }
        if (e->expires_ms < slot->expires_ms)
            slot = e;
    }
    free(slot->host);
    slot->host = copy;
    slot->expires_ms = now + r->ttl_ms;
    slot->count = count;
    memcpy(slot->addresses, addresses, (size_t)count * sizeof *addresses);
    pthread_mutex_unlock(&r->lock);
}

int32_t tlsb_resolve(tlsb_resolver *r, const char *host, int32_t port, tlsb_address *out, int *cached)
{
    int64_t now = tlsb_now_ms();
    *cached = 0;
    if (r && r->ttl_ms > 0) {
        pthread_mutex_lock(&r->lock);
        entry *e = find(r, host, now);
        int count = e ? e->count : 0;
        if (e)
            memcpy(out, e->addresses, (size_t)count * sizeof *out);
        pthread_mutex_unlock(&r->lock);
        if (count) {
            for (int i = 0; i < count; i++)
                set_port(&out[i], port);
            *cached = 1;
            return count;
        }
    }
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res;
    int g = getaddrinfo(host, service, &hints, &res);
    if (g != 0)
        return tlsb_fail(TLSB_ERR_RESOLVE, "dial %s:%d: cannot resolve '%s': %s", host, port, host, gai_strerror(g));
    int count = 0;
    for (struct addrinfo *ai = res; ai && count < TLSB_RESOLVE_MAX; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[count].addr)
            continue;
        tlsb_address *a = &out[count++];
        a->family = ai->ai_family;
        a->socktype = ai->ai_socktype;
        a->protocol = ai->ai_protocol;
        a->len = ai->ai_addrlen;
        memcpy(&a->addr, ai->ai_addr, ai->ai_addrlen);
    }
    freeaddrinfo(res);
    if (!count)
        return tlsb_fail(TLSB_ERR_RESOLVE, "dial %s:%d: '%s' has no usable address", host, port, host);
    if (r && r->ttl_ms > 0)
        remember(r, host, out, count, now);
    return count;
}

void tlsb_resolver_forget(tlsb_resolver *r, const char *host)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < CACHED_HOSTS; i++) {
        entry *e = &r->entries[i];
        if (e->host && strcmp(e->host, host) == 0) {
            free(e->host);
            e->host = NULL;
        }
    }
    pthread_mutex_unlock(&r->lock);
}
