/* Bad input, table-driven: every file option given a file that cannot serve, and peers that stall,
 * vanish, speak plain TCP or answer with an alert. Each row gets its documented status and a
 * message naming what was wrong; the process survives, leaks no descriptor, and never hangs
 * (each row runs under alarm()). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* A row that hangs fails the suite with its name instead of stalling CI. */
static const char *current_row = "";

static void on_alarm(int sig)
{
    (void)!write(2, "  hung in row: ", 15);
    (void)!write(2, current_row, strlen(current_row));
    (void)!write(2, "\n", 1);
    _exit(3);
}

static void guard(const char *row, unsigned seconds)
{
    current_row = row;
    signal(SIGALRM, on_alarm);
    alarm(seconds);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- files ------------------------------------------------------------------------------ */

static char tmp[64];

static const char *tmp_path(const char *name)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", tmp, name);
    return p;
}

static void write_file(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(tmp_path(name), "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    if (f)
        fclose(f);
}

static size_t read_pki(const char *pki_file, char *buf, size_t size)
{
    FILE *f = fopen(cert(pki_file), "rb");
    size_t n = f ? fread(buf, 1, size, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 100);
    return n;
}

/* `intact` whole (when given), then the first half of `cut`: a PEM block with no end line. */
static void write_truncated(const char *name, const char *intact, const char *cut)
{
    static char buf[65536];
    size_t n = intact ? read_pki(intact, buf, sizeof buf / 2) : 0;
    n += read_pki(cut, buf + n, sizeof buf / 2) / 2;
    write_file(name, buf, n);
}

static void make_files(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/tlsb-badinput-XXXXXX");
    CHECK(mkdtemp(tmp) != NULL);
    CHECK(mkdir(tmp_path("directory"), 0700) == 0);
    write_file("empty.pem", "", 0);
    static const uint8_t garbage[] = {0x30, 0x82, 0xff, 0xff, 0x00, 0x00, 0xfe, '-',  '-',  '-',  '-',  '-', 'B',
                                      'E',  'G',  'I',  'N',  0x00, 0x80, 0xc3, 0x28, '\n', 0x01, 0x02, 0x03};
    write_file("garbage.bin", garbage, sizeof garbage);
    write_truncated("truncated-certificate.pem", NULL, "server.pem");
    write_truncated("truncated-certificate-key.pem", NULL, "server.key");
    write_truncated("truncated-trusted-ca.pem", NULL, "ca.pem");
    write_truncated("truncated-tls-crl.pem", NULL, "crl-ca.pem");
    write_truncated("truncated-tail-certificate.pem", "server.pem", "ca.pem");
    write_truncated("truncated-tail-trusted-ca.pem", "ca.pem", "other-ca.pem");
    write_truncated("truncated-tail-tls-crl.pem", "crl-ca.pem", "crl-inter.pem");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "openssl pkey -in '%s' -aes256 -passout pass:secret -out '%s' 2>/dev/null",
             cert("server.key"), tmp_path("encrypted.key"));
    CHECK(system(cmd) == 0);
}

static void remove_files(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
}

/* What the file given to the option is. */
enum input { MISSING, DIRECTORY, EMPTY, GARBAGE, TRUNCATED, TRUNCATED_TAIL, WRONG_TYPE, MISMATCHED, ENCRYPTED };
static const char *const input_names[] = {"missing",        "directory",  "empty",      "garbage",  "truncated",
                                          "truncated-tail", "wrong-type", "mismatched", "encrypted"};

struct file_row {
    const char *option;
    enum input input;
    int32_t status;
    const char *says; /* in the message besides the option and the path, or NULL */
};

static const struct file_row file_rows[] = {
    {"certificate", MISSING, TLSB_ERR_FILE, "cannot open"},
    {"certificate", DIRECTORY, TLSB_ERR_FILE, NULL},
    {"certificate", EMPTY, TLSB_ERR_FILE, "no PEM certificate"},
    {"certificate", GARBAGE, TLSB_ERR_FILE, "no PEM certificate"},
    {"certificate", TRUNCATED, TLSB_ERR_FILE, "PEM block 1 is not valid PEM"},
    {"certificate", TRUNCATED_TAIL, TLSB_ERR_FILE, "PEM block 2"},
    {"certificate", WRONG_TYPE, TLSB_ERR_FILE, "no PEM certificate"},
    {"certificate", MISMATCHED, TLSB_ERR_KEY_MISMATCH, "does not match"},
    {"certificate-key", MISSING, TLSB_ERR_FILE, "cannot open"},
    {"certificate-key", DIRECTORY, TLSB_ERR_FILE, NULL},
    {"certificate-key", EMPTY, TLSB_ERR_FILE, "private key"},
    {"certificate-key", GARBAGE, TLSB_ERR_FILE, "private key"},
    {"certificate-key", TRUNCATED, TLSB_ERR_FILE, "private key"},
    {"certificate-key", WRONG_TYPE, TLSB_ERR_FILE, "private key"},
    {"certificate-key", MISMATCHED, TLSB_ERR_KEY_MISMATCH, "does not match"},
    {"certificate-key", ENCRYPTED, TLSB_ERR_FILE, "is encrypted"},
    {"trusted-ca", MISSING, TLSB_ERR_FILE, "cannot open"},
    {"trusted-ca", DIRECTORY, TLSB_ERR_FILE, "no PEM certificate"},
    {"trusted-ca", EMPTY, TLSB_ERR_FILE, "no PEM certificate"},
    {"trusted-ca", GARBAGE, TLSB_ERR_FILE, "no PEM certificate"},
    {"trusted-ca", TRUNCATED, TLSB_ERR_FILE, "PEM block 1 is not valid PEM"},
    {"trusted-ca", TRUNCATED_TAIL, TLSB_ERR_FILE, "PEM block 2"},
    {"trusted-ca", WRONG_TYPE, TLSB_ERR_FILE, "no PEM certificate"},
    {"tls-crl", MISSING, TLSB_ERR_FILE, "cannot open"},
    {"tls-crl", DIRECTORY, TLSB_ERR_FILE, "no PEM CRL"},
    {"tls-crl", EMPTY, TLSB_ERR_FILE, "no PEM CRL"},
    {"tls-crl", GARBAGE, TLSB_ERR_FILE, "no PEM CRL"},
    {"tls-crl", TRUNCATED, TLSB_ERR_FILE, "PEM block 1 is not valid PEM"},
    {"tls-crl", TRUNCATED_TAIL, TLSB_ERR_FILE, "PEM block 2"},
    {"tls-crl", WRONG_TYPE, TLSB_ERR_FILE, "no PEM CRL"},
};

/* The path that holds the bad input for the row's option. */
static const char *bad_path(const struct file_row *r)
{
    static char name[128];
    int key = strcmp(r->option, "certificate-key") == 0;
    switch (r->input) {
    case MISSING:
        return tmp_path("missing.pem");
    case DIRECTORY:
        return tmp_path("directory");
    case EMPTY:
        return tmp_path("empty.pem");
    case GARBAGE:
        return tmp_path("garbage.bin");
    case TRUNCATED:
    case TRUNCATED_TAIL:
        snprintf(name, sizeof name, "truncated-%s%s.pem", r->input == TRUNCATED_TAIL ? "tail-" : "", r->option);
        return tmp_path(name);
    case WRONG_TYPE: /* a key where a certificate or CRL is expected, and the reverse */
        return cert(key ? "server.pem" : "server.key");
    case MISMATCHED: /* a pair that does not belong together, whichever half is wrong */
        return cert(key ? "mismatch.key" : "client.pem");
    case ENCRYPTED:
        return tmp_path("encrypted.key");
    }
    return NULL;
}

static void file_row(const struct file_row *r)
{
    char row[128], given[4200];
    snprintf(row, sizeof row, "%s=%s", r->option, input_names[r->input]);
    const char *path = bad_path(r);
    snprintf(given, sizeof given, "%s=%s", r->option, path);
    int fds = open_fds();
    guard(row, 20);
    int32_t rc;
    if (strcmp(r->option, "certificate") == 0)
        rc = context_status(TLSB_ROLE_SERVER, given, opt("certificate-key", "server.key"), NULL);
    else if (strcmp(r->option, "certificate-key") == 0)
        rc = context_status(TLSB_ROLE_SERVER, opt("certificate", "server.pem"), given, NULL);
    else if (strcmp(r->option, "trusted-ca") == 0)
        rc = context_status(TLSB_ROLE_CLIENT, given, NULL);
    else
        rc = context_status(TLSB_ROLE_CLIENT, opt("trusted-ca", "ca.pem"), given, NULL);
    alarm(0);
    const char *msg = tlsb_last_error();
    if (rc != r->status)
        harness_fail(__FILE__, __LINE__, "%s: got %s, expected %s: %s", row, tlsb_status_name(rc),
                     tlsb_status_name(r->status), msg);
    if (rc != TLSB_OK && (!strstr(msg, r->option) || !strstr(msg, path) || (r->says && !strstr(msg, r->says))))
        harness_fail(__FILE__, __LINE__, "%s: the message '%s' does not contain '%s', '%s'%s%s%s", row, msg, r->option,
                     path, r->says ? " and '" : "", r->says ? r->says : "", r->says ? "'" : "");
    if (open_fds() != fds)
        harness_fail(__FILE__, __LINE__, "%s: %d descriptors open before, %d after", row, fds, open_fds());
}

static void files(void)
{
    make_files();
    for (size_t i = 0; i < sizeof file_rows / sizeof file_rows[0]; i++)
        file_row(&file_rows[i]);
    remove_files();
}

/* ---- peers -------------------------------------------------------------------------------- */

/* A raw TCP server on a thread for one connection: it reads up to `wait_for` bytes (the
 * ClientHello, or nothing), sends `reply`, then either closes at once (vanishes) or keeps the
 * connection until the client closes it. */
struct raw_server {
    int listen_fd, port;
    int wait_for;
    const uint8_t *reply;
    size_t reply_len;
    int vanish;
    pthread_t thread;
};

static void *raw_serve(void *arg)
{
    struct raw_server *s = arg;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    uint8_t buf[4096];
    if (s->wait_for)
        (void)!read(fd, buf, sizeof buf);
    if (s->reply_len)
        (void)!write(fd, s->reply, s->reply_len);
    while (!s->vanish && read(fd, buf, sizeof buf) > 0)
        ;
    close(fd);
    return NULL;
}

static void raw_server_start(struct raw_server *s)
{
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    CHECK(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s->listen_fd, 1) == 0);
    getsockname(s->listen_fd, (struct sockaddr *)&sa, &len);
    s->port = ntohs(sa.sin_port);
    pthread_create(&s->thread, NULL, raw_serve, s);
}

static void raw_server_stop(struct raw_server *s)
{
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
}

/* The client's handshake against a raw server; the status, with the message in tlsb_last_error(). */
static int32_t client_against(struct raw_server *s, int timeout_ms, char *msg, size_t size)
{
    tlsb_context *ctx = CLIENT(opt("trusted-ca", "ca.pem"));
    raw_server_start(s);
    tlsb_conn *conn = NULL;
    int32_t rc = tlsb_dial(ctx, "127.0.0.1", s->port, 5000, &conn);
    if (rc == TLSB_OK) {
        tlsb_conn_set_timeout(conn, timeout_ms);
        rc = tlsb_conn_handshake(conn);
    }
    snprintf(msg, size, "%s", tlsb_last_error());
    tlsb_conn_free(conn); /* the server sees the close and ends */
    raw_server_stop(s);
    tlsb_context_free(ctx);
    return rc;
}

/* Our server's handshake against a raw client that sends `bytes`, then stalls or vanishes. */
static int32_t server_against(const void *bytes, size_t len, int vanish, int timeout_ms, char *msg, size_t size)
{
    tlsb_context *ctx = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"));
    tlsb_listener *l = NULL;
    CHECK_STATUS(tlsb_listen("127.0.0.1", 0, 1, &l), TLSB_OK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)tlsb_listener_port(l)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    if (len)
        CHECK(write(fd, bytes, len) == (ssize_t)len);
    if (vanish)
        close(fd);
    tlsb_conn *conn = NULL;
    int32_t rc = tlsb_accept(l, ctx, 5000, &conn);
    if (rc == TLSB_OK) {
        tlsb_conn_set_timeout(conn, timeout_ms);
        rc = tlsb_conn_handshake(conn);
    }
    snprintf(msg, size, "%s", tlsb_last_error());
    tlsb_conn_free(conn);
    if (!vanish)
        close(fd);
    tlsb_listener_close(l);
    tlsb_listener_free(l);
    tlsb_context_free(ctx);
    return rc;
}

/* A fatal handshake_failure alert, as a TLS 1.2 record. */
static const uint8_t alert_record[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
static const char http_response[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
static const char http_request[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
/* The start of a ClientHello record: a record header that promises more than ever comes. */
static const uint8_t partial_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};

struct peer_row {
    const char *name;
    int32_t status;
    const char *says;
};

static void check_peer_row(const struct peer_row *r, int32_t rc, const char *msg, int fds)
{
    if (rc != r->status)
        harness_fail(__FILE__, __LINE__, "%s: got %s, expected %s: %s", r->name, tlsb_status_name(rc),
                     tlsb_status_name(r->status), msg);
    if (r->says && !strstr(msg, r->says))
        harness_fail(__FILE__, __LINE__, "%s: the message '%s' does not say '%s'", r->name, msg, r->says);
    if (open_fds() != fds)
        harness_fail(__FILE__, __LINE__, "%s: %d descriptors open before, %d after", r->name, fds, open_fds());
}

static void stalled_peers(void)
{
    char msg[1536];
    const struct peer_row server = {"server accepts TCP and sends nothing", TLSB_ERR_TIMEOUT, "timed out after 300 ms"};
    int fds = open_fds();
    guard(server.name, 20);
    long long start = now_ms();
    struct raw_server s = {0};
    int32_t rc = client_against(&s, 300, msg, sizeof msg);
    long long took = now_ms() - start;
    alarm(0);
    check_peer_row(&server, rc, msg, fds);
    /* A bound, not a speed measurement: the timeout must end the wait at all. */
    CHECK(took < 10000);

    const struct peer_row client = {"client connects and sends nothing", TLSB_ERR_TIMEOUT, "timed out after 300 ms"};
    fds = open_fds();
    guard(client.name, 20);
    start = now_ms();
    rc = server_against(NULL, 0, 0, 300, msg, sizeof msg);
    took = now_ms() - start;
    alarm(0);
    check_peer_row(&client, rc, msg, fds);
    CHECK(took < 10000);
}

static void vanishing_peers(void)
{
    char msg[1536];
    const struct peer_row server = {"server closes after the ClientHello", TLSB_ERR_PEER_RESET,
                                    "without close_notify during the handshake"};
    int fds = open_fds();
    guard(server.name, 20);
    struct raw_server s = {.wait_for = 1, .vanish = 1};
    int32_t rc = client_against(&s, 5000, msg, sizeof msg);
    alarm(0);
    check_peer_row(&server, rc, msg, fds);

    const struct peer_row client = {"client closes in the middle of its ClientHello", TLSB_ERR_PEER_RESET,
                                    "without close_notify during the handshake"};
    fds = open_fds();
    guard(client.name, 20);
    rc = server_against(partial_hello, sizeof partial_hello, 1, 5000, msg, sizeof msg);
    alarm(0);
    check_peer_row(&client, rc, msg, fds);
}

static void plain_tcp_peers(void)
{
    char msg[1536];
    const struct peer_row server = {"server answers in plain HTTP", TLSB_ERR_HANDSHAKE, "the peer did not speak TLS"};
    int fds = open_fds();
    guard(server.name, 20);
    struct raw_server s = {
        .wait_for = 1, .reply = (const uint8_t *)http_response, .reply_len = sizeof http_response - 1};
    int32_t rc = client_against(&s, 5000, msg, sizeof msg);
    alarm(0);
    check_peer_row(&server, rc, msg, fds);

    const struct peer_row client = {"client speaks plain HTTP", TLSB_ERR_HANDSHAKE, "the peer did not speak TLS"};
    fds = open_fds();
    guard(client.name, 20);
    rc = server_against(http_request, sizeof http_request - 1, 0, 5000, msg, sizeof msg);
    alarm(0);
    check_peer_row(&client, rc, msg, fds);
}

static void alerting_peers(void)
{
    char msg[1536];
    const struct peer_row raw = {"server answers the ClientHello with an alert", TLSB_ERR_HANDSHAKE,
                                 "handshake failure"};
    int fds = open_fds();
    guard(raw.name, 20);
    struct raw_server s = {.wait_for = 1, .reply = alert_record, .reply_len = sizeof alert_record};
    int32_t rc = client_against(&s, 5000, msg, sizeof msg);
    alarm(0);
    check_peer_row(&raw, rc, msg, fds);

    /* A real peer's alert: openssl s_client rejects a certificate from a CA it does not trust. */
    const struct peer_row real = {"openssl s_client sends unknown_ca", TLSB_ERR_HANDSHAKE, "unknown ca"};
    fds = open_fds();
    guard(real.name, 30);
    tlsb_context *ctx = SERVER(opt("certificate", "untrusted.pem"), opt("certificate-key", "untrusted.key"));
    tlsb_listener *l = NULL;
    CHECK_STATUS(tlsb_listen("127.0.0.1", 0, 1, &l), TLSB_OK);
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", tlsb_listener_port(l));
    char *argv[] = {
        "openssl", "s_client", "-connect", connect, "-CAfile", (char *)cert("ca.pem"), "-verify_return_error", NULL};
    int to, from;
    pid_t pid = spawn(argv, &to, &from);
    tlsb_conn *conn = NULL;
    rc = tlsb_accept(l, ctx, 10000, &conn);
    if (rc == TLSB_OK) {
        tlsb_conn_set_timeout(conn, 10000);
        rc = tlsb_conn_handshake(conn);
    }
    snprintf(msg, sizeof msg, "%s", tlsb_last_error());
    tlsb_conn_free(conn);
    close(to);
    CHECK(wait_child(pid, 10000) != 0); /* s_client itself failed the handshake */
    close(from);
    tlsb_listener_close(l);
    tlsb_listener_free(l);
    tlsb_context_free(ctx);
    alarm(0);
    check_peer_row(&real, rc, msg, fds);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"files", files},
        {"stalled_peers", stalled_peers},
        {"vanishing_peers", vanishing_peers},
        {"plain_tcp_peers", plain_tcp_peers},
        {"alerting_peers", alerting_peers},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
