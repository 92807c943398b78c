/* The ABI's promises that do not need a peer: NULL and closed handles, out-parameters,
 * thread-local errors, the config bag, the log callback, context lifetimes. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static void require_then_use(void)
{
    const char *volatile missing = NULL;
    REQUIRE(missing != NULL);
    CHECK(missing[0] == 'x'); /* would crash: the failed REQUIRE must end the test first */
}

/* A failed precondition ends its test as a failure; the suite goes on instead of crashing. */
static void harness_require_ends_the_test(void)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        _exit(harness_run(require_then_use) == 1 ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A child must not inherit another child's pipes: s_client sees the end of its input only if
 * no later child (an s_server) holds the pipe open too. */
static void harness_children_inherit_no_pipes(void)
{
    char *cat[] = {"cat", NULL};
    int a_in, a_out, b_in, b_out;
    pid_t a = spawn(cat, &a_in, &a_out);
    pid_t b = spawn(cat, &b_in, &b_out);
    REQUIRE(a > 0 && b > 0);
    close(a_in);
    CHECK(wait_child(a, 5000) == 0); /* cat ends at the end of its input */
    close(b_in);
    CHECK(wait_child(b, 5000) == 0);
    close(a_out);
    close(b_out);
}

static void null_handles(void)
{
    uint8_t buf[8];
    tlsb_conn *conn = (tlsb_conn *)0x1;
    CHECK_STATUS(tlsb_config_new(NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_config_set(NULL, "tls", "1"), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_config_set_log(NULL, NULL, NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_context_new(NULL, TLSB_ROLE_CLIENT, NULL), TLSB_ERR_ARGUMENT);
    CHECK(tlsb_context_settings(NULL) == NULL);
    CHECK_STATUS(tlsb_verify(NULL, buf, 8, NULL, 0), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_new_socket(NULL, 0, NULL, &conn), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_new_buffer(NULL, NULL, &conn), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_dial(NULL, "localhost", 1, 0, &conn), TLSB_ERR_ARGUMENT);
    CHECK(conn == (tlsb_conn *)0x1); /* out-parameters untouched on failure */
    CHECK_STATUS(tlsb_conn_handshake(NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_read(NULL, buf, 8), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_write(NULL, buf, 8), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_shutdown(NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_close(NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_set_timeout(NULL, 1), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_fd(NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_feed(NULL, buf, 8), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_feed_eof(NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_drain(NULL, buf, 8), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_pending(NULL), TLSB_ERR_ARGUMENT);
    CHECK(tlsb_conn_info(NULL, TLSB_INFO_VERSION) == NULL);
    CHECK_STATUS(tlsb_conn_session_export(NULL, buf, 8), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_session_import(NULL, buf, 8), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_listen(NULL, 0, 1, NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_listener_port(NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_accept(NULL, NULL, 0, NULL), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_listener_close(NULL), TLSB_ERR_ARGUMENT);
    tlsb_config_free(NULL);
    tlsb_context_free(NULL);
    tlsb_conn_free(NULL);
    tlsb_listener_free(NULL);
}

static void bad_arguments(void)
{
    tlsb_config *cfg;
    REQUIRE_STATUS(tlsb_config_new(&cfg), TLSB_OK);
    tlsb_context *ctx = NULL;
    CHECK_STATUS(tlsb_context_new(cfg, 7, &ctx), TLSB_ERR_ARGUMENT);
    CHECK_CONTAINS(tlsb_last_error(), "role 7 is neither client (0) nor server (1)");
    CHECK(ctx == NULL);
    CHECK_STATUS(tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx), TLSB_OK);
    tlsb_conn *conn;
    CHECK_STATUS(tlsb_conn_new_socket(ctx, -1, "x", &conn), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_new_socket(ctx, 987654, "x", &conn), TLSB_ERR_ARGUMENT);
    CHECK_CONTAINS(tlsb_last_error(), "descriptor 987654: Bad file descriptor");
    REQUIRE_STATUS(tlsb_conn_new_buffer(ctx, "localhost", &conn), TLSB_OK);
    uint8_t buf[8];
    CHECK_STATUS(tlsb_conn_read(conn, NULL, 8), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_read(conn, buf, 0), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_write(conn, buf, -1), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_feed(conn, buf, -1), TLSB_ERR_ARGUMENT);
    CHECK_STATUS(tlsb_conn_drain(conn, buf, 0), TLSB_ERR_ARGUMENT);
    CHECK(tlsb_conn_info(conn, 0) == NULL);
    CHECK(tlsb_conn_info(conn, 99) == NULL);
    CHECK(tlsb_conn_info(conn, TLSB_INFO_VERSION) == NULL);
    CHECK_STATUS(tlsb_last_status(), TLSB_ERR_STATE);
    CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_TARGET_NAME), "localhost");
    CHECK_STATUS(tlsb_conn_session_export(conn, buf, 8), TLSB_ERR_STATE);
    CHECK_STATUS(tlsb_conn_session_import(conn, buf, 8), TLSB_ERR_ARGUMENT);
    CHECK_CONTAINS(tlsb_last_error(), "not a session");
    CHECK_STATUS(tlsb_dial(ctx, "localhost", 0, 100, &conn), TLSB_ERR_ARGUMENT);
    tlsb_conn_free(conn);
    /* A descriptor the core refuses is handed back as it came: still blocking. */
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    CHECK_STATUS(tlsb_conn_new_socket(ctx, pair[0], NULL, &conn), TLSB_ERR_ARGUMENT);
    CHECK_CONTAINS(tlsb_last_error(), "needs a target name");
    CHECK((fcntl(pair[0], F_GETFL) & O_NONBLOCK) == 0);
    close(pair[0]);
    close(pair[1]);
    tlsb_context_free(ctx);
    tlsb_config_free(cfg);
}

static void closed_handles(void)
{
    tlsb_context *ctx = context_of(TLSB_ROLE_CLIENT, "tls-target-name-check=no", NULL);
    tlsb_conn *conn;
    REQUIRE_STATUS(tlsb_conn_new_buffer(ctx, NULL, &conn), TLSB_OK);
    CHECK_STATUS(tlsb_conn_close(conn), TLSB_OK);
    CHECK_STATUS(tlsb_conn_close(conn), TLSB_OK);
    uint8_t buf[8];
    CHECK_STATUS(tlsb_conn_handshake(conn), TLSB_ERR_HANDLE_CLOSED);
    CHECK_STATUS(tlsb_conn_read(conn, buf, 8), TLSB_ERR_HANDLE_CLOSED);
    CHECK_STATUS(tlsb_conn_write(conn, buf, 8), TLSB_ERR_HANDLE_CLOSED);
    CHECK_STATUS(tlsb_conn_feed(conn, buf, 8), TLSB_ERR_HANDLE_CLOSED);
    CHECK_STATUS(tlsb_conn_drain(conn, buf, 8), TLSB_ERR_HANDLE_CLOSED);
    CHECK_STATUS(tlsb_conn_shutdown(conn), TLSB_ERR_HANDLE_CLOSED);
    CHECK_CONTAINS(tlsb_last_error(), "the connection is closed");
    tlsb_conn_free(conn);
    tlsb_context_free(ctx);
}

static void config_bag(void)
{
    tlsb_config *cfg;
    REQUIRE_STATUS(tlsb_config_new(&cfg), TLSB_OK);
    CHECK_STATUS(tlsb_config_set(cfg, "sec-protocol", "TLSv12"), TLSB_OK);
    CHECK_STATUS(tlsb_config_set(cfg, "sec-protocol", "TLSv13"), TLSB_OK); /* replaces */
    CHECK_STATUS(tlsb_config_set(cfg, "no-such-option", "x"), TLSB_OK);    /* checked at build */
    tlsb_context *ctx = NULL;
    CHECK_STATUS(tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx), TLSB_ERR_OPTION_UNKNOWN);
    CHECK_STATUS(tlsb_config_set(cfg, "no-such-option", NULL), TLSB_OK);   /* removes */
    CHECK_STATUS(tlsb_config_set(cfg, "never-set", NULL), TLSB_OK);
    CHECK_STATUS(tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx), TLSB_OK);
    CHECK_CONTAINS(tlsb_context_settings(ctx), "protocols: TLSv1.3\n");
    /* The context does not depend on the config once built. */
    tlsb_config_free(cfg);
    CHECK_CONTAINS(tlsb_context_settings(ctx), "protocols: TLSv1.3\n");
    tlsb_context_free(ctx);
}

/* Removing an option keeps the others in the order they were first set, in every face: the
 * first bad option met (in that order) is the one reported. */
static void config_unset_keeps_order(void)
{
    tlsb_config *cfg;
    REQUIRE_STATUS(tlsb_config_new(&cfg), TLSB_OK);
    CHECK_STATUS(tlsb_config_set(cfg, "sec-protocol", "TLSv12"), TLSB_OK);
    CHECK_STATUS(tlsb_config_set(cfg, "tls", "perhaps"), TLSB_OK);
    CHECK_STATUS(tlsb_config_set(cfg, "no-such-option", "x"), TLSB_OK);
    CHECK_STATUS(tlsb_config_set(cfg, "sec-protocol", NULL), TLSB_OK);
    tlsb_context *ctx = NULL;
    CHECK_STATUS(tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx), TLSB_ERR_OPTION_VALUE);
    CHECK_CONTAINS(tlsb_last_error(), "option tls: bad value 'perhaps'");
    /* Setting a name again replaces its value where it stands. */
    CHECK_STATUS(tlsb_config_set(cfg, "tls", "yes"), TLSB_OK);
    CHECK_STATUS(tlsb_config_set(cfg, "sec-protocol", "SSLv3"), TLSB_OK);
    CHECK_STATUS(tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx), TLSB_ERR_OPTION_UNKNOWN);
    CHECK(ctx == NULL);
    tlsb_config_free(cfg);
}

struct log_record {
    int count;
    int32_t level;
    char last[512];
};

static void collect(void *user, int32_t level, const char *message)
{
    struct log_record *r = user;
    r->count++;
    r->level = level;
    snprintf(r->last, sizeof r->last, "%s", message);
}

static void log_callback(void)
{
    struct log_record rec = {0};
    tlsb_config *cfg;
    tlsb_config_new(&cfg);
    CHECK_STATUS(tlsb_config_set_log(cfg, collect, &rec), TLSB_OK);
    tlsb_config_set(cfg, "protocol-list", "SSLv3 TLSv1.2");
    tlsb_context *ctx;
    CHECK_STATUS(tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx), TLSB_OK);
    CHECK(rec.count == 1);
    CHECK(rec.level == TLSB_LOG_WARNING);
    CHECK_STR(rec.last, "SSLv3 dropped from protocol-list (OpenSSL 3 has no SSLv3)");
    tlsb_context_free(ctx);
    tlsb_config_set(cfg, "protocol-list", "TLSv9");
    CHECK_STATUS(tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx), TLSB_ERR_OPTION_VALUE);
    CHECK(rec.count == 2 && rec.level == TLSB_LOG_ERROR);
    CHECK_CONTAINS(rec.last, "unknown protocol 'TLSv9'");
    CHECK_STATUS(tlsb_config_set_log(cfg, NULL, NULL), TLSB_OK);
    CHECK_STATUS(tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx), TLSB_ERR_OPTION_VALUE);
    CHECK(rec.count == 2);
    tlsb_config_free(cfg);
}

static void *fail_on_other_thread(void *arg)
{
    (void)arg;
    tlsb_config *cfg;
    tlsb_config_new(&cfg);
    tlsb_config_set(cfg, "tls", "perhaps");
    tlsb_context *ctx;
    tlsb_context_new(cfg, TLSB_ROLE_CLIENT, &ctx);
    tlsb_config_free(cfg);
    return NULL;
}

static void errors_are_thread_local(void)
{
    CHECK_STATUS(tlsb_context_new(NULL, 0, NULL), TLSB_ERR_ARGUMENT);
    pthread_t t;
    pthread_create(&t, NULL, fail_on_other_thread, NULL);
    pthread_join(t, NULL);
    CHECK_STATUS(tlsb_last_status(), TLSB_ERR_ARGUMENT);
    CHECK_CONTAINS(tlsb_last_error(), "tlsb_context_new");
}

/* 1 if s is valid UTF-8: no stray bytes, overlong forms, surrogates, or a cut character. */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        if (!n || (n == 2 && *p < 0xC2) || (n == 4 && *p > 0xF4))
            return 0;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        if ((n == 3 && *p == 0xE0 && p[1] < 0xA0) || (n == 3 && *p == 0xED && p[1] >= 0xA0) ||
            (n == 4 && *p == 0xF0 && p[1] < 0x90) || (n == 4 && *p == 0xF4 && p[1] >= 0x90))
            return 0;
        p += n;
    }
    return 1;
}

/* The last error is handed to Java and .NET as UTF-8: raw bytes from a value are escaped, and a
 * message too long for the buffer is cut between characters, never inside one. */
static void last_error_stays_utf8(void)
{
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, "tls=\xff\xfeon\xc3", NULL), TLSB_ERR_OPTION_VALUE);
    CHECK(valid_utf8(tlsb_last_error()));
    CHECK_CONTAINS(tlsb_last_error(), "option tls: bad value '\\xff\\xfeon\\xc3'");
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, "tls=caf\xc3\xa9 \xe2\x82\xac", NULL), TLSB_ERR_OPTION_VALUE);
    CHECK_CONTAINS(tlsb_last_error(), "bad value 'caf\xc3\xa9 \xe2\x82\xac'"); /* valid UTF-8 passes as it is */
    static char value[4000];
    for (size_t n = 0; n + 3 < sizeof value - 1; n += 3) /* offset by one so that the cut falls inside a character */
        memcpy(value + n + 1, "\xe2\x82\xac", 3);
    value[0] = 'x';
    for (int shift = 0; shift < 3; shift++) {
        char kv[4200];
        snprintf(kv, sizeof kv, "tls=%.*s%s", shift, "yy", value);
        CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, kv, NULL), TLSB_ERR_OPTION_VALUE);
        CHECK(valid_utf8(tlsb_last_error()));
        CHECK(strlen(tlsb_last_error()) > 1400 && strlen(tlsb_last_error()) < 1536);
        CHECK_CONTAINS(tlsb_last_error(), "x\xe2\x82\xac\xe2\x82\xac");
    }
}

static void identity(void)
{
    CHECK_STR(tlsb_version(), "1.0.0");
    CHECK_CONTAINS(tlsb_openssl_version(), "OpenSSL 3.");
    CHECK(tlsb_compat_mode() == (getenv("TLSBRIDGE_COMPAT_MODE") != NULL));
    CHECK_STR(tlsb_status_name(TLSB_ERR_VERIFY_NAME), "TLSB_ERR_VERIFY_NAME");
    CHECK_STR(tlsb_status_name(-1234), "TLSB_UNKNOWN_STATUS");
}

/* Every status has the kind the faces map to their exception types. */
static void status_kinds(void)
{
    static const struct {
        int32_t status, kind;
    } table[] = {
        {TLSB_OK, TLSB_KIND_NONE}, {42, TLSB_KIND_NONE}, {TLSB_WANT_READ, TLSB_KIND_PROGRESS},
        {TLSB_WANT_WRITE, TLSB_KIND_PROGRESS}, {TLSB_CLOSED, TLSB_KIND_CLOSED},
        {TLSB_ERR_ARGUMENT, TLSB_KIND_USAGE}, {TLSB_ERR_HANDLE_CLOSED, TLSB_KIND_USAGE},
        {TLSB_ERR_STATE, TLSB_KIND_USAGE}, {TLSB_ERR_BUFFER_TOO_SMALL, TLSB_KIND_USAGE},
        {TLSB_ERR_OPTION_UNKNOWN, TLSB_KIND_CONFIG}, {TLSB_ERR_OPTION_VALUE, TLSB_KIND_CONFIG},
        {TLSB_ERR_OPTION_CONFLICT, TLSB_KIND_CONFIG}, {TLSB_ERR_FILE, TLSB_KIND_CONFIG},
        {TLSB_ERR_KEY_MISMATCH, TLSB_KIND_CONFIG}, {TLSB_ERR_CIPHER_NONE, TLSB_KIND_CONFIG},
        {TLSB_ERR_CERT_REQUIRED, TLSB_KIND_CONFIG}, {TLSB_ERR_PROTOCOL_NONE, TLSB_KIND_CONFIG},
        {TLSB_ERR_PROTOCOL_VERSION, TLSB_KIND_PROTOCOL}, {TLSB_ERR_HANDSHAKE, TLSB_KIND_PROTOCOL},
        {TLSB_ERR_TLS, TLSB_KIND_PROTOCOL}, {TLSB_ERR_VERIFY, TLSB_KIND_VERIFY},
        {TLSB_ERR_VERIFY_NAME, TLSB_KIND_VERIFY}, {TLSB_ERR_PEER_CERT_MISSING, TLSB_KIND_VERIFY},
        {TLSB_ERR_IO, TLSB_KIND_TRANSPORT}, {TLSB_ERR_TIMEOUT, TLSB_KIND_TRANSPORT},
        {TLSB_ERR_CONNECT, TLSB_KIND_TRANSPORT}, {TLSB_ERR_RESOLVE, TLSB_KIND_TRANSPORT},
        {TLSB_ERR_PEER_RESET, TLSB_KIND_TRANSPORT}, {TLSB_ERR_NO_MEMORY, TLSB_KIND_INTERNAL},
        {TLSB_ERR_INTERNAL, TLSB_KIND_INTERNAL}, {-77, TLSB_KIND_INTERNAL},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (tlsb_status_kind(table[i].status) != table[i].kind)
            harness_fail(__FILE__, __LINE__, "tlsb_status_kind(%s = %d) = %d, expected %d",
                         tlsb_status_name(table[i].status), table[i].status, tlsb_status_kind(table[i].status),
                         table[i].kind);
}

static void context_outlives_its_owner(void)
{
    tlsb_context *ctx = context_of(TLSB_ROLE_CLIENT, "tls=0", NULL);
    tlsb_conn *conn;
    REQUIRE_STATUS(tlsb_conn_new_buffer(ctx, NULL, &conn), TLSB_OK);
    tlsb_context_free(ctx); /* the connection holds its own reference */
    CHECK_STATUS(tlsb_conn_write(conn, (const uint8_t *)"ok", 2), 2);
    tlsb_conn_free(conn);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"harness_require_ends_the_test", harness_require_ends_the_test},
        {"harness_children_inherit_no_pipes", harness_children_inherit_no_pipes},
        {"null_handles", null_handles},
        {"bad_arguments", bad_arguments},
        {"closed_handles", closed_handles},
        {"config_bag", config_bag},
        {"config_unset_keeps_order", config_unset_keeps_order},
        {"log_callback", log_callback},
        {"errors_are_thread_local", errors_are_thread_local},
        {"identity", identity},
        {"last_error_stays_utf8", last_error_stays_utf8},
        {"context_outlives_its_owner", context_outlives_its_owner},
        {"status_kinds", status_kinds},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
