/* The C suites' small test harness: checks, runtime certificates, child processes. */
#ifndef TLSB_HARNESS_H
#define TLSB_HARNESS_H

#include <setjmp.h>
#include <stdio.h>
#include <sys/types.h>

#include "tlsbridge.h"

struct test {
    const char *name;
    void (*run)(void);
};

extern int harness_failures; /* checks failed in the current test */

void harness_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Ends the current test at once (after a failed REQUIRE): what follows would crash. */
void harness_abort(void) __attribute__((noreturn));

/* Runs one test function; returns the number of failed checks. A failed REQUIRE ends it there. */
int harness_run(void (*run)(void));

/* CHECK for preconditions: a failure ends the test instead of going on to use what is missing. */
#define REQUIRE(cond)                                                                                    \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            harness_fail(__FILE__, __LINE__, "REQUIRE(%s) failed; last error: %s", #cond, tlsb_last_error()); \
            harness_abort();                                                                             \
        }                                                                                                \
    } while (0)

#define REQUIRE_STATUS(expr, expected)                                                                   \
    do {                                                                                                 \
        int32_t got_ = (expr);                                                                           \
        if (got_ != (expected)) {                                                                        \
            harness_fail(__FILE__, __LINE__, "%s: got %s (%d), expected %s; last error: %s", #expr,      \
                         tlsb_status_name(got_), got_, tlsb_status_name(expected), tlsb_last_error());   \
            harness_abort();                                                                             \
        }                                                                                                \
    } while (0)

#define CHECK(cond)                                                                                      \
    do {                                                                                                 \
        if (!(cond))                                                                                     \
            harness_fail(__FILE__, __LINE__, "CHECK(%s) failed; last error: %s", #cond, tlsb_last_error()); \
    } while (0)

/* Evaluates a status-returning call and compares it with the expected status. */
#define CHECK_STATUS(expr, expected)                                                                     \
    do {                                                                                                 \
        int32_t got_ = (expr);                                                                           \
        if (got_ != (expected))                                                                          \
            harness_fail(__FILE__, __LINE__, "%s: got %s (%d), expected %s; last error: %s", #expr,      \
                         tlsb_status_name(got_), got_, tlsb_status_name(expected), tlsb_last_error());   \
    } while (0)

#define CHECK_STR(actual, expected)                                                                      \
    do {                                                                                                 \
        const char *a_ = (actual), *e_ = (expected);                                                     \
        if (!a_ || strcmp(a_, e_) != 0)                                                                  \
            harness_fail(__FILE__, __LINE__, "%s: got '%s', expected '%s'", #actual, a_ ? a_ : "(null)", e_); \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                                 \
    do {                                                                                                 \
        const char *h_ = (haystack), *n_ = (needle);                                                     \
        if (!h_ || !strstr(h_, n_))                                                                      \
            harness_fail(__FILE__, __LINE__, "%s: '%s' does not contain '%s'", #haystack, h_ ? h_ : "(null)", n_); \
    } while (0)

/* Runs every test (or those named on the command line); prints "N passed, M failed". */
int harness_main(const struct test *tests, int argc, char **argv);

/* Path of a file in the run-time test PKI ($TLSB_TEST_CERTS); valid until 16 more calls. */
const char *cert(const char *file);
/* A context from "name=value" strings, NULL-terminated; NULL (with a failed check) on error. */
tlsb_context *context_of(int role, ...) __attribute__((sentinel));
#define SERVER(...) context_of(TLSB_ROLE_SERVER, __VA_ARGS__, NULL)
#define CLIENT(...) context_of(TLSB_ROLE_CLIENT, __VA_ARGS__, NULL)
/* "name=<path of file in the test PKI>"; valid until 32 more calls. */
const char *opt(const char *name, const char *file);
/* Status of building a context from "name=value" strings; the context is freed. */
int32_t context_status(int role, ...) __attribute__((sentinel));
/* tlsb_verify of a PEM file from the test PKI (name as tlsb_verify's peer_name; at: now). */
int32_t verify_file(tlsb_context *ctx, const char *file, const char *name);

/* Starts argv with stdin and stdout+stderr as pipes. */
pid_t spawn(char *const argv[], int *to_child, int *from_child);
/* Reads from fd into buf until needle appears (0), EOF (-1) or timeout_ms passes (-2). */
int read_until(int fd, char *buf, size_t size, const char *needle, int timeout_ms);
/* Kills (SIGTERM) and reaps a child; returns its exit status or -1. */
int stop_child(pid_t pid);
/* Waits for a child to exit within timeout_ms; returns its exit code, or -1 (then kills it). */
int wait_child(pid_t pid, int timeout_ms);
/* Descriptors this process has open (for leak checks). */
int open_fds(void);
/* A TCP port free on 127.0.0.1 right now. */
int free_port(void);
/* Waits until something accepts TCP connections on 127.0.0.1:port. */
int wait_port(int port, int timeout_ms);


/* ---- echo_server.c: our server on a thread, one connection ---- */
#include <pthread.h>
struct echo_server {
    tlsb_context *ctx;
    tlsb_listener *listener;
    pthread_t thread;
    int32_t handshake; /* status of the server's handshake */
    char error[1024];  /* its message when it failed */
    char peer[256];    /* client certificate subject */
    char verify[256];
    int32_t end;       /* how the echo loop ended */
};
/* Takes ownership of ctx; listens on 127.0.0.1; returns the port or -1. */
int echo_start(struct echo_server *s, tlsb_context *ctx);
/* The thread body: accept one connection, handshake, echo until the peer ends. */
void *echo_serve_one(void *arg);
/* Closes the listener, joins the thread, frees the context. */
void echo_stop(struct echo_server *s);

#endif
