#define _GNU_SOURCE /* pipe2 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int harness_failures;
static jmp_buf test_end; /* where a failed REQUIRE returns to: the end of the running test */

void harness_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    harness_failures++;
}

void harness_abort(void) { longjmp(test_end, 1); }

int harness_run(void (*run)(void))
{
    harness_failures = 0;
    if (setjmp(test_end) == 0)
        run();
    return harness_failures;
}

int harness_main(const struct test *tests, int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a dead child process must not kill the suite */
    int passed = 0, failed = 0;
    for (const struct test *t = tests; t->name; t++) {
        int wanted = argc < 2;
        for (int i = 1; i < argc; i++)
            wanted |= strcmp(argv[i], t->name) == 0;
        if (!wanted)
            continue;
        int failures = harness_run(t->run);
        printf("%s %s\n", failures ? "FAIL" : "ok  ", t->name);
        fflush(stdout);
        if (failures)
            failed++;
        else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

const char *cert(const char *file)
{
    static char paths[16][4096];
    static int next;
    const char *dir = getenv("TLSB_TEST_CERTS");
    char *p = paths[next++ % 16];
    snprintf(p, sizeof paths[0], "%s/%s", dir ? dir : "TLSB_TEST_CERTS-is-not-set", file);
    return p;
}

const char *opt(const char *name, const char *file)
{
    static char buf[32][4200];
    static int next;
    char *p = buf[next++ % 32];
    snprintf(p, sizeof buf[0], "%s=%s", name, cert(file));
    return p;
}

static int32_t build(int role, va_list ap, tlsb_context **out)
{
    tlsb_config *cfg;
    int32_t rc = tlsb_config_new(&cfg);
    const char *kv;
    while (rc == TLSB_OK && (kv = va_arg(ap, const char *)) != NULL) {
        const char *eq = strchr(kv, '=');
        char name[128];
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - kv) : (int)strlen(kv), kv);
        rc = tlsb_config_set(cfg, name, eq ? eq + 1 : "");
    }
    if (rc == TLSB_OK)
        rc = tlsb_context_new(cfg, role, out);
    tlsb_config_free(cfg);
    return rc;
}

tlsb_context *context_of(int role, ...)
{
    va_list ap;
    va_start(ap, role);
    tlsb_context *ctx = NULL;
    int32_t rc = build(role, ap, &ctx);
    va_end(ap);
    if (rc != TLSB_OK) {
        harness_fail(__FILE__, __LINE__, "context: %s: %s", tlsb_status_name(rc), tlsb_last_error());
        return NULL;
    }
    return ctx;
}

int32_t context_status(int role, ...)
{
    va_list ap;
    va_start(ap, role);
    tlsb_context *ctx = NULL;
    int32_t rc = build(role, ap, &ctx);
    va_end(ap);
    tlsb_context_free(ctx);
    return rc;
}

int32_t verify_file(tlsb_context *ctx, const char *file, const char *name)
{
    FILE *f = fopen(cert(file), "rb");
    if (!f) {
        harness_fail(__FILE__, __LINE__, "cannot open %s", cert(file));
        return TLSB_ERR_FILE;
    }
    uint8_t pem[16384];
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    return tlsb_verify(ctx, pem, (int32_t)n, name, 0);
}

pid_t spawn(char *const argv[], int *to_child, int *from_child)
{
    /* Close-on-exec: a later child must not hold this child's pipes open (dup2 clears the flag
     * on the child's own 0, 1 and 2). */
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *to_child = in[1];
    *from_child = out[0];
    return pid;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int read_until(int fd, char *buf, size_t size, const char *needle, int timeout_ms)
{
    size_t len = strlen(buf);
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (strstr(buf, needle))
            return 0;
        long long left = deadline - now_ms();
        if (left <= 0)
            return -2;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (len + 1 >= size)
            return -2;
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n <= 0)
            return strstr(buf, needle) ? 0 : -1;
        len += (size_t)n;
        buf[len] = '\0';
    }
}

int wait_child(pid_t pid, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int status;
    while (now_ms() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

int stop_child(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

int wait_port(int port, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (ok)
            return 0;
        usleep(20000);
    }
    return -1;
}
