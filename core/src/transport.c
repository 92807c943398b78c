/* TCP for socket mode: dialling with a timeout, and the socket options every connection gets. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

void tlsb_tcp_tune(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int32_t tlsb_wait_fd(int fd, short events, int32_t timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int r = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
        if (r > 0)
            return TLSB_OK;
        if (r == 0)
            return TLSB_ERR_TIMEOUT;
        if (errno != EINTR)
            return TLSB_ERR_IO;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One address: non-blocking connect, wait, then back to blocking. */
static int32_t try_connect(const struct addrinfo *ai, int32_t timeout_ms, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
        int32_t w = tlsb_wait_fd(fd, POLLOUT, timeout_ms);
        socklen_t len = sizeof *err;
        if (w == TLSB_ERR_TIMEOUT) {
            *err = ETIMEDOUT;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) == 0 && *err == 0) {
            r = 0;
        }
    } else if (r != 0) {
        *err = errno;
    }
    if (r != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, flags);
    tlsb_tcp_tune(fd);
    return fd;
}

int32_t tlsb_tcp_dial(const char *host, int32_t port, int32_t timeout_ms)
{
    if (port <= 0 || port > 65535)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "dial %s: port %d is out of range 1-65535", host, port);
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res;
    int g = getaddrinfo(host, service, &hints, &res);
    if (g != 0)
        return tlsb_fail(TLSB_ERR_RESOLVE, "dial %s:%d: cannot resolve '%s': %s", host, port, host, gai_strerror(g));
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    int err = 0, fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int32_t left = 0;
        if (deadline) {
            left = (int32_t)(deadline - now_ms());
            if (left <= 0) {
                err = ETIMEDOUT;
                break;
            }
        }
        fd = try_connect(ai, left, &err);
    }
    freeaddrinfo(res);
    if (fd >= 0)
        return fd;
    if (err == ETIMEDOUT)
        return tlsb_fail(TLSB_ERR_TIMEOUT, "dial %s:%d: no connection within %d ms", host, port, timeout_ms);
    return tlsb_fail(TLSB_ERR_CONNECT, "dial %s:%d: %s", host, port, strerror(err));
}
