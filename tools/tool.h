/* Shared pieces of the `tlsbridge` program, a C user of the public header like any other. */
#ifndef TLSB_TOOL_H
#define TLSB_TOOL_H

#include <getopt.h>
#include <stdio.h>

#include "tlsbridge.h"

/* Exit codes: 0 success, 1 connection/handshake/verification failure, 2 usage or options error. */
enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* One command of the program: its name, its help, and what runs it. */
struct tool_command {
    const char *name;
    const char *synopsis;              /* its arguments, after "tlsbridge NAME" */
    const char *summary;               /* one line, also in the program's help */
    const char *details;               /* its operands and its own flags, one per line */
    const char *exits;                 /* what its exit statuses mean */
    int (*run)(int argc, char **argv); /* argv[0] is the command's name; getopt starts afresh */
};
extern const struct tool_command tool_demo, tool_options, tool_connect, tool_serve, tool_verify, tool_version;

/* Every command's flags, parsed with getopt_long: they may come anywhere among the operands ("--"
 * ends them). A command's table of long flags ends with TOOL_COMMON_FLAGS. */
#define TOOL_SHORT_FLAGS ":h"
/* (The trailing comma keeps clang-format from breaking the macro up.) */
#define TOOL_COMMON_FLAGS {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
/* For a getopt_long result that is none of the command's own flags: -h/--help prints the
 * command's help (cmd NULL: the program's), --version the versions (exit status 0); an unknown
 * flag or a missing value is reported (EXIT_USAGE). Returns the exit status. */
int tool_common_flag(const struct tool_command *cmd, int flag, char **argv);
/* The flags of a command that has none of its own: -1 to go on with the operands at
 * argv[optind...], or the exit status (as tool_common_flag). */
int tool_common_flags(const struct tool_command *cmd, int argc, char **argv);

/* Builds a context from NAME=VALUE arguments; on failure prints the error and returns the status. */
int32_t tool_context(int role, int argc, char **argv, tlsb_context **out);
/* Prints the negotiated details as "key: value" lines (docs/faces-contract.md). */
void tool_print_details(FILE *f, tlsb_conn *conn, const char *prefix);
/* Prints "tlsbridge: WHAT failed: STATUS: message" to stderr. */
void tool_report(const char *what, int32_t status);

/* Splits HOST:PORT ([V6]:PORT too); a bare PORT takes default_host ("" = required). 0 or -1. */
int tool_host_port(const char *arg, const char *default_host, char *host, size_t size, int *port);

/* democerts.c: a throwaway EC P-256 CA, server (localhost) and client certificate in dir. */
int demo_make_certs(const char *dir);

#endif
