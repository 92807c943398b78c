/* Verification policy (docs/verification.md): the offline call, CRLs, compatibility mode in
 * child processes, wildcards, tls-verify-depth, client-certificate selection, `tlsbridge verify`. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* "name=<pki>/a,<pki>/b" for options that take a list. */
static const char *opt2(const char *name, const char *a, const char *b)
{
    static char buf[4][8400];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s=%s,%s", name, cert(a), cert(b));
    return p;
}

/* Our client against our server (one connection); returns the client's handshake status. */
static int32_t handshake(tlsb_context *server, tlsb_context *client, const char *host, struct echo_server *s)
{
    int port = echo_start(s, server);
    tlsb_conn *conn;
    int32_t rc = tlsb_dial(client, host, port, 5000, &conn);
    if (rc == TLSB_OK) {
        tlsb_conn_set_timeout(conn, 10000);
        rc = tlsb_conn_handshake(conn);
        tlsb_conn_shutdown(conn);
        tlsb_conn_free(conn);
    }
    echo_stop(s);
    tlsb_context_free(client);
    return rc;
}

/* ---- the offline call ------------------------------------------------------------- */

static void offline_verdicts(void)
{
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_STATUS(verify_file(c, "server.pem", "localhost"), TLSB_OK);
    CHECK_STATUS(verify_file(c, "server.pem", "127.0.0.1"), TLSB_OK);
    CHECK_STATUS(verify_file(c, "wrongname.pem", "localhost"), TLSB_ERR_VERIFY_NAME);
    CHECK_CONTAINS(tlsb_last_error(), "DNS:wrong.example");
    CHECK_STATUS(verify_file(c, "untrusted.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "unable to get local issuer certificate");
    CHECK_STATUS(verify_file(c, "expired.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "certificate has expired");
    /* Purpose: a client checks servers, so a clientAuth-only certificate fails, and the reverse. */
    CHECK_STATUS(verify_file(c, "client.pem", ""), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "does not include serverAuth");
    tlsb_context_free(c);
    tlsb_context *s = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                             opt("trusted-ca", "ca.pem"), "tls-mutual=1");
    CHECK_STATUS(verify_file(s, "client.pem", NULL), TLSB_OK);
    CHECK_STATUS(verify_file(s, "server.pem", NULL), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "does not include clientAuth");
    tlsb_context_free(s);
}

static void verify_depth(void)
{
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"), "tls-verify-depth=0");
    CHECK_CONTAINS(tlsb_context_settings(c), "verify-depth: 0\n");
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "tls-verify-depth");
    tlsb_context_free(c);
    c = CLIENT(opt("trusted-ca", "ca.pem"), "tls-verify-depth=1");
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_OK);
    tlsb_context_free(c);
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, "tls-verify-depth=-1", NULL), TLSB_ERR_OPTION_VALUE);
    CHECK_CONTAINS(tlsb_last_error(), "tls-verify-depth");
}

/* ---- CRLs --------------------------------------------------------------------------- */

static void crl_revoked_leaf_fails_handshake(void)
{
    struct echo_server s;
    int32_t rc = handshake(SERVER(opt("certificate", "revoked.pem"), opt("certificate-key", "revoked.key")),
                           CLIENT(opt("trusted-ca", "ca.pem"), opt("tls-crl", "crl-ca.pem")), "localhost", &s);
    CHECK_STATUS(rc, TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "certificate revoked");
    CHECK_CONTAINS(tlsb_last_error(), "by the CRL of 'CN=tlsbridge Test CA");
    CHECK_CONTAINS(tlsb_last_error(), "certificate 'CN=localhost,O=tlsbridge tests' at depth 0");
    /* The same CRL lets a certificate it does not list through. */
    rc = handshake(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key")),
                   CLIENT(opt("trusted-ca", "ca.pem"), opt("tls-crl", "crl-ca.pem")), "localhost", &s);
    CHECK_STATUS(rc, TLSB_OK);
}

static void crl_whole_chain(void)
{
    /* The intermediate is revoked by the root's CRL: the reason names it, at depth 1. */
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"), opt2("tls-crl", "crl-ca.pem", "crl-inter.pem"));
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "'CN=tlsbridge Test Intermediate CA,O=tlsbridge tests' at depth 1");
    tlsb_context_free(c);
    /* No CRL from the intermediate: its leaf's status is unknown, which fails. */
    c = CLIENT(opt("trusted-ca", "ca.pem"), opt("tls-crl", "crl-ca.pem"));
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "tls-crl holds no CRL from its issuer 'CN=tlsbridge Test Intermediate CA");
    tlsb_context_free(c);
}

static void crl_validity_and_issuer(void)
{
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"), opt("tls-crl", "crl-ca-expired.pem"));
    CHECK_CONTAINS(tlsb_context_settings(c), "expired at Jan  1 00:00:00 2021 GMT");
    CHECK_STATUS(verify_file(c, "server.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "CRL has expired");
    CHECK_CONTAINS(tlsb_last_error(), "nextUpdate Jan  1 00:00:00 2021 GMT");
    tlsb_context_free(c);
    c = CLIENT(opt("trusted-ca", "ca.pem"), opt("tls-crl", "crl-ca-future.pem"));
    CHECK_CONTAINS(tlsb_context_settings(c), "is not valid before Jan  1 00:00:00 2099 GMT");
    CHECK_STATUS(verify_file(c, "server.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "CRL is not yet valid");
    tlsb_context_free(c);
    c = CLIENT(opt("trusted-ca", "ca.pem"), opt("tls-crl", "crl-other.pem"));
    CHECK_CONTAINS(tlsb_context_settings(c), "the issuer 'CN=tlsbridge Untrusted CA,O=tlsbridge tests' of a CRL");
    CHECK_STATUS(verify_file(c, "server.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "tls-crl holds no CRL from its issuer 'CN=tlsbridge Test CA");
    tlsb_context_free(c);
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, opt("tls-crl", "server.pem"), NULL), TLSB_ERR_FILE);
    CHECK_CONTAINS(tlsb_last_error(), "holds no PEM CRL");
}

/* ---- compatibility mode: child processes, with and without the variable ----------------- */

/* Runs `tlsbridge ARGS...` with compat set to "TLSBRIDGE_COMPAT_MODE=1", "GCTI_SECPACK_COMPAT_MODE=1"
 * or NULL (neither set); returns the exit code, output in out. */
static int tool(const char *compat, char *out, size_t size, const char *const args[])
{
    const char *tool_path = getenv("TLSB_TOOL");
    char *argv[32] = {"env", "-u", "TLSBRIDGE_COMPAT_MODE", "-u", "GCTI_SECPACK_COMPAT_MODE"};
    int n = 5;
    if (compat)
        argv[n++] = (char *)compat;
    argv[n++] = (char *)(tool_path ? tool_path : "tlsbridge");
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    int in, from;
    pid_t pid = spawn(argv, &in, &from);
    close(in);
    out[0] = '\0';
    read_until(from, out, size, "\x01never", 20000);
    close(from);
    return wait_child(pid, 20000);
}

#define TOOL(compat, ...) tool(compat, out, sizeof out, (const char *const[]){__VA_ARGS__, NULL})
#define ON "TLSBRIDGE_COMPAT_MODE=1"

static void compat_key_usage(void)
{
    char out[8192];
    const char *ca = opt("trusted-ca", "ca.pem"), *chain = cert("badku.pem");
    CHECK(TOOL(NULL, "verify", "--name", "localhost", chain, ca) == 1);
    CHECK_CONTAINS(out, "its Key Usage does not allow TLS authentication");
    CHECK(TOOL(ON, "verify", "--name", "localhost", chain, ca) == 0);
    CHECK_CONTAINS(out, "verdict: trusted");
    CHECK(TOOL("GCTI_SECPACK_COMPAT_MODE=1", "verify", "--name", "localhost", chain, ca) == 0);
    CHECK(TOOL(ON, "version") == 0);
    CHECK_CONTAINS(out, "compatibility mode on");
    CHECK(TOOL(NULL, "version") == 0);
    CHECK_CONTAINS(out, "compatibility mode off");
    /* keyCertSign on a leaf that is not a CA: a Key Usage rule, relaxed by the mode too. */
    CHECK(TOOL(NULL, "verify", "--name", "localhost", cert("keycertsign.pem"), ca) == 1);
    CHECK_CONTAINS(out, "keyCertSign in the Key Usage of a certificate that is not a CA");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("keycertsign.pem"), ca) == 0);
    /* The wrong Extended Key Usage is not Key Usage: still refused. */
    CHECK(TOOL(ON, "verify", cert("client.pem"), ca) == 1);
    CHECK_CONTAINS(out, "does not include serverAuth");
}

static void compat_revoked_listed_ca(void)
{
    char out[8192];
    const char *both = opt2("trusted-ca", "ca.pem", "inter-ca.pem"), *root = opt("trusted-ca", "ca.pem");
    const char *crls = opt2("tls-crl", "crl-ca.pem", "crl-inter.pem");
    const char *chain = cert("inter-chain.pem");
    CHECK(TOOL(NULL, "verify", "--name", "localhost", chain, both, crls) == 1);
    CHECK_CONTAINS(out, "certificate revoked");
    CHECK(TOOL(ON, "verify", "--name", "localhost", chain, both, crls) == 0);
    /* Only a CA listed in trusted-ca is forgiven, and never a revoked leaf. */
    CHECK(TOOL(ON, "verify", "--name", "localhost", chain, root, crls) == 1);
    CHECK_CONTAINS(out, "Intermediate CA,O=tlsbridge tests' at depth 1");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("revoked.pem"), root, opt("tls-crl", "crl-ca.pem")) == 1);
    CHECK_CONTAINS(out, "certificate revoked");
}

static void compat_loosens_nothing_else(void)
{
    char out[8192];
    const char *ca = opt("trusted-ca", "ca.pem");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("untrusted.pem"), ca) == 1);
    CHECK_CONTAINS(out, "unable to get local issuer certificate");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("expired.pem"), ca) == 1);
    CHECK_CONTAINS(out, "certificate has expired");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("wrongname.pem"), ca) == 1);
    CHECK_CONTAINS(out, "TLSB_ERR_VERIFY_NAME");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("server.pem"), ca, opt("tls-crl", "crl-ca-expired.pem")) == 1);
    CHECK_CONTAINS(out, "CRL has expired");
}

/* Starts `tlsbridge serve 0` with a certificate from the test PKI; returns its port (0 on failure). */
static int serve_child(const char *cert_file, const char *key_file, pid_t *pid, int *in, int *from)
{
    char *argv[] = {getenv("TLSB_TOOL"), "serve", "0", (char *)opt("certificate", cert_file),
                    (char *)opt("certificate-key", key_file), NULL};
    *pid = spawn(argv, in, from);
    char line[512] = "";
    CHECK(read_until(*from, line, sizeof line, "\n", 10000) == 0);
    const char *at = strstr(line, "listening on ");
    return at ? atoi(at + 13) : 0;
}

static void stop_server(pid_t pid, int in, int from)
{
    stop_child(pid);
    close(in);
    close(from);
}

/* Real handshakes, client and server in child processes: `tlsbridge connect` with and without
 * compatibility mode against `tlsbridge serve` presenting the revoked (listed) intermediate. */
static void compat_handshake_revoked_listed_ca(void)
{
    pid_t server;
    int in, from;
    int port = serve_child("inter-chain.pem", "inter-server.key", &server, &in, &from);
    CHECK(port > 0);
    char target[64], out[8192];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    const char *both = opt2("trusted-ca", "ca.pem", "inter-ca.pem");
    const char *crls = opt2("tls-crl", "crl-ca.pem", "crl-inter.pem");
    CHECK(TOOL(NULL, "connect", target, both, crls, "tls-target-name=localhost") == 1);
    CHECK_CONTAINS(out, "certificate revoked");
    CHECK(TOOL(ON, "connect", target, both, crls, "tls-target-name=localhost") == 0);
    CHECK_CONTAINS(out, "verify: ok");
    /* Not listed in trusted-ca: refused in compatibility mode too. */
    CHECK(TOOL(ON, "connect", target, opt("trusted-ca", "ca.pem"), crls, "tls-target-name=localhost") == 1);
    CHECK_CONTAINS(out, "certificate revoked");
    stop_server(server, in, from);
}

/* The same for a server certificate whose Key Usage does not allow TLS, in TLS 1.3 and 1.2. */
static void compat_handshake_key_usage(void)
{
    pid_t server;
    int in, from;
    int port = serve_child("badku.pem", "badku.key", &server, &in, &from);
    CHECK(port > 0);
    char target[64], out[8192];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    const char *ca = opt("trusted-ca", "ca.pem");
    CHECK(TOOL(NULL, "connect", target, ca, "tls-target-name=localhost") == 1);
    CHECK_CONTAINS(out, "its Key Usage does not allow TLS authentication");
    CHECK(TOOL(ON, "connect", target, ca, "tls-target-name=localhost") == 0);
    CHECK_CONTAINS(out, "version: TLSv1.3");
    CHECK(TOOL(ON, "connect", target, ca, "tls-target-name=localhost", "sec-protocol=TLSv12") == 0);
    CHECK_CONTAINS(out, "version: TLSv1.2");
    /* Compatibility mode does not excuse a name mismatch. */
    CHECK(TOOL(ON, "connect", target, ca, "tls-target-name=other.example") == 1);
    CHECK_CONTAINS(out, "TLSB_ERR_VERIFY_NAME");
    stop_server(server, in, from);
}

/* ---- wildcards ----------------------------------------------------------------------- */

static void wildcard_rules(void)
{
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_CONTAINS(tlsb_context_settings(c), "target-name-wildcards: allow\nverify-depth: default\n");
    CHECK_STATUS(verify_file(c, "wild.pem", "a.tlsbridge.test"), TLSB_OK);
    CHECK_STATUS(verify_file(c, "wild.pem", "A.TLSBRIDGE.test."), TLSB_OK);
    CHECK_STATUS(verify_file(c, "wild.pem", "a.b.tlsbridge.test"), TLSB_ERR_VERIFY_NAME); /* one label only */
    CHECK_STATUS(verify_file(c, "wild.pem", "tlsbridge.test"), TLSB_ERR_VERIFY_NAME);
    CHECK_STATUS(verify_file(c, "wild-suffix.pem", "example.co.uk"), TLSB_ERR_VERIFY_NAME); /* public suffix */
    CHECK_CONTAINS(tlsb_last_error(), "DNS:*.co.uk");
    CHECK_STATUS(verify_file(c, "wild-partial.pem", "www.tlsbridge.test"), TLSB_ERR_VERIFY_NAME);
    tlsb_context_free(c);
    c = CLIENT(opt("trusted-ca", "ca.pem"), "tls-target-name-wildcards=deny");
    CHECK_CONTAINS(tlsb_context_settings(c), "target-name-wildcards: deny\n");
    CHECK_STATUS(verify_file(c, "wild.pem", "a.tlsbridge.test"), TLSB_ERR_VERIFY_NAME);
    CHECK_CONTAINS(tlsb_last_error(), "tls-target-name-wildcards=deny");
    CHECK_STATUS(verify_file(c, "server.pem", "localhost"), TLSB_OK);
    tlsb_context_free(c);
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, "tls-target-name-wildcards=maybe", NULL), TLSB_ERR_OPTION_VALUE);
    CHECK_CONTAINS(tlsb_last_error(), "allowed: allow, deny");
}

static void wildcard_deny_handshake(void)
{
    struct echo_server s;
    int32_t rc = handshake(SERVER(opt("certificate", "wild.pem"), opt("certificate-key", "wild.key")),
                           CLIENT(opt("trusted-ca", "ca.pem"), "tls-target-name=a.tlsbridge.test"), "127.0.0.1", &s);
    CHECK_STATUS(rc, TLSB_OK);
    rc = handshake(SERVER(opt("certificate", "wild.pem"), opt("certificate-key", "wild.key")),
                   CLIENT(opt("trusted-ca", "ca.pem"), "tls-target-name=a.tlsbridge.test",
                          "tls-target-name-wildcards=deny"),
                   "127.0.0.1", &s);
    CHECK_STATUS(rc, TLSB_ERR_VERIFY_NAME);
}

/* ---- client-certificate selection ---------------------------------------------------- */

static const char *pairs_cert(void)
{
    static char buf[8400];
    snprintf(buf, sizeof buf, "certificate=%s;%s", cert("other-client.pem"), cert("client.pem"));
    return buf;
}

static const char *pairs_key(void)
{
    static char buf[8400];
    snprintf(buf, sizeof buf, "certificate-key=%s;%s", cert("other-client.key"), cert("client.key"));
    return buf;
}

/* The server trusts `ca`; returns the subject it saw, "" if its handshake failed. */
static void selection(const char *ca, const char *expected_peer, int32_t expected_server)
{
    struct echo_server s;
    handshake(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"), "tls-mutual=1",
                     opt("trusted-ca", ca)),
              CLIENT(opt("trusted-ca", "ca.pem"), pairs_cert(), pairs_key()), "localhost", &s);
    CHECK_STATUS(s.handshake, expected_server);
    CHECK_STR(s.peer, expected_peer);
}

static void client_certificate_selection(void)
{
    selection("ca.pem", "CN=tlsbridge client,O=tlsbridge tests", TLSB_OK);
    selection("other-ca.pem", "CN=tlsbridge other client,O=tlsbridge tests", TLSB_OK);
    /* No pair under a named CA: the first is sent, and this server refuses it. */
    selection("inter-ca.pem", "", TLSB_ERR_VERIFY);
    char keys[8400];
    snprintf(keys, sizeof keys, "certificate-key=%s", cert("client.key"));
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, pairs_cert(), keys, NULL), TLSB_ERR_OPTION_CONFLICT);
    CHECK_CONTAINS(tlsb_last_error(), "2 certificate entries but 1 keys");
    CHECK_STATUS(context_status(TLSB_ROLE_SERVER, pairs_cert(), pairs_key(), NULL), TLSB_ERR_OPTION_VALUE);
    snprintf(keys, sizeof keys, "certificate-key=%s;%s", cert("client.key"), cert("client.key"));
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, pairs_cert(), keys, NULL), TLSB_ERR_KEY_MISMATCH);
    CHECK_CONTAINS(tlsb_last_error(), "other-client.pem");
}

/* ---- tlsbridge verify ------------------------------------------------------------------- */

static void tool_verify_exit_codes(void)
{
    char out[8192];
    const char *ca = opt("trusted-ca", "ca.pem");
    CHECK(TOOL(NULL, "verify", "--name", "localhost", cert("server.pem"), ca) == 0);
    CHECK_STR(out, "verdict: trusted\n");
    CHECK(TOOL(NULL, "verify", "--name", "localhost", cert("inter-server.pem"), cert("inter-ca.pem"), ca) == 0);
    CHECK(TOOL(NULL, "verify", "--name", "nothere", cert("server.pem"), ca) == 1);
    CHECK_CONTAINS(out, "verdict: rejected\nstatus: TLSB_ERR_VERIFY_NAME\nreason: ");
    CHECK(TOOL(NULL, "verify", "--at", "2020-06-01T00:00:00Z", cert("server.pem"), ca) == 1);
    CHECK_CONTAINS(out, "certificate is not yet valid");
    CHECK(TOOL(NULL, "verify", "--server", cert("client.pem"), ca, opt("certificate", "server.pem"),
               opt("certificate-key", "server.key")) == 0);
    CHECK(TOOL(NULL, "verify", "--server", cert("server.pem"), ca, opt("certificate", "server.pem"),
               opt("certificate-key", "server.key")) == 1);
    CHECK_CONTAINS(out, "does not include clientAuth");
    CHECK(TOOL(NULL, "verify", cert("missing.pem"), ca) == 2);
    CHECK_CONTAINS(out, "missing.pem");
    CHECK(TOOL(NULL, "verify", cert("server.pem"), ca, "tls-crl=") == 0); /* empty = not given */
    CHECK(TOOL(NULL, "verify", cert("server.pem"), "no-such-option=1") == 2);
    CHECK_CONTAINS(out, "unknown option 'no-such-option'");
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"offline_verdicts", offline_verdicts},
        {"verify_depth", verify_depth},
        {"crl_revoked_leaf_fails_handshake", crl_revoked_leaf_fails_handshake},
        {"crl_whole_chain", crl_whole_chain},
        {"crl_validity_and_issuer", crl_validity_and_issuer},
        {"compat_key_usage", compat_key_usage},
        {"compat_revoked_listed_ca", compat_revoked_listed_ca},
        {"compat_loosens_nothing_else", compat_loosens_nothing_else},
        {"compat_handshake_revoked_listed_ca", compat_handshake_revoked_listed_ca},
        {"compat_handshake_key_usage", compat_handshake_key_usage},
        {"wildcard_rules", wildcard_rules},
        {"wildcard_deny_handshake", wildcard_deny_handshake},
        {"client_certificate_selection", client_certificate_selection},
        {"tool_verify_exit_codes", tool_verify_exit_codes},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
