/* Checks every case of the shared option vectors (c-tests/vectors/options.vec) through the C API. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Replaces ${CERTS} with the test PKI directory. */
static void expand(const char *in, char *out, size_t size)
{
    const char *dir = getenv("TLSB_TEST_CERTS");
    size_t n = 0;
    while (*in && n + 1 < size) {
        if (strncmp(in, "${CERTS}", 8) == 0) {
            n += (size_t)snprintf(out + n, size - n, "%s", dir ? dir : "");
            in += 8;
        } else {
            out[n++] = *in++;
        }
    }
    out[n < size ? n : size - 1] = '\0';
}

/* The settings text holds this exact line. */
static int has_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, line, len) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

struct vcase {
    char name[4096];
    int role;
    tlsb_config *config;
    char expected[4096];
    char checks[64][4096]; /* "setting ...", "no-setting ...", "error-contains ..." */
    int check_count;
};

static int cases_run, cases_failed;

static void finish(struct vcase *c)
{
    int before = harness_failures;
    tlsb_context *ctx = NULL;
    int32_t rc = tlsb_context_new(c->config, c->role, &ctx);
    char error[2048];
    snprintf(error, sizeof error, "%s", tlsb_last_error());
    if (strcmp(tlsb_status_name(rc), c->expected) != 0)
        harness_fail(__FILE__, __LINE__, "case %s: got %s, expected %s (%s)", c->name, tlsb_status_name(rc),
                     c->expected, error);
    const char *settings = ctx ? tlsb_context_settings(ctx) : "";
    for (int i = 0; i < c->check_count; i++) {
        const char *chk = c->checks[i];
        if (strncmp(chk, "setting ", 8) == 0 && !has_line(settings, chk + 8))
            harness_fail(__FILE__, __LINE__, "case %s: no line '%s' in:\n%s", c->name, chk + 8, settings);
        else if (strncmp(chk, "no-setting ", 11) == 0 && has_line(settings, chk + 11))
            harness_fail(__FILE__, __LINE__, "case %s: unexpected line '%s'", c->name, chk + 11);
        else if (strncmp(chk, "error-contains ", 15) == 0 && !strstr(error, chk + 15))
            harness_fail(__FILE__, __LINE__, "case %s: error '%s' does not contain '%s'", c->name, error, chk + 15);
    }
    tlsb_context_free(ctx);
    tlsb_config_free(c->config);
    c->config = NULL;
    cases_run++;
    if (harness_failures != before)
        cases_failed++;
}

static void all_vectors(void)
{
    const char *path = getenv("TLSB_VECTORS");
    FILE *f = path ? fopen(path, "r") : NULL;
    CHECK(f != NULL);
    if (!f)
        return;
    char raw[2048], line[4096];
    struct vcase *c = calloc(1, sizeof *c);
    int in_case = 0;
    while (fgets(raw, sizeof raw, f)) {
        raw[strcspn(raw, "\r\n")] = '\0';
        if (!raw[0] || raw[0] == '#')
            continue;
        expand(raw, line, sizeof line);
        if (strncmp(line, "case ", 5) == 0) {
            CHECK(!in_case);
            memset(c, 0, sizeof *c);
            snprintf(c->name, sizeof c->name, "%s", line + 5);
            snprintf(c->expected, sizeof c->expected, "TLSB_OK");
            tlsb_config_new(&c->config);
            in_case = 1;
        } else if (!in_case) {
            harness_fail(__FILE__, __LINE__, "directive outside a case: %s", line);
        } else if (strncmp(line, "role ", 5) == 0) {
            c->role = strcmp(line + 5, "server") == 0 ? TLSB_ROLE_SERVER : TLSB_ROLE_CLIENT;
        } else if (strncmp(line, "set ", 4) == 0) {
            char *eq = strchr(line + 4, '=');
            CHECK(eq != NULL);
            if (eq) {
                *eq = '\0';
                tlsb_config_set(c->config, line + 4, eq + 1);
            }
        } else if (strncmp(line, "status ", 7) == 0) {
            snprintf(c->expected, sizeof c->expected, "%s", line + 7);
        } else if (strcmp(line, "end") == 0) {
            finish(c);
            in_case = 0;
        } else if (c->check_count < 64) {
            snprintf(c->checks[c->check_count++], sizeof c->checks[0], "%s", line);
        }
    }
    CHECK(!in_case);
    fclose(f);
    free(c);
    printf("vectors: %d cases, %d failed\n", cases_run, cases_failed);
    CHECK(cases_run >= 60);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {{"all_vectors", all_vectors}, {NULL, NULL}};
    return harness_main(tests, argc, argv);
}
