/* Wildcards never span a public suffix (core/src/names.c, docs/verification.md), also when the
 * system's public suffix list is missing. This program defines fopen, which the library and
 * libpsl then reach first, so that a child process can find /usr/share/publicsuffix empty. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int hide_list, hidden_opens;

FILE *fopen(const char *path, const char *mode)
{
    static FILE *(*real)(const char *, const char *);
    if (hide_list && strncmp(path, "/usr/share/publicsuffix/", 24) == 0) {
        hidden_opens++;
        errno = ENOENT;
        return NULL;
    }
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "fopen");
    return real(path, mode);
}

/* In a child, as the list is read once per process: this one has not read it yet. */
static void list_file_missing(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        hide_list = 1;
        tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"));
        CHECK_STATUS(verify_file(c, "wild-suffix.pem", "example.co.uk"), TLSB_ERR_VERIFY_NAME);
        CHECK_CONTAINS(tlsb_last_error(), "DNS:*.co.uk");
        CHECK_STATUS(verify_file(c, "wild.pem", "a.tlsbridge.test"), TLSB_OK);
        CHECK(hidden_opens > 0); /* the library did look for the list, and found it missing */
        tlsb_context_free(c);
        _exit(harness_failures ? 1 : 0);
    }
    CHECK(pid > 0 && wait_child(pid, 60000) == 0);
}

/* The list's rules as its ICANN section gives them; the private section does not count. */
static void list_rules(void)
{
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_STATUS(verify_file(c, "wild-psl.pem", "x.github.io"), TLSB_OK);                  /* private section */
    CHECK_STATUS(verify_file(c, "wild-psl.pem", "www.city.kawasaki.jp"), TLSB_OK);         /* !city.kawasaki.jp */
    CHECK_STATUS(verify_file(c, "wild-psl.pem", "b.a.kawasaki.jp"), TLSB_ERR_VERIFY_NAME); /* *.kawasaki.jp */
    CHECK_STATUS(verify_file(c, "wild-suffix.pem", "example.co.uk"), TLSB_ERR_VERIFY_NAME);
    tlsb_context_free(c);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"list_file_missing", list_file_missing},
        {"list_rules", list_rules},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
