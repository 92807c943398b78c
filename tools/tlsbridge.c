/* `tlsbridge`: demo, options, connect, serve — see `tlsbridge help`. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage:\n"
            "  tlsbridge demo                         throwaway PKI, native server, C/Java/.NET clients\n"
            "  tlsbridge options [--server] [NAME=VALUE ...]   print the effective settings\n"
            "  tlsbridge connect HOST:PORT [NAME=VALUE ...]    TLS client: stdin to peer, peer to stdout\n"
            "  tlsbridge serve [HOST:]PORT [NAME=VALUE ...]    TLS echo server (PORT 0: any free port)\n"
            "  tlsbridge verify [--server] [--name NAME] [--at TIME] CHAIN.pem... [NAME=VALUE ...]\n"
            "                                         check a chain offline as a handshake would\n"
            "  tlsbridge version                      library and OpenSSL versions\n"
            "Options are those of docs/options.md, e.g. sec-protocol=TLSv12 trusted-ca=ca.pem\n");
}

int32_t tool_context(int role, int argc, char **argv, tlsb_context **out)
{
    tlsb_config *cfg;
    int32_t rc = tlsb_config_new(&cfg);
    for (int i = 0; rc == TLSB_OK && i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "tlsbridge: '%s' is not NAME=VALUE\n", argv[i]);
            tlsb_config_free(cfg);
            return TLSB_ERR_ARGUMENT;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - argv[i]), argv[i]);
        rc = tlsb_config_set(cfg, name, eq + 1);
    }
    if (rc == TLSB_OK)
        rc = tlsb_context_new(cfg, role, out);
    if (rc != TLSB_OK)
        tool_report("options", rc);
    tlsb_config_free(cfg);
    return rc;
}

void tool_report(const char *what, int32_t status)
{
    fprintf(stderr, "tlsbridge: %s failed: %s: %s\n", what, tlsb_status_name(status), tlsb_last_error());
}

void tool_print_details(FILE *f, tlsb_conn *conn, const char *prefix)
{
    fprintf(f, "%sversion: %s\n", prefix, tlsb_conn_info(conn, TLSB_INFO_VERSION));
    fprintf(f, "%scipher: %s (IANA %s)\n", prefix, tlsb_conn_info(conn, TLSB_INFO_CIPHER),
            tlsb_conn_info(conn, TLSB_INFO_CIPHER_IANA));
    fprintf(f, "%speer: %s\n", prefix, tlsb_conn_info(conn, TLSB_INFO_PEER_SUBJECT));
    fprintf(f, "%sissuer: %s\n", prefix, tlsb_conn_info(conn, TLSB_INFO_PEER_ISSUER));
    fprintf(f, "%sverify: %s\n", prefix, tlsb_conn_info(conn, TLSB_INFO_VERIFY));
    fflush(f);
}

int cmd_options(int argc, char **argv)
{
    int role = TLSB_ROLE_CLIENT;
    if (argc > 0 && strcmp(argv[0], "--server") == 0) {
        role = TLSB_ROLE_SERVER;
        argc--;
        argv++;
    }
    tlsb_context *ctx;
    if (tool_context(role, argc, argv, &ctx) != TLSB_OK)
        return EXIT_USAGE;
    fputs(tlsb_context_settings(ctx), stdout);
    tlsb_context_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    argc -= 2;
    argv += 2;
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc, argv);
    if (strcmp(cmd, "options") == 0)
        return cmd_options(argc, argv);
    if (strcmp(cmd, "connect") == 0)
        return cmd_connect(argc, argv);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc, argv);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc, argv);
    if (strcmp(cmd, "version") == 0) {
        printf("tlsbridge %s, %s, compatibility mode %s\n", tlsb_version(), tlsb_openssl_version(),
               tlsb_compat_mode() ? "on" : "off");
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "tlsbridge: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
