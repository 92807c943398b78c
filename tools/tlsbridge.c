/* `tlsbridge`: the program's help and flags, the commands' table, and the helpers they share. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const struct tool_command *const commands[] = {&tool_demo,  &tool_options, &tool_connect,
                                                      &tool_serve, &tool_verify,  &tool_version};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static const char exit_statuses[] =
    "0 success; 1 connection, handshake, TLS or verification failure; 2 usage, option or file error";

static void program_help(FILE *f)
{
    fprintf(f, "usage: tlsbridge [-h|--help] [--version] COMMAND [ARGUMENTS...]\n"
               "       tlsbridge help [COMMAND]\n"
               "commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f,
            "Every command takes -h/--help (its own help) and --version. Flags may come anywhere among\n"
            "the arguments; \"--\" ends them. NAME=VALUE arguments are the library's options\n"
            "(docs/options.md), e.g. sec-protocol=TLSv12 trusted-ca=ca.pem.\n"
            "exit status: %s.\n",
            exit_statuses);
}

static void command_help(FILE *f, const struct tool_command *cmd)
{
    fprintf(f,
            "usage: tlsbridge %s%s%s\n%s\n%s"
            "  -h, --help        this help\n"
            "      --version     the library and OpenSSL versions\n"
            "exit status: %s.\n",
            cmd->name, cmd->synopsis[0] ? " " : "", cmd->synopsis, cmd->summary, cmd->details, cmd->exits);
}

static void print_version(void)
{
    printf("tlsbridge %s, %s, compatibility mode %s\n", tlsb_version(), tlsb_openssl_version(),
           tlsb_compat_mode() ? "on" : "off");
}

/* cmd NULL: the program's own flags, before the command. */
int tool_common_flag(const struct tool_command *cmd, int flag, char **argv)
{
    char who[32];
    snprintf(who, sizeof who, "tlsbridge%s%s", cmd ? " " : "", cmd ? cmd->name : "");
    switch (flag) {
    case 'h':
        if (cmd)
            command_help(stdout, cmd);
        else
            program_help(stdout);
        return 0;
    case 'V':
        print_version();
        return 0;
    case ':':
        fprintf(stderr, "%s: %s needs a value (see %s --help)\n", who, argv[optind - 1], who);
        return EXIT_USAGE;
    default: /* '?': optopt is the unknown short flag, or 0 for a long one */
        if (optopt)
            fprintf(stderr, "%s: unknown flag '-%c' (see %s --help)\n", who, optopt, who);
        else
            fprintf(stderr, "%s: unknown flag '%s' (see %s --help)\n", who, argv[optind - 1], who);
        return EXIT_USAGE;
    }
}

int tool_common_flags(const struct tool_command *cmd, int argc, char **argv)
{
    static const struct option flags[] = {TOOL_COMMON_FLAGS};
    int flag = getopt_long(argc, argv, TOOL_SHORT_FLAGS, flags, NULL);
    return flag == -1 ? -1 : tool_common_flag(cmd, flag, argv);
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

static int cmd_options(int argc, char **argv)
{
    static const struct option flags[] = {{"server", no_argument, NULL, 's'}, TOOL_COMMON_FLAGS};
    int role = TLSB_ROLE_CLIENT, flag;
    while ((flag = getopt_long(argc, argv, TOOL_SHORT_FLAGS, flags, NULL)) != -1) {
        if (flag == 's')
            role = TLSB_ROLE_SERVER;
        else
            return tool_common_flag(&tool_options, flag, argv);
    }
    tlsb_context *ctx;
    if (tool_context(role, argc - optind, argv + optind, &ctx) != TLSB_OK)
        return EXIT_USAGE;
    fputs(tlsb_context_settings(ctx), stdout);
    tlsb_context_free(ctx);
    return 0;
}

const struct tool_command tool_options = {
    "options",
    "[--server] [NAME=VALUE ...]",
    "print the effective settings the options resolve to",
    "  NAME=VALUE        library options (docs/options.md)\n"
    "      --server      resolve them for a server (default: a client)\n",
    "0 the options are valid (the settings are printed), 2 they are not (the error is printed)",
    cmd_options};

static int cmd_version(int argc, char **argv)
{
    int status = tool_common_flags(&tool_version, argc, argv);
    if (status >= 0)
        return status;
    print_version();
    return 0;
}

const struct tool_command tool_version = {"version", "",         "library and OpenSSL versions, compatibility mode",
                                          "",        "0 always", cmd_version};

static const struct tool_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option flags[] = {TOOL_COMMON_FLAGS};
    int flag;
    /* "+": the program's own flags end at the command; the command parses the rest. */
    while ((flag = getopt_long(argc, argv, "+" TOOL_SHORT_FLAGS, flags, NULL)) != -1)
        return tool_common_flag(NULL, flag, argv);
    if (optind == argc) {
        program_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        const struct tool_command *cmd = optind + 1 < argc ? find_command(argv[optind + 1]) : NULL;
        if (optind + 1 < argc && !cmd) {
            fprintf(stderr, "tlsbridge help: unknown command '%s'\n", argv[optind + 1]);
            return EXIT_USAGE;
        }
        if (cmd)
            command_help(stdout, cmd);
        else
            program_help(stdout);
        return 0;
    }
    const struct tool_command *cmd = find_command(name);
    if (!cmd) {
        fprintf(stderr, "tlsbridge: unknown command '%s'\n", name);
        program_help(stderr);
        return EXIT_USAGE;
    }
    argc -= optind;
    argv += optind;
    optind = 0; /* glibc: start afresh, at argv[1] */
    return cmd->run(argc, argv);
}
