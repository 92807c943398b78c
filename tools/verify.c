/* `tlsbridge verify`: checks a PEM chain offline with the policy a handshake would apply. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

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

static int cmd_verify(int argc, char **argv)
{
    static const struct option flags[] = {{"server", no_argument, NULL, 's'},
                                          {"name", required_argument, NULL, 'n'},
                                          {"at", required_argument, NULL, 'a'},
                                          TOOL_COMMON_FLAGS};
    int role = TLSB_ROLE_CLIENT, files = 0, flag;
    const char *name = NULL;
    int64_t at = 0;
    while ((flag = getopt_long(argc, argv, TOOL_SHORT_FLAGS, flags, NULL)) != -1) {
        if (flag == 's')
            role = TLSB_ROLE_SERVER;
        else if (flag == 'n')
            name = optarg;
        else if (flag != 'a')
            return tool_common_flag(&tool_verify, flag, argv);
        else if (parse_at(optarg, &at) != 0) {
            fprintf(stderr, "tlsbridge verify: --at '%s' is neither seconds nor YYYY-MM-DDTHH:MM:SSZ\n", optarg);
            return EXIT_USAGE;
        }
    }
    /* The operands: NAME=VALUE options, and the chain's files. */
    char *chain = NULL, **options = calloc((size_t)argc + 1, sizeof *options);
    size_t len = 0;
    int nopt = 0, status = options ? 0 : EXIT_FAILED;
    for (int i = optind; status == 0 && i < argc; i++) {
        if (strchr(argv[i], '='))
            options[nopt++] = argv[i];
        else if (append_file(argv[i], &chain, &len) == 0)
            files++;
        else
            status = EXIT_USAGE;
    }
    if (status == 0 && !files) {
        fprintf(stderr, "tlsbridge verify: no CHAIN.pem given (see tlsbridge verify --help)\n");
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

const struct tool_command tool_verify = {
    "verify",
    "[--server] [--name NAME] [--at TIME] CHAIN.pem... [NAME=VALUE ...]",
    "check a chain offline as a handshake would: 'verdict: trusted' or 'verdict: rejected'",
    "  CHAIN.pem         the peer's certificate first, then its intermediates (one or more files)\n"
    "  NAME=VALUE        library options (docs/options.md), e.g. trusted-ca=ca.pem\n"
    "      --server      check a client certificate as a server would (needs certificate=...\n"
    "                    certificate-key=..., as for serve); by default check a server's as a client\n"
    "      --name NAME   the peer name to check (default: tls-target-name; none: not checked)\n"
    "      --at TIME     verification time: seconds since 1970 or YYYY-MM-DDTHH:MM:SSZ (default: now)\n",
    "0 trusted, 1 rejected, 2 usage, option or file error",
    cmd_verify};
