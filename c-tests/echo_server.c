/* A one-connection TLS echo server on a thread, for tests that need our server as the peer. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"


void *echo_serve_one(void *arg)
{
    struct echo_server *s = arg;
    tlsb_conn *conn;
    if (tlsb_accept(s->listener, s->ctx, 10000, &conn) != TLSB_OK) {
        s->handshake = tlsb_last_status();
        snprintf(s->error, sizeof s->error, "%s", tlsb_last_error());
        return NULL;
    }
    tlsb_conn_set_timeout(conn, 10000);
    s->handshake = tlsb_conn_handshake(conn);
    if (s->handshake != TLSB_OK)
        snprintf(s->error, sizeof s->error, "%s", tlsb_last_error());
    else {
        snprintf(s->peer, sizeof s->peer, "%s", tlsb_conn_info(conn, TLSB_INFO_PEER_SUBJECT));
        snprintf(s->verify, sizeof s->verify, "%s", tlsb_conn_info(conn, TLSB_INFO_VERIFY));
    }
    uint8_t buf[16384];
    int32_t n = s->handshake;
    while (n >= 0 && (n = tlsb_conn_read(conn, buf, sizeof buf)) > 0)
        n = tlsb_conn_write(conn, buf, n);
    s->end = n;
    tlsb_conn_shutdown(conn);
    tlsb_conn_free(conn);
    return NULL;
}

int echo_start(struct echo_server *s, tlsb_context *ctx)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    if (!ctx || tlsb_listen("127.0.0.1", 0, 8, &s->listener) != TLSB_OK)
        return -1;
    pthread_create(&s->thread, NULL, echo_serve_one, s);
    return tlsb_listener_port(s->listener);
}

void echo_stop(struct echo_server *s)
{
    if (!s->listener)
        return;
    tlsb_listener_close(s->listener);
    pthread_join(s->thread, NULL);
    tlsb_listener_free(s->listener);
    tlsb_context_free(s->ctx);
}

