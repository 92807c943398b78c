/*
 * The C face against its anchor: every workload of ../shared/BENCH.md run through tlsbridge's C
 * API and through the same code written directly on OpenSSL, in the same process, interleaved
 * (tlsbridge, OpenSSL, tlsbridge, OpenSSL, ...) for several rounds. Prints one line per workload:
 *
 *   RESULT <face> <workload> <unit> <tlsbridge median> <anchor median> <median of round ratios>
 *
 * Usage: bench_c CERT_DIR [--quick] [--rounds N]
 * CERT_DIR holds ca.pem, server-ec.pem and server-ec.key (c-tests/certs/make-certs.sh).
 * --quick: small sizes and one round; checks that every workload ran and gave sane numbers
 * (exit 1 otherwise). It is a smoke test for CI, not a measurement.
 *
 * Both implementations sit behind one small table of functions (struct impl), so each workload
 * is written once and the two differ only in the TLS calls.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tlsbridge.h"

#define SUITE "TLS_AES_128_GCM_SHA256"
#define NAME "localhost"
#define WRITE_SIZE 16384 /* bulk: 16 KiB writes */
#define MSG_SIZE 64      /* pp: 64-byte messages */
#define SERVER_THREADS 2 /* one per core: the server never limits scale */

static void die(const char *what)
{
    fprintf(stderr, "bench_c: %s\n", what);
    exit(1);
}

/* ---- the two implementations ------------------------------------------------------------ */

/* Blocking-socket TLS as a user of either library writes it. read returns bytes, 0 at the
 * peer's close_notify, < 0 on error; write writes everything or fails. */
struct impl {
    const char *name;
    void *(*context)(int server);
    void *(*conn)(void *context, int fd, int server); /* owns fd from here on */
    int (*handshake)(void *conn);
    int (*read)(void *conn, uint8_t *buf, int len);
    int (*write)(void *conn, const uint8_t *buf, int len);
    void (*shutdown)(void *conn);
    void (*free)(void *conn); /* closes the socket too */
    void *(*session_get)(void *conn);
    void (*session_resume)(void *conn, void *session);
    void (*session_free)(void *session);
    int (*reused)(void *conn);
};

static char ca_file[4096], cert_file[4096], key_file[4096];

/* tlsbridge: the options BENCH.md asks for; the library does the rest. */
static void *tb_context(int server)
{
    tlsb_config *cfg;
    tlsb_context *ctx;
    if (tlsb_config_new(&cfg) != TLSB_OK)
        die("tlsb_config_new");
    tlsb_config_set(cfg, "cipher-list", SUITE);
    if (server) {
        tlsb_config_set(cfg, "certificate", cert_file);
        tlsb_config_set(cfg, "certificate-key", key_file);
    } else {
        tlsb_config_set(cfg, "trusted-ca", ca_file);
    }
    if (tlsb_context_new(cfg, server ? TLSB_ROLE_SERVER : TLSB_ROLE_CLIENT, &ctx) != TLSB_OK)
        die(tlsb_last_error());
    tlsb_config_free(cfg);
    return ctx;
}

static void *tb_conn(void *ctx, int fd, int server)
{
    tlsb_conn *c;
    if (tlsb_conn_new_socket(ctx, fd, server ? NULL : NAME, &c) != TLSB_OK)
        die(tlsb_last_error());
    return c;
}

static int tb_handshake(void *c) { return tlsb_conn_handshake(c) == TLSB_OK ? 0 : -1; }

static int tb_read(void *c, uint8_t *buf, int len)
{
    int32_t n = tlsb_conn_read(c, buf, len);
    return n == TLSB_CLOSED ? 0 : n;
}

static int tb_write(void *c, const uint8_t *buf, int len) { return tlsb_conn_write(c, buf, len) == len ? 0 : -1; }
static void tb_shutdown(void *c) { tlsb_conn_shutdown(c); }
static void tb_free(void *c) { tlsb_conn_free(c); }

typedef struct {
    int32_t len;
    uint8_t data[];
} tb_session;

static void *tb_session_get(void *c)
{
    int32_t len = tlsb_conn_session_export(c, NULL, 0);
    if (len != TLSB_ERR_BUFFER_TOO_SMALL)
        die(tlsb_last_error());
    len = 16384;
    tb_session *s = malloc(sizeof *s + (size_t)len);
    if (!s || (s->len = tlsb_conn_session_export(c, s->data, len)) <= 0)
        die(tlsb_last_error());
    return s;
}

static void tb_session_resume(void *c, void *session)
{
    tb_session *s = session;
    if (tlsb_conn_session_import(c, s->data, s->len) != TLSB_OK)
        die(tlsb_last_error());
}

static int tb_reused(void *c) { return strcmp(tlsb_conn_info(c, TLSB_INFO_SESSION_REUSED), "yes") == 0; }

static const struct impl tlsbridge_impl = {
    "tlsbridge", tb_context, tb_conn,        tb_handshake,      tb_read, tb_write, tb_shutdown, tb_free,
    tb_session_get, tb_session_resume, free, tb_reused,
};

/* OpenSSL directly: SSL_read/SSL_write on a blocking socket, library defaults otherwise. */
static void *os_context(int server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx || !SSL_CTX_set_ciphersuites(ctx, SUITE) || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION))
        die("SSL_CTX_new");
    if (server) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
            die("cannot load the server certificate");
    } else {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
            die("cannot load the CA");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

static void *os_conn(void *ctx, int fd, int server)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd))
        die("SSL_new");
    if (server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_tlsext_host_name(ssl, NAME);
        SSL_set1_host(ssl, NAME);
        SSL_set_connect_state(ssl);
    }
    return ssl;
}

static int os_handshake(void *s) { return SSL_do_handshake(s) == 1 ? 0 : -1; }

static int os_read(void *s, uint8_t *buf, int len)
{
    int n = SSL_read(s, buf, len);
    return n > 0 ? n : SSL_get_error(s, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static int os_write(void *s, const uint8_t *buf, int len) { return SSL_write(s, buf, len) == len ? 0 : -1; }
static void os_shutdown(void *s) { SSL_shutdown(s); }

static void os_free(void *s)
{
    int fd = SSL_get_fd(s);
    SSL_free(s);
    close(fd);
}

static void *os_session_get(void *s) { return SSL_get1_session(s); }
static void os_session_resume(void *s, void *session) { SSL_set_session(s, session); }
static void os_session_free(void *session) { SSL_SESSION_free(session); }
static int os_reused(void *s) { return SSL_session_reused(s); }

static const struct impl openssl_impl = {
    "openssl", os_context, os_conn,          os_handshake,      os_read, os_write, os_shutdown, os_free,
    os_session_get, os_session_resume, os_session_free, os_reused,
};

/* ---- sockets, clock, memory ------------------------------------------------------------- */

static int listen_fd, listen_port;

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void open_listener(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) || listen(listen_fd, 4096) ||
        getsockname(listen_fd, (struct sockaddr *)&a, &len))
        die("cannot listen on the loopback");
    listen_port = ntohs(a.sin_port);
}

static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(listen_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a))
        die("connect");
    nodelay(fd);
    return fd;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Heap bytes in use (every arena): exact, unlike RSS, which moves in pages and keeps freed memory. */
static double heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return (double)m.uordblks + (double)m.hblkhd;
}

/* ---- the server: SERVER_THREADS workers accept and serve a known number of connections ------- */

enum serve_mode { SERVE_ECHO, SERVE_BULK };

struct server {
    const struct impl *im;
    void *ctx;
    enum serve_mode mode;
    long long bulk_bytes; /* SERVE_BULK: answer one byte after this many */
    atomic_int remaining;
    pthread_t threads[SERVER_THREADS];
};

/* Echoes what it reads (hs, resume, scale: nothing but close_notify; pp: the messages), or in
 * bulk mode counts and answers one byte at the end; closes in order after the peer does. */
static void serve_one(struct server *s, int fd)
{
    static __thread uint8_t buf[WRITE_SIZE];
    void *c = s->im->conn(s->ctx, fd, 1);
    long long total = 0;
    if (s->im->handshake(c) == 0) {
        for (int n; (n = s->im->read(c, buf, sizeof buf)) > 0;) {
            total += n;
            int ok = s->mode == SERVE_ECHO ? s->im->write(c, buf, n)
                     : total == s->bulk_bytes ? s->im->write(c, (const uint8_t *)"!", 1) : 0;
            if (ok != 0)
                break;
        }
        s->im->shutdown(c);
    }
    s->im->free(c);
}

static void *server_thread(void *arg)
{
    struct server *s = arg;
    while (atomic_fetch_sub(&s->remaining, 1) > 0) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            die("accept");
        nodelay(fd);
        serve_one(s, fd);
    }
    return NULL;
}

static void server_start(struct server *s, const struct impl *im, void *ctx, enum serve_mode mode, int connections)
{
    s->im = im;
    s->ctx = ctx;
    s->mode = mode;
    atomic_init(&s->remaining, connections);
    for (int i = 0; i < SERVER_THREADS; i++)
        pthread_create(&s->threads[i], NULL, server_thread, s);
}

static void server_join(struct server *s)
{
    for (int i = 0; i < SERVER_THREADS; i++)
        pthread_join(s->threads[i], NULL);
}

/* ---- workloads ----------------------------------------------------------------------------- */

struct side {
    const struct impl *im;
    void *client, *server;
};

static struct {
    long long bulk_mib, hs, resume, pp, idle;
} size;

/* A client connection, handshake done. */
static void *connect_client(const struct side *sd, void *session)
{
    void *c = sd->im->conn(sd->client, dial(), 0);
    if (session)
        sd->im->session_resume(c, session);
    if (sd->im->handshake(c) != 0)
        die("client handshake failed");
    return c;
}

/* Sends close_notify and waits for the server's, reading what comes before it (tickets). */
static void finish_client(const struct side *sd, void *c)
{
    uint8_t buf[256];
    sd->im->shutdown(c);
    while (sd->im->read(c, buf, sizeof buf) > 0)
        ;
}

static void close_client(const struct side *sd, void *c)
{
    finish_client(sd, c);
    sd->im->free(c);
}

static double run_bulk(const struct side *sd)
{
    static uint8_t data[WRITE_SIZE];
    struct server s = {.bulk_bytes = size.bulk_mib << 20};
    server_start(&s, sd->im, sd->server, SERVE_BULK, 1);
    void *c = connect_client(sd, NULL);
    uint8_t ack;
    double t0 = now();
    for (long long sent = 0; sent < s.bulk_bytes; sent += WRITE_SIZE)
        if (sd->im->write(c, data, WRITE_SIZE) != 0)
            die("bulk write failed");
    if (sd->im->read(c, &ack, 1) != 1)
        die("bulk: no answer");
    double t = now() - t0;
    close_client(sd, c);
    server_join(&s);
    return size.bulk_mib / t;
}

struct hs_job {
    const struct side *sd;
    long long count;
    void *session; /* resume: offered on every connection */
    long long reused;
};

static void *hs_thread(void *arg)
{
    struct hs_job *j = arg;
    for (long long i = 0; i < j->count; i++) {
        void *c = connect_client(j->sd, j->session);
        j->reused += j->sd->im->reused(c);
        close_client(j->sd, c);
    }
    return NULL;
}

/* count handshakes on each of threads client threads; returns handshakes/s. */
static double handshakes(const struct side *sd, int threads, long long count, void *session)
{
    struct server s;
    struct hs_job jobs[SERVER_THREADS];
    pthread_t t[SERVER_THREADS];
    server_start(&s, sd->im, sd->server, SERVE_ECHO, (int)(threads * count));
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct hs_job){sd, count, session, 0};
        pthread_create(&t[i], NULL, hs_thread, &jobs[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double elapsed = now() - t0;
    server_join(&s);
    for (int i = 0; i < threads; i++)
        if (jobs[i].reused != (session ? count : 0))
            die(session ? "resume: a session was not resumed" : "hs: a session was resumed");
    return threads * count / elapsed;
}

static double run_hs(const struct side *sd) { return handshakes(sd, 1, size.hs, NULL); }
static double run_scale(const struct side *sd) { return handshakes(sd, SERVER_THREADS, size.hs, NULL); }

/* The session of one full handshake (its tickets read), offered on every timed connection. */
static double run_resume(const struct side *sd)
{
    struct server s;
    server_start(&s, sd->im, sd->server, SERVE_ECHO, 1);
    void *c = connect_client(sd, NULL);
    finish_client(sd, c);
    void *session = sd->im->session_get(c);
    sd->im->free(c);
    server_join(&s);
    double r = handshakes(sd, 1, size.resume, session);
    sd->im->session_free(session);
    return r;
}

static double run_pp(const struct side *sd)
{
    struct server s;
    server_start(&s, sd->im, sd->server, SERVE_ECHO, 1);
    void *c = connect_client(sd, NULL);
    uint8_t msg[MSG_SIZE] = {0}, back[MSG_SIZE];
    double t0 = now();
    for (long long i = 0; i < size.pp; i++) {
        if (sd->im->write(c, msg, MSG_SIZE) != 0)
            die("pp write failed");
        for (int got = 0, n; got < MSG_SIZE; got += n)
            if ((n = sd->im->read(c, back + got, MSG_SIZE - got)) <= 0)
                die("pp read failed");
    }
    double t = now() - t0;
    close_client(sd, c);
    server_join(&s);
    return size.pp / t;
}

/* Idle: the server process holds size.idle established connections; a forked child is the
 * client (10,000 connections per side need the whole descriptor limit of a process). Returns
 * the server's heap growth per connection, in KiB. */
static double run_idle(const struct side *sd)
{
    long long n = size.idle;
    int ready[2], done[2];
    if (pipe(ready) || pipe(done))
        die("pipe");
    void **conns = calloc((size_t)n, sizeof *conns);
    double before = heap_in_use();
    pid_t child = fork();
    if (child == 0) {
        close(listen_fd);
        void **mine = calloc((size_t)n, sizeof *mine);
        for (long long i = 0; i < n; i++)
            mine[i] = connect_client(sd, NULL);
        char b;
        if (write(ready[1], "x", 1) != 1 || read(done[0], &b, 1) < 0)
            _exit(1);
        _exit(0); /* the kernel closes every connection at once */
    }
    for (long long i = 0; i < n; i++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            die("idle: accept");
        nodelay(fd);
        conns[i] = sd->im->conn(sd->server, fd, 1);
        if (sd->im->handshake(conns[i]) != 0)
            die("idle: server handshake failed");
    }
    char b;
    if (read(ready[0], &b, 1) != 1)
        die("idle: the client failed");
    double per_conn = (heap_in_use() - before) / n / 1024;
    if (write(done[1], "x", 1) != 1)
        die("idle: pipe");
    waitpid(child, NULL, 0);
    for (long long i = 0; i < n; i++)
        sd->im->free(conns[i]);
    free(conns);
    close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
    return per_conn;
}

/* ---- rounds, medians, output ------------------------------------------------------------------ */

static const struct workload {
    const char *name, *unit;
    double (*run)(const struct side *);
} workloads[] = {
    {"bulk", "MiB/s", run_bulk},          {"hs", "handshakes/s", run_hs},
    {"resume", "handshakes/s", run_resume}, {"pp", "round-trips/s", run_pp},
    {"idle", "KiB/conn", run_idle},       {"scale", "handshakes/s", run_scale},
};
#define WORKLOADS (int)(sizeof workloads / sizeof workloads[0])
#define MAX_ROUNDS 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: bench_c CERT_DIR [--quick] [--rounds N] [--only WORKLOAD] [--impl tlsbridge|openssl]");
    int quick = 0, rounds = 5;
    const char *only = NULL, *only_impl = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--impl") && i + 1 < argc)
            only_impl = argv[++i];
        else
            die("unknown argument");
    }
    if (quick)
        rounds = 1;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        die("--rounds: 1..64");
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", argv[1]);
    snprintf(cert_file, sizeof cert_file, "%s/server-ec.pem", argv[1]);
    snprintf(key_file, sizeof key_file, "%s/server-ec.key", argv[1]);
    size.bulk_mib = quick ? 8 : 512;
    size.hs = quick ? 50 : 1000;
    size.resume = quick ? 50 : 2000;
    size.pp = quick ? 1000 : 50000;
    size.idle = quick ? 200 : 10000;
    /* Idle needs 10,000 descriptors per process (plus a few). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < (rlim_t)size.idle + 64)
        size.idle = (long long)rl.rlim_cur - 64;

    open_listener();
    /* Contexts are made once and reused by every connection, as either library is meant to be used. */
    const struct impl *impls[2] = {&tlsbridge_impl, &openssl_impl};
    struct side sides[2];
    for (int k = 0; k < 2; k++)
        sides[k] = (struct side){impls[k], impls[k]->context(0), impls[k]->context(1)};

    static double results[WORKLOADS][2][MAX_ROUNDS];
    int bad = 0;
    for (int w = 0; w < WORKLOADS; w++) {
        if (only && strcmp(only, workloads[w].name))
            continue;
        /* A: tlsbridge, B: OpenSSL, A, B, ...: drift on a shared machine hits both alike. Memory
         * does not drift with load: idle (20,000 handshakes a round) runs one round. */
        int n = run_idle == workloads[w].run ? 1 : rounds;
        /* A B, then B A: neither stack always runs in the state the other leaves behind (sockets
         * in TIME_WAIT, caches, a managed heap). */
        for (int r = 0; r < n; r++)
            for (int i = 0; i < 2; i++) {
                int k = i ^ (r & 1);
                results[w][k][r] =
                    only_impl && strcmp(only_impl, impls[k]->name) ? NAN : workloads[w].run(&sides[k]);
            }
        /* The ratio is the median of each round's ratio: a round's A and B run back to back, so
         * load from elsewhere shifts both, while it may hit the medians of A and B unevenly. */
        double ratios[MAX_ROUNDS];
        for (int r = 0; r < n; r++)
            ratios[r] = results[w][0][r] / results[w][1][r];
        double m[2], ratio = median(ratios, n);
        for (int k = 0; k < 2; k++) {
            m[k] = median(results[w][k], n);
            if (!only_impl && !(m[k] > 0 && isfinite(m[k]))) {
                fprintf(stderr, "bench_c: %s %s gave %g %s\n", workloads[w].name, impls[k]->name, m[k],
                        workloads[w].unit);
                bad = 1;
            }
        }
        printf("RESULT c %s %s %.2f %.2f %.3f\n", workloads[w].name, workloads[w].unit, m[0], m[1], ratio);
        fflush(stdout);
    }
    tlsb_context_free(sides[0].client);
    tlsb_context_free(sides[0].server);
    SSL_CTX_free(sides[1].client);
    SSL_CTX_free(sides[1].server);
    close(listen_fd);
    return bad;
}
