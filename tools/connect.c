/* `tlsbridge connect`: like `openssl s_client -quiet` — details to stderr, stdin to the peer,
 * the peer to stdout. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* After stdin ends and close_notify is sent, how long to wait for the peer's last bytes. */
#define DRAIN_MS 5000

struct reader {
    tlsb_conn *conn;
    int wake;   /* write end of a pipe: the reader is done */
    int status; /* exit code */
};

static void *read_peer(void *arg)
{
    struct reader *r = arg;
    uint8_t buf[16384];
    for (;;) {
        int32_t n = tlsb_conn_read(r->conn, buf, sizeof buf);
        if (n > 0) {
            if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
                break;
            fflush(stdout);
            continue;
        }
        if (n != TLSB_CLOSED && n != TLSB_ERR_HANDLE_CLOSED) {
            tool_report("read", n);
            r->status = EXIT_FAILED;
        }
        break;
    }
    (void)!write(r->wake, "x", 1);
    return NULL;
}

static int cmd_connect(int argc, char **argv)
{
    int status = tool_common_flags(&tool_connect, argc, argv);
    if (status >= 0)
        return status;
    argc -= optind;
    argv += optind;
    char host[256];
    int port;
    if (argc < 1 || tool_host_port(argv[0], "", host, sizeof host, &port) != 0 || port == 0) {
        fprintf(stderr, "tlsbridge connect: expected HOST:PORT, got '%s'\n", argc ? argv[0] : "");
        return EXIT_USAGE;
    }
    tlsb_context *ctx;
    if (tool_context(TLSB_ROLE_CLIENT, argc - 1, argv + 1, &ctx) != TLSB_OK)
        return EXIT_USAGE;
    tlsb_conn *conn = NULL;
    int32_t rc = tlsb_dial(ctx, host, port, 10000, &conn);
    if (rc == TLSB_OK && (rc = tlsb_conn_set_timeout(conn, 30000)) == TLSB_OK)
        rc = tlsb_conn_handshake(conn);
    tlsb_context_free(ctx);
    if (rc != TLSB_OK) {
        tool_report(conn ? "handshake" : "connect", rc);
        tlsb_conn_free(conn);
        return EXIT_FAILED;
    }
    tlsb_conn_set_timeout(conn, 0);
    tool_print_details(stderr, conn, "");

    int pipefd[2];
    if (pipe(pipefd) != 0) {
        perror("tlsbridge: pipe");
        tlsb_conn_free(conn);
        return EXIT_FAILED;
    }
    struct reader r = {conn, pipefd[1], 0};
    pthread_t tid;
    pthread_create(&tid, NULL, read_peer, &r);
    struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = pipefd[0], .events = POLLIN}};
    int stdin_open = 1, reader_done = 0;
    while (!reader_done) {
        int n = poll(p, 2, stdin_open ? -1 : DRAIN_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) /* the peer did not close in time after our close_notify */
            break;
        if (p[1].revents)
            reader_done = 1;
        else if (stdin_open && p[0].revents) {
            uint8_t buf[16384];
            ssize_t got = read(0, buf, sizeof buf);
            if (got > 0) {
                rc = tlsb_conn_write(conn, buf, (int32_t)got);
                if (rc < 0) {
                    tool_report("write", rc);
                    r.status = EXIT_FAILED;
                    break;
                }
            } else {
                stdin_open = 0;
                p[0].fd = -1;
                tlsb_conn_shutdown(conn);
            }
        }
    }
    tlsb_conn_close(conn); /* wakes the reader if it is still waiting */
    pthread_join(tid, NULL);
    close(pipefd[0]);
    close(pipefd[1]);
    tlsb_conn_free(conn);
    return r.status;
}

const struct tool_command tool_connect = {
    "connect",
    "HOST:PORT [NAME=VALUE ...]",
    "TLS client: stdin to the peer, the peer to stdout (like openssl s_client -quiet)",
    "  HOST:PORT         the server; [ADDRESS]:PORT for IPv6\n"
    "  NAME=VALUE        library options (docs/options.md), e.g. trusted-ca=ca.pem\n",
    "0 the session ended cleanly, 1 connect, handshake, read or write failure, 2 usage or option error",
    cmd_connect};
