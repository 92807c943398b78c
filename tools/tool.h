/* Shared pieces of the `tlsbridge` program, a C user of the public header like any other. */
#ifndef TLSB_TOOL_H
#define TLSB_TOOL_H

#include <stdio.h>

#include "tlsbridge.h"

/* Exit codes: 0 success, 1 connection/handshake/verification failure, 2 usage or options error. */
enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Builds a context from NAME=VALUE arguments; on failure prints the error and returns the status. */
int32_t tool_context(int role, int argc, char **argv, tlsb_context **out);
/* Prints the negotiated details as "key: value" lines (docs/faces-contract.md). */
void tool_print_details(FILE *f, tlsb_conn *conn, const char *prefix);
/* Prints "tlsbridge: WHAT failed: STATUS: message" to stderr. */
void tool_report(const char *what, int32_t status);

/* Splits HOST:PORT ([V6]:PORT too); a bare PORT takes default_host ("" = required). 0 or -1. */
int tool_host_port(const char *arg, const char *default_host, char *host, size_t size, int *port);

int cmd_options(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* democerts.c: a throwaway EC P-256 CA, server (localhost) and client certificate in dir. */
int demo_make_certs(const char *dir);

#endif
