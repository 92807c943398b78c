/* `tlsbridge verify`: checks a PEM chain offline with the policy a handshake would apply. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

static void verify_usage(void)
{
    fprintf(stderr, "usage: tlsbridge verify [--server] [--name NAME] [--at TIME] CHAIN.pem... [NAME=VALUE ...]\n"
                    "  CHAIN.pem   the peer's certificate first, then its intermediates (one or more files)\n"
                    "  --server    check a client certificate as a server would (needs certificate=...\n"
                    "              certificate-key=..., as for serve); by default check a server's as a client\n"
                    "  --name      the peer name to check (default: tls-target-name; none: not checked)\n"
                    "  --at        verification time: seconds since 1970 or YYYY-MM-DDTHH:MM:SSZ (default: now)\n"
                    "Prints 'verdict: trusted' or 'verdict: rejected' and the reason; exit 0 trusted,\n"
                    "1 rejected, 2 usage, option or file error.\n");
}

static int parse_at(const char *s, int64_t *out)
{
    struct tm tm = {0};
    char *end;
    long long secs = strtoll(s, &end, 10);
    if (*s && !*end) {
        *out = secs;
        return 0;
    }
    end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* Appends a whole file to buf; returns 0 or -1 with the reason printed. */
static int append_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tlsbridge verify: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        char *grown = realloc(*buf, *len + n + 1);
        if (!grown) {
            rc = -1;
            break;
        }
        memcpy(grown + *len, chunk, n);
        *len += n;
        (*buf = grown)[*len] = '\0';
    }
    fclose(f);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    int role = TLSB_ROLE_CLIENT, files = 0;
    const char *name = NULL;
    int64_t at = 0;
    char *chain = NULL, **options = calloc((size_t)argc + 1, sizeof *options);
    size_t len = 0;
    int nopt = 0, status = 0;
    for (int i = 0; status == 0 && i < argc; i++) {
        if (strcmp(argv[i], "--server") == 0)
            role = TLSB_ROLE_SERVER;
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            if (parse_at(argv[++i], &at) != 0) {
                fprintf(stderr, "tlsbridge verify: --at '%s' is neither seconds nor YYYY-MM-DDTHH:MM:SSZ\n", argv[i]);
                status = EXIT_USAGE;
            }
        } else if (strchr(argv[i], '='))
            options[nopt++] = argv[i];
        else if (argv[i][0] == '-') {
            verify_usage();
            status = EXIT_USAGE;
        } else if (append_file(argv[i], &chain, &len) == 0)
            files++;
        else
            status = EXIT_USAGE;
    }
    if (status == 0 && !files) {
        verify_usage();
        status = EXIT_USAGE;
    }
    tlsb_context *ctx = NULL;
    if (status == 0 && tool_context(role, nopt, options, &ctx) != TLSB_OK)
        status = EXIT_USAGE;
    if (status == 0) {
        /* "" skips the name check when neither --name nor tls-target-name names a peer. */
        int32_t rc = tlsb_verify(ctx, (const uint8_t *)chain, (int32_t)len, name, at);
        if (rc == TLSB_OK) {
            printf("verdict: trusted\n");
        } else if (rc == TLSB_ERR_VERIFY || rc == TLSB_ERR_VERIFY_NAME) {
            printf("verdict: rejected\nstatus: %s\nreason: %s\n", tlsb_status_name(rc), tlsb_last_error());
            status = EXIT_FAILED;
        } else {
            tool_report("verify", rc);
            status = EXIT_USAGE;
        }
    }
    tlsb_context_free(ctx);
    free(chain);
    free(options);
    return status;
}
