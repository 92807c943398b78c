/* TCP for socket mode: dialling with a timeout, and the socket options every connection gets. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>

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

int64_t tlsb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One address: non-blocking connect and wait; the socket stays non-blocking, as connections use it. */
static int32_t try_connect(const tlsb_address *a, int32_t timeout_ms, int *err)
{
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->protocol);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    int r = connect(fd, (const struct sockaddr *)&a->addr, a->len);
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
    tlsb_tcp_tune(fd);
    return fd;
}

/* The first of the addresses that accepts a connection before the deadline (0: none). */
static int32_t connect_any(const tlsb_address *addresses, int count, int64_t deadline, int *err)
{
    int32_t fd = -1;
    for (int i = 0; i < count && fd < 0; i++) {
        int32_t left = 0;
        if (deadline) {
            left = (int32_t)(deadline - tlsb_now_ms());
            if (left <= 0) {
                *err = ETIMEDOUT;
                break;
            }
        }
        fd = try_connect(&addresses[i], left, err);
    }
    return fd;
}

int32_t tlsb_tcp_dial(tlsb_resolver *resolver, const char *host, int32_t port, int32_t timeout_ms)
{
    if (port <= 0 || port > 65535)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "dial %s: port %d is out of range 1-65535", host, port);
    int64_t deadline = timeout_ms > 0 ? tlsb_now_ms() + timeout_ms : 0;
    tlsb_address addresses[TLSB_RESOLVE_MAX];
    int cached, err = 0;
    int32_t count = tlsb_resolve(resolver, host, port, addresses, &cached);
    if (count < 0)
        return count;
    int32_t fd = connect_any(addresses, count, deadline, &err);
    /* Cached addresses that all refuse may be stale (a fail-over): resolve afresh and try once more. */
    if (fd < 0 && cached && err != ETIMEDOUT) {
        tlsb_resolver_forget(resolver, host);
        if ((count = tlsb_resolve(resolver, host, port, addresses, &cached)) < 0)
            return count;
        fd = connect_any(addresses, count, deadline, &err);
    }
    if (fd >= 0)
        return fd;
    if (err == ETIMEDOUT)
        return tlsb_fail(TLSB_ERR_TIMEOUT, "dial %s:%d: no connection within %d ms", host, port, timeout_ms);
    return tlsb_fail(TLSB_ERR_CONNECT, "dial %s:%d: %s", host, port, strerror(err));
}

/* A socket BIO that sends with MSG_NOSIGNAL: a peer that vanished must give an error, not a
 * SIGPIPE that kills a process which never asked for one (a JVM, a CLR, a C service). */
static int bio_write(BIO *b, const char *buf, int len)
{
    ssize_t n = send((int)BIO_get_fd(b, NULL), buf, (size_t)len, MSG_NOSIGNAL);
    BIO_clear_retry_flags(b);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    ssize_t n = recv((int)BIO_get_fd(b, NULL), buf, (size_t)len, 0);
    BIO_clear_retry_flags(b);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    switch (cmd) {
    case BIO_C_SET_FD:
        BIO_set_data(b, (void *)(intptr_t)*(int *)ptr);
        BIO_set_init(b, 1);
        return 1;
    case BIO_C_GET_FD:
        if (ptr)
            *(int *)ptr = (int)(intptr_t)BIO_get_data(b);
        return (long)(intptr_t)BIO_get_data(b);
    case BIO_CTRL_FLUSH:
        return 1;
    default:
        return 0;
    }
}

static BIO_METHOD *socket_method;
static CRYPTO_ONCE socket_method_once = CRYPTO_ONCE_STATIC_INIT;

static void make_socket_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "tlsbridge socket");
    if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) && BIO_meth_set_ctrl(m, bio_ctrl))
        socket_method = m;
    else
        BIO_meth_free(m);
}

BIO *tlsb_socket_bio(int fd)
{
    if (!CRYPTO_THREAD_run_once(&socket_method_once, make_socket_method) || !socket_method)
        return NULL;
    BIO *b = BIO_new(socket_method);
    if (b)
        BIO_set_fd(b, fd, BIO_NOCLOSE);
    return b;
}
