/* The `tlsbridge` program as a user runs it: options, connect (to openssl s_server), serve (for
 * openssl s_client), demo. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

struct run {
    int status;
    char out[65536];
};

/* Runs the tool with args (NULL-terminated), feeding input (or nothing), to completion. */
static void tool(struct run *r, const char *input, char *const args[])
{
    char *argv[32] = {getenv("TLSB_TOOL")};
    int n = 1;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int in, out;
    pid_t pid = spawn(argv, &in, &out);
    if (input)
        CHECK(write(in, input, strlen(input)) == (ssize_t)strlen(input));
    close(in); /* end of input: connect then sends close_notify */
    r->out[0] = '\0';
    read_until(out, r->out, sizeof r->out, "\x01never", 60000); /* to EOF */
    close(out);
    r->status = wait_child(pid, 10000);
}

static void options_command(void)
{
    struct run r;
    tool(&r, NULL, (char *[]){"options", "sec-protocol=TLSv12", NULL});
    CHECK(r.status == 0);
    CHECK_CONTAINS(r.out, "\nprotocols: TLSv1.2\n");
    tool(&r, NULL, (char *[]){"options", "tls-version=TLSv1.2", "protocol-list=TLSv1.3", NULL});
    CHECK(r.status == 2);
    CHECK_CONTAINS(r.out, "TLSB_ERR_OPTION_CONFLICT: options tls-version=TLSv1.2, protocol-list=TLSv1.3 enable no "
                          "protocol version in common");
    tool(&r, NULL, (char *[]){"options", "cipher-list=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", NULL});
    CHECK(r.status == 0);
    CHECK_CONTAINS(r.out, "\nciphers: ECDHE-ECDSA-AES128-GCM-SHA256\n");
    CHECK_CONTAINS(r.out, "\nciphers-iana: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n");
    tool(&r, NULL, (char *[]){"options", "--server", NULL});
    CHECK(r.status == 2);
    CHECK_CONTAINS(r.out, "TLSB_ERR_CERT_REQUIRED");
    tool(&r, NULL, (char *[]){"options", "not-an-assignment", NULL});
    CHECK(r.status == 2);
    tool(&r, NULL, (char *[]){"frobnicate", NULL});
    CHECK(r.status == 2);
    CHECK_CONTAINS(r.out, "unknown command 'frobnicate'");
}

/* -h/--help and --version for the program and for each command; help names the exit statuses. */
static void help_and_version(void)
{
    static char *const commands[] = {"demo", "options", "connect", "serve", "verify", "version", NULL};
    char version[256], usage[64];
    snprintf(version, sizeof version, "tlsbridge %s, OpenSSL ", tlsb_version());
    struct run r;
    for (char *const *flag = (char *const[]){"-h", "--help", "help", NULL}; *flag; flag++) {
        tool(&r, NULL, (char *[]){*flag, NULL});
        CHECK(r.status == 0);
        CHECK_CONTAINS(r.out, "usage: tlsbridge [-h|--help] [--version] COMMAND [ARGUMENTS...]\n");
        CHECK_CONTAINS(r.out, "exit status: 0 success; 1 connection, handshake, TLS or verification failure; "
                              "2 usage, option or file error.\n");
        for (char *const *c = commands; *c; c++) {
            snprintf(usage, sizeof usage, "\n  %-8s ", *c);
            CHECK_CONTAINS(r.out, usage);
        }
    }
    tool(&r, NULL, (char *[]){"--version", NULL});
    CHECK(r.status == 0);
    CHECK_CONTAINS(r.out, version);
    for (char *const *c = commands; *c; c++) {
        snprintf(usage, sizeof usage, "usage: tlsbridge %s", *c);
        char *const asks[][3] = {{*c, "--help", NULL}, {*c, "-h", NULL}, {"help", *c, NULL}};
        for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
            tool(&r, NULL, asks[i]);
            if (r.status != 0 || !strstr(r.out, usage) || !strstr(r.out, "\nexit status: "))
                harness_fail(__FILE__, __LINE__, "%s %s: exit %d, expected 0 and its help:\n%s", asks[i][0], asks[i][1],
                             r.status, r.out);
        }
        tool(&r, NULL, (char *[]){*c, "--version", NULL});
        CHECK(r.status == 0);
        CHECK_CONTAINS(r.out, version);
    }
    tool(&r, NULL, (char *[]){"options", "--bogus", NULL});
    CHECK(r.status == 2);
    CHECK_CONTAINS(r.out, "tlsbridge options: unknown flag '--bogus' (see tlsbridge options --help)");
    tool(&r, NULL, (char *[]){"--bogus", NULL});
    CHECK(r.status == 2);
    CHECK_CONTAINS(r.out, "tlsbridge: unknown flag '--bogus'");
    tool(&r, NULL, (char *[]){"help", "frobnicate", NULL});
    CHECK(r.status == 2);
    CHECK_CONTAINS(r.out, "tlsbridge help: unknown command 'frobnicate'");
    tool(&r, NULL, (char *[]){"verify", (char *)cert("server.pem"), "--name", NULL});
    CHECK(r.status == 2);
    CHECK_CONTAINS(r.out, "tlsbridge verify: --name needs a value");
}

/* Flags may come anywhere among the operands: before, between or after them. */
static void flags_anywhere(void)
{
    const char *own = opt("certificate", "server.pem"), *own_key = opt("certificate-key", "server.key");
    struct run r;
    tool(&r, NULL, (char *[]){"options", (char *)own, (char *)own_key, "--server", NULL});
    CHECK(r.status == 0);
    CHECK_CONTAINS(r.out, "role: server\n");
    tool(&r, NULL, (char *[]){"options", (char *)own, "--server", (char *)own_key, NULL});
    CHECK(r.status == 0);
    CHECK_CONTAINS(r.out, "role: server\n");
    tool(&r, NULL, (char *[]){"options", "sec-protocol=TLSv12", "--server", NULL});
    CHECK(r.status == 2);
    CHECK_CONTAINS(r.out, "TLSB_ERR_CERT_REQUIRED");
    const char *ca = opt("trusted-ca", "ca.pem");
    tool(&r, NULL, (char *[]){"verify", (char *)cert("server.pem"), (char *)ca, "--name", "localhost", NULL});
    CHECK(r.status == 0);
    CHECK_CONTAINS(r.out, "verdict: trusted\n");
    tool(&r, NULL, (char *[]){"verify", (char *)cert("server.pem"), "--name", "nothere", (char *)ca, NULL});
    CHECK(r.status == 1);
    CHECK_CONTAINS(r.out, "TLSB_ERR_VERIFY_NAME");
}

/* `tlsbridge connect` to an `openssl s_server -rev` (which answers each line reversed). */
static void connect_to_s_server(const char *server_flag, char *const client_opts[], int expect_status,
                                const char *expect)
{
    int port = free_port();
    char accept[32], target[32];
    snprintf(accept, sizeof accept, "127.0.0.1:%d", port);
    snprintf(target, sizeof target, "localhost:%d", port);
    char *sargv[] = {"openssl",
                     "s_server",
                     "-accept",
                     accept,
                     "-cert",
                     (char *)cert("server.pem"),
                     "-key",
                     (char *)cert("server.key"),
                     "-rev",
                     "-Verify",
                     "1",
                     "-CAfile",
                     (char *)cert("ca.pem"),
                     (char *)server_flag,
                     NULL};
    if (!server_flag[0])
        sargv[9] = NULL; /* no client certificate requested */
    int sin, sout;
    pid_t server = spawn(sargv, &sin, &sout);
    char banner[4096] = "";
    CHECK(read_until(sout, banner, sizeof banner, "ACCEPT", 10000) == 0);
    char *args[16] = {"connect", target};
    int n = 2;
    for (int i = 0; client_opts[i]; i++)
        args[n++] = client_opts[i];
    args[n] = NULL;
    struct run r;
    tool(&r, "tlsbridge\n", args);
    if (r.status != expect_status)
        harness_fail(__FILE__, __LINE__, "connect exit %d, expected %d: %s", r.status, expect_status, r.out);
    CHECK_CONTAINS(r.out, expect);
    close(sin);
    stop_child(server);
    close(sout);
}

static void connect_command(void)
{
    connect_to_s_server("-tls1_3",
                        (char *[]){(char *)opt("trusted-ca", "ca.pem"), (char *)opt("certificate", "client.pem"),
                                   (char *)opt("certificate-key", "client.key"), NULL},
                        0, "version: TLSv1.3");
    connect_to_s_server("-tls1_3",
                        (char *[]){(char *)opt("trusted-ca", "ca.pem"), (char *)opt("certificate", "client.pem"),
                                   (char *)opt("certificate-key", "client.key"), NULL},
                        0, "egdirbslt");
    connect_to_s_server("-tls1_2",
                        (char *[]){(char *)opt("trusted-ca", "ca.pem"), (char *)opt("certificate", "client.pem"),
                                   (char *)opt("certificate-key", "client.key"), NULL},
                        0, "version: TLSv1.2");
    connect_to_s_server("", (char *[]){(char *)opt("trusted-ca", "ca.pem"), "sec-protocol=TLSv12", NULL}, 0,
                        "egdirbslt");
    connect_to_s_server("", (char *[]){(char *)opt("trusted-ca", "ca.pem"), "tls-target-name=wrong.example", NULL}, 1,
                        "TLSB_ERR_VERIFY_NAME: certificate verification failed: target name 'wrong.example' does "
                        "not match the certificate 'CN=localhost,O=tlsbridge tests', whose names are DNS:localhost, "
                        "IP:127.0.0.1");
}

/* `openssl s_client` against `tlsbridge serve`. */
static void serve_command(void)
{
    struct {
        char *server_opt;
        char *client_flags[6];
        int ok;
        const char *server_says;
    } cases[] = {
        {"sec-protocol=", {"-tls1_3", NULL}, 1, "version: TLSv1.3"},
        {"sec-protocol=", {"-tls1_2", NULL}, 1, "version: TLSv1.2"},
        {"tls-mutual=1",
         {"-cert", (char *)cert("client.pem"), "-key", (char *)cert("client.key"), NULL},
         1,
         "peer: CN=tlsbridge client,O=tlsbridge tests"},
        {"tls-mutual=1", {"-tls1_2", NULL}, 0, "handshake failed: TLSB_ERR_PEER_CERT_MISSING"},
        {"sec-protocol=TLSv12", {"-tls1_3", NULL}, 0, "handshake failed: TLSB_ERR_PROTOCOL_VERSION"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {getenv("TLSB_TOOL"),
                        "serve",
                        "0",
                        (char *)opt("certificate", "server.pem"),
                        (char *)opt("certificate-key", "server.key"),
                        (char *)opt("trusted-ca", "ca.pem"),
                        cases[i].server_opt,
                        NULL};
        int sin, sout;
        pid_t server = spawn(argv, &sin, &sout);
        char log[8192] = "";
        CHECK(read_until(sout, log, sizeof log, "\n", 10000) == 0);
        int port = 0;
        CHECK(sscanf(log, "listening on %d", &port) == 1);
        char target[32];
        snprintf(target, sizeof target, "127.0.0.1:%d", port);
        char *cargv[16] = {"openssl",
                           "s_client",
                           "-connect",
                           target,
                           "-brief",
                           "-CAfile",
                           (char *)cert("ca.pem"),
                           "-verify_return_error"};
        int n = 8;
        for (int j = 0; cases[i].client_flags[j]; j++)
            cargv[n++] = cases[i].client_flags[j];
        cargv[n] = NULL;
        int cin, cout;
        pid_t client = spawn(cargv, &cin, &cout);
        char said[8192] = "";
        if (cases[i].ok) {
            CHECK(read_until(cout, said, sizeof said, "CONNECTION ESTABLISHED", 10000) == 0);
            CHECK(write(cin, "echo me\n", 8) == 8);
            CHECK(read_until(cout, said, sizeof said, "echo me\n", 10000) == 0);
        }
        close(cin);
        wait_child(client, 10000);
        close(cout);
        CHECK(read_until(sout, log, sizeof log, cases[i].server_says, 10000) == 0);
        if (!strstr(log, cases[i].server_says))
            harness_fail(__FILE__, __LINE__, "case %zu: server log lacks '%s':\n%s", i, cases[i].server_says, log);
        close(sin);
        stop_child(server);
        close(sout);
    }
}

static void demo_command(void)
{
    struct run r;
    tool(&r, NULL, (char *[]){"demo", NULL});
    CHECK(r.status == 0);
    CHECK_CONTAINS(r.out, "echo     | ok");
    CHECK_CONTAINS(r.out, "verify   | ok");
    CHECK_CONTAINS(r.out, "CN=tlsbridge demo client,O=tlsbridge demo");
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"options_command", options_command},
        {"help_and_version", help_and_version},
        {"flags_anywhere", flags_anywhere},
        {"connect_command", connect_command},
        {"serve_command", serve_command},
        {"demo_command", demo_command},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
