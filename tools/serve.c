/* `tlsbridge serve`: a TLS echo server, one thread per connection. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct session {
    tlsb_conn *conn;
    unsigned id;
};

static void *echo(void *arg)
{
    struct session *s = arg;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "[%u] ", s->id);
    int32_t rc = tlsb_conn_set_timeout(s->conn, 30000);
    if (rc == TLSB_OK)
        rc = tlsb_conn_handshake(s->conn);
    pthread_mutex_lock(&out_lock);
    if (rc == TLSB_OK)
        tool_print_details(stdout, s->conn, prefix);
    else {
        printf("%shandshake failed: %s: %s\n", prefix, tlsb_status_name(rc), tlsb_last_error());
        fflush(stdout);
    }
    pthread_mutex_unlock(&out_lock);
    tlsb_conn_set_timeout(s->conn, 0);
    uint8_t buf[16384];
    while (rc == TLSB_OK) {
        int32_t n = tlsb_conn_read(s->conn, buf, sizeof buf);
        if (n <= 0) {
            if (n != TLSB_CLOSED) {
                pthread_mutex_lock(&out_lock);
                printf("%sread ended: %s: %s\n", prefix, tlsb_status_name(n), tlsb_last_error());
                fflush(stdout);
                pthread_mutex_unlock(&out_lock);
            }
            break;
        }
        if ((rc = tlsb_conn_write(s->conn, buf, n)) >= 0)
            rc = TLSB_OK;
    }
    tlsb_conn_shutdown(s->conn);
    tlsb_conn_free(s->conn);
    free(s);
    return NULL;
}

static int cmd_serve(int argc, char **argv)
{
    int status = tool_common_flags(&tool_serve, argc, argv);
    if (status >= 0)
        return status;
    argc -= optind;
    argv += optind;
    char host[256];
    int port;
    if (argc < 1 || tool_host_port(argv[0], "127.0.0.1", host, sizeof host, &port) != 0) {
        fprintf(stderr, "tlsbridge serve: expected [HOST:]PORT, got '%s'\n", argc ? argv[0] : "");
        return EXIT_USAGE;
    }
    tlsb_context *ctx;
    if (tool_context(TLSB_ROLE_SERVER, argc - 1, argv + 1, &ctx) != TLSB_OK)
        return EXIT_USAGE;
    tlsb_listener *l;
    int32_t rc = tlsb_listen(host, port, 128, &l);
    if (rc != TLSB_OK) {
        tool_report("listen", rc);
        tlsb_context_free(ctx);
        return EXIT_FAILED;
    }
    printf("listening on %d\n", tlsb_listener_port(l));
    fflush(stdout);
    for (unsigned id = 1;; id++) {
        tlsb_conn *conn;
        rc = tlsb_accept(l, ctx, 0, &conn);
        if (rc != TLSB_OK) {
            tool_report("accept", rc);
            continue;
        }
        struct session *s = malloc(sizeof *s);
        pthread_t tid;
        if (!s) {
            tlsb_conn_free(conn);
            continue;
        }
        s->conn = conn;
        s->id = id;
        if (pthread_create(&tid, NULL, echo, s) != 0) {
            tlsb_conn_free(conn);
            free(s);
            continue;
        }
        pthread_detach(tid);
    }
}

const struct tool_command tool_serve = {
    "serve",
    "[HOST:]PORT [NAME=VALUE ...]",
    "TLS echo server, one thread per connection (prints \"listening on PORT\")",
    "  [HOST:]PORT       where to listen (default host 127.0.0.1; PORT 0: any free port)\n"
    "  NAME=VALUE        library options (docs/options.md); certificate= and certificate-key= are needed\n",
    "runs until killed; 1 cannot listen, 2 usage or option error",
    cmd_serve};
