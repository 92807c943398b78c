/* Listening sockets for socket-mode servers (Java cannot hand a descriptor to the core). */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

struct tlsb_listener {
    int fd;
    int32_t port;
    atomic_int closed;
};

TLSB_API int32_t tlsb_listen(const char *host, int32_t port, int32_t backlog, tlsb_listener **out)
{
    if (!out)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_listen: out is NULL");
    if (port < 0 || port > 65535)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_listen: port %d is out of range 0-65535", port);
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    const char *node = host && *host ? host : NULL;
    int g = getaddrinfo(node, service, &hints, &res);
    if (g != 0)
        return tlsb_fail(TLSB_ERR_RESOLVE, "listen: cannot resolve '%s': %s", node ? node : "*", gai_strerror(g));
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog > 0 ? backlog : 128) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return tlsb_fail(TLSB_ERR_IO, "listen on %s:%d: %s", node ? node : "*", port, strerror(err));
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    tlsb_listener *l = calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    }
    l->fd = fd;
    l->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                             : ((struct sockaddr_in *)&sa)->sin_port);
    atomic_init(&l->closed, 0);
    *out = l;
    return TLSB_OK;
}

TLSB_API int32_t tlsb_listener_port(tlsb_listener *l)
{
    if (!l)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_listener_port: listener is NULL");
    return l->port;
}

TLSB_API int32_t tlsb_accept(tlsb_listener *l, tlsb_context *ctx, int32_t timeout_ms, tlsb_conn **out)
{
    if (!l || !ctx || !out)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_accept: %s is NULL", !l ? "listener" : !ctx ? "context" : "out");
    if (ctx->role != TLSB_ROLE_SERVER)
        return tlsb_fail(TLSB_ERR_STATE, "tlsb_accept: the context is a client context");
    for (;;) {
        if (atomic_load(&l->closed))
            return tlsb_fail(TLSB_ERR_HANDLE_CLOSED, "accept: the listener is closed");
        int32_t w = tlsb_wait_fd(l->fd, POLLIN, timeout_ms);
        if (atomic_load(&l->closed))
            return tlsb_fail(TLSB_ERR_HANDLE_CLOSED, "accept: the listener is closed");
        if (w == TLSB_ERR_TIMEOUT)
            return tlsb_fail(TLSB_ERR_TIMEOUT, "accept: no connection within %d ms", timeout_ms);
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
                continue;
            return tlsb_fail(TLSB_ERR_IO, "accept: %s", strerror(errno));
        }
        tlsb_tcp_tune(fd);
        int32_t rc = tlsb_conn_adopt(ctx, fd, out);
        if (rc != TLSB_OK)
            close(fd);
        return rc;
    }
}

TLSB_API int32_t tlsb_listener_close(tlsb_listener *l)
{
    if (!l)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_listener_close: listener is NULL");
    /* Wakes a thread blocked in poll/accept; the descriptor is closed by tlsb_listener_free. */
    if (!atomic_exchange(&l->closed, 1))
        shutdown(l->fd, SHUT_RDWR);
    return TLSB_OK;
}

TLSB_API void tlsb_listener_free(tlsb_listener *l)
{
    if (!l)
        return;
    close(l->fd);
    free(l);
}
