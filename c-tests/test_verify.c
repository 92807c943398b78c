/* Verification policy (docs/verification.md): the offline call, CRLs, compatibility mode in
 * child processes, wildcards, tls-verify-depth, client-certificate selection, `tlsbridge verify`,
 * bad PEM input and encrypted keys. This program defines fopen, which the library's calls reach
 * first, to see the modes it opens files with. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int fopens_watched = -1, fopens_without_cloexec; /* -1: not counting */

FILE *fopen(const char *path, const char *mode)
{
    static FILE *(*real)(const char *, const char *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "fopen");
    if (fopens_watched >= 0) {
        fopens_watched++;
        fopens_without_cloexec += strchr(mode, 'e') == NULL;
    }
    return real(path, mode);
}

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
    CHECK_CONTAINS(tlsb_context_settings(c), "tls-verify-depth: 0\n");
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "tls-verify-depth");
    tlsb_context_free(c);
    c = CLIENT(opt("trusted-ca", "ca.pem"), "tls-verify-depth=1");
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_OK);
    tlsb_context_free(c);
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, "tls-verify-depth=-1", NULL), TLSB_ERR_OPTION_VALUE);
    CHECK_CONTAINS(tlsb_last_error(), "tls-verify-depth");
}

/* ---- trust anchors ------------------------------------------------------------------- */

/* A listed intermediate anchors the chain without its root, as in JSSE and SChannel. */
static void listed_intermediate_is_an_anchor(void)
{
    tlsb_context *c = CLIENT(opt("trusted-ca", "inter-ca.pem"));
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_OK);
    CHECK_STATUS(verify_file(c, "inter-server.pem", "localhost"), TLSB_OK);
    /* The root is not trusted, so neither is what it issued directly. */
    CHECK_STATUS(verify_file(c, "server.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "unable to get local issuer certificate");
    tlsb_context_free(c);
    /* The anchor's own revocation status is not checked (its issuer is not trusted); the leaf's is. */
    c = CLIENT(opt("trusted-ca", "inter-ca.pem"), opt2("tls-crl", "crl-inter.pem", "crl-ca.pem"));
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_OK);
    tlsb_context_free(c);
    c = CLIENT(opt("trusted-ca", "inter-ca.pem"), opt("tls-crl", "crl-ca.pem"));
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "tls-crl holds no CRL from its issuer 'CN=tlsbridge Test Intermediate CA");
    CHECK_CONTAINS(tlsb_last_error(), "at depth 0");
    tlsb_context_free(c);
    /* With its root listed too, the whole path is verified: the root's CRL revokes the intermediate. */
    c = CLIENT(opt2("trusted-ca", "inter-ca.pem", "ca.pem"), opt2("tls-crl", "crl-inter.pem", "crl-ca.pem"));
    CHECK_STATUS(verify_file(c, "inter-chain.pem", "localhost"), TLSB_ERR_VERIFY);
    CHECK_CONTAINS(tlsb_last_error(), "certificate revoked");
    CHECK_CONTAINS(tlsb_last_error(), "at depth 1");
    tlsb_context_free(c);
    struct echo_server s;
    int32_t rc = handshake(SERVER(opt("certificate", "inter-chain.pem"), opt("certificate-key", "inter-server.key")),
                           CLIENT(opt("trusted-ca", "inter-ca.pem")), "localhost", &s);
    CHECK_STATUS(rc, TLSB_OK);
    /* A server trusting only the intermediate accepts a client certificate it issued. */
    rc = handshake(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"), "tls-mutual=1",
                          opt("trusted-ca", "inter-ca.pem")),
                   CLIENT(opt("trusted-ca", "ca.pem"), opt("certificate", "inter-client-chain.pem"),
                          opt("certificate-key", "inter-client.key")),
                   "localhost", &s);
    CHECK_STATUS(rc, TLSB_OK);
    CHECK_STATUS(s.handshake, TLSB_OK);
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
    /* Nor is nsCertType: a server certificate whose Netscape cert type says client only. */
    CHECK(TOOL(NULL, "verify", "--name", "localhost", cert("nscert.pem"), ca) == 1);
    CHECK_CONTAINS(out, "nsCertType) does not include SSL server");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("nscert.pem"), ca) == 1);
    CHECK_CONTAINS(out, "nsCertType) does not include SSL server");
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
    /* Only a certificate listed in trusted-ca is forgiven: not the unlisted intermediate, not an
     * unlisted revoked leaf. */
    CHECK(TOOL(ON, "verify", "--name", "localhost", chain, root, crls) == 1);
    CHECK_CONTAINS(out, "Intermediate CA,O=tlsbridge tests' at depth 1");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("revoked.pem"), root, opt("tls-crl", "crl-ca.pem")) == 1);
    CHECK_CONTAINS(out, "certificate revoked");
    /* A revoked leaf that is itself listed (next to its root, so the whole path is verified) is
     * refused without the mode and passes with it: listing it is the explicit trust rule 1 honours. */
    const char *leaf_listed = opt2("trusted-ca", "ca.pem", "revoked.pem"), *crl = opt("tls-crl", "crl-ca.pem");
    CHECK(TOOL(NULL, "verify", "--name", "localhost", cert("revoked.pem"), leaf_listed, crl) == 1);
    CHECK_CONTAINS(out, "certificate revoked");
    CHECK(TOOL(ON, "verify", "--name", "localhost", cert("revoked.pem"), leaf_listed, crl) == 0);
}

/* Rule 1 covers an unknown status too: the root publishes no CRL (only the intermediate's is
 * loaded), so the listed intermediate's status is unknown; the leaf's is known. */
static void compat_unknown_status_listed_ca(void)
{
    char out[8192];
    const char *both = opt2("trusted-ca", "ca.pem", "inter-ca.pem"), *chain = cert("inter-chain.pem");
    const char *crl = opt("tls-crl", "crl-inter.pem");
    CHECK(TOOL(NULL, "verify", "--name", "localhost", chain, both, crl) == 1);
    CHECK_CONTAINS(out, "tls-crl holds no CRL from its issuer 'CN=tlsbridge Test CA");
    CHECK(TOOL(ON, "verify", "--name", "localhost", chain, both, crl) == 0);
    CHECK_CONTAINS(out, "verdict: trusted");
    /* The unknown status of a certificate that is not listed still fails: here the leaf's. */
    CHECK(TOOL(ON, "verify", "--name", "localhost", chain, both, opt("tls-crl", "crl-ca.pem")) == 1);
    CHECK_CONTAINS(out, "tls-crl holds no CRL from its issuer 'CN=tlsbridge Test Intermediate CA");
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

/* An ECDSA leaf with Key Usage keyCertSign only: compatibility mode accepts it in TLS 1.3. In TLS
 * 1.2 OpenSSL itself refuses it on both sides (docs/verification.md), so that is not asserted. */
static void compat_handshake_ecdsa_key_usage(void)
{
    pid_t server;
    int in, from;
    int port = serve_child("ec-keycertsign.pem", "ec-keycertsign.key", &server, &in, &from);
    CHECK(port > 0);
    char target[64], out[8192];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    const char *ca = opt("trusted-ca", "ca.pem");
    CHECK(TOOL(NULL, "connect", target, ca, "tls-target-name=localhost") == 1);
    CHECK_CONTAINS(out, "its Key Usage does not allow TLS authentication");
    CHECK(TOOL(ON, "connect", target, ca, "tls-target-name=localhost") == 0);
    CHECK_CONTAINS(out, "version: TLSv1.3");
    stop_server(server, in, from);
}

/* ---- wildcards ----------------------------------------------------------------------- */

static void wildcard_rules(void)
{
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_CONTAINS(tlsb_context_settings(c), "tls-target-name-wildcards: allow\ntls-verify-depth: default\n");
    CHECK_STATUS(verify_file(c, "wild.pem", "a.tlsbridge.test"), TLSB_OK);
    CHECK_STATUS(verify_file(c, "wild.pem", "A.TLSBRIDGE.test."), TLSB_OK);
    CHECK_STATUS(verify_file(c, "wild.pem", "a.b.tlsbridge.test"), TLSB_ERR_VERIFY_NAME); /* one label only */
    CHECK_STATUS(verify_file(c, "wild.pem", "tlsbridge.test"), TLSB_ERR_VERIFY_NAME);
    CHECK_STATUS(verify_file(c, "wild-suffix.pem", "example.co.uk"), TLSB_ERR_VERIFY_NAME); /* public suffix */
    CHECK_CONTAINS(tlsb_last_error(), "DNS:*.co.uk");
    CHECK_STATUS(verify_file(c, "wild-partial.pem", "www.tlsbridge.test"), TLSB_ERR_VERIFY_NAME);
    tlsb_context_free(c);
    c = CLIENT(opt("trusted-ca", "ca.pem"), "tls-target-name-wildcards=deny");
    CHECK_CONTAINS(tlsb_context_settings(c), "tls-target-name-wildcards: deny\n");
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

/* ---- name constraints and the common-name fallback ---------------------------------- */

/* Leaves without subjectAltName under CAs that permit only allowed.test or exclude evil.test:
 * whatever name their common name matches must satisfy those constraints. */
static void cn_fallback_name_constraints(void)
{
    static const struct {
        const char *chain, *name, *why;
    } refused[] = {
        {"nc-permit-wild-chain.pem", "a.evil.test", "not permitted"},
        {"nc-permit-single-chain.pem", "intranet", "not permitted"},
        {"nc-permit-dot-chain.pem", "www.evil.test", "not permitted"},
        {"nc-permit-plain-chain.pem", "www.evil.test", "permitted subtree violation"}, /* OpenSSL's own */
        {"nc-exclude-wild-chain.pem", "a.evil.test", "excluded"},
        {"nc-exclude-dot-chain.pem", "www.evil.test", "excluded"},
    };
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"));
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK_STATUS(verify_file(c, refused[i].chain, refused[i].name), TLSB_ERR_VERIFY);
        CHECK_CONTAINS(tlsb_last_error(), refused[i].why);
    }
    CHECK_CONTAINS(tlsb_last_error(), "'www.evil.test', matched through its common name (no subjectAltName), is "
                                      "excluded by the name constraints of 'CN=tlsbridge NC exclude CA");
    /* The control: a common name inside the permitted subtree. */
    CHECK_STATUS(verify_file(c, "nc-permit-ok-chain.pem", "www.allowed.test"), TLSB_OK);
    CHECK_STATUS(verify_file(c, "nc-permit-ok-chain.pem", "www.allowed.test."), TLSB_OK);
    tlsb_context_free(c);
}

static void cn_fallback_name_constraints_handshake(void)
{
    static const char *const chains[] = {"nc-permit-wild-chain.pem", "nc-exclude-wild-chain.pem"};
    struct echo_server s;
    for (int i = 0; i < 2; i++) {
        int32_t rc = handshake(SERVER(opt("certificate", chains[i]), opt("certificate-key", "nc-leaf.key")),
                               CLIENT(opt("trusted-ca", "ca.pem"), "tls-target-name=a.evil.test"), "127.0.0.1", &s);
        CHECK_STATUS(rc, TLSB_ERR_VERIFY);
        CHECK_CONTAINS(tlsb_last_error(), "matched through its common name");
    }
    int32_t rc = handshake(SERVER(opt("certificate", "nc-permit-ok-chain.pem"), opt("certificate-key", "nc-leaf.key")),
                           CLIENT(opt("trusted-ca", "ca.pem"), "tls-target-name=www.allowed.test"), "127.0.0.1", &s);
    CHECK_STATUS(rc, TLSB_OK);
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


/* ---- bad input: malformed PEM, encrypted keys, descriptors ----------------------------- */

static void malformed_pem_bundles(void)
{
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, opt("trusted-ca", "bad/bundle-cert.pem"), NULL), TLSB_ERR_FILE);
    CHECK_CONTAINS(tlsb_last_error(), "option trusted-ca: '");
    CHECK_CONTAINS(tlsb_last_error(), "bad/bundle-cert.pem': PEM block 2 is not a valid certificate");
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, opt("trusted-ca", "bad/bundle-base64.pem"), NULL), TLSB_ERR_FILE);
    CHECK_CONTAINS(tlsb_last_error(), "bad/bundle-base64.pem': PEM block 2 is not valid PEM");
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, opt("trusted-ca", "bad/ca-dir"), NULL), TLSB_ERR_FILE);
    CHECK_CONTAINS(tlsb_last_error(), "bad/ca-dir/bundle-cert.pem': PEM block 2 is not a valid certificate");
    CHECK_STATUS(context_status(TLSB_ROLE_CLIENT, opt("trusted-ca", "ca.pem"), opt("tls-crl", "bad/crl.pem"), NULL),
                 TLSB_ERR_FILE);
    CHECK_CONTAINS(tlsb_last_error(), "option tls-crl: '");
    CHECK_CONTAINS(tlsb_last_error(), "bad/crl.pem': PEM block 2 is not a valid CRL");
    CHECK_STATUS(context_status(TLSB_ROLE_SERVER, opt("certificate", "bad/server-chain.pem"),
                                opt("certificate-key", "server.key"), NULL),
                 TLSB_ERR_FILE);
    CHECK_CONTAINS(tlsb_last_error(), "option certificate: '");
    CHECK_CONTAINS(tlsb_last_error(), "bad/server-chain.pem': PEM block 2 is not a valid certificate");
    /* The offline call's chain too. */
    tlsb_context *c = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_STATUS(verify_file(c, "bad/server-chain.pem", "localhost"), TLSB_ERR_ARGUMENT);
    CHECK_CONTAINS(tlsb_last_error(), "tlsb_verify: the chain: PEM block 2 is not a valid certificate");
    /* Text around blocks (bundles carry comments) and blocks of other kinds are not errors. */
    CHECK_STATUS(verify_file(c, "server.pem", "localhost"), TLSB_OK);
    tlsb_context_free(c);
}

static const char *key_password(const char *password)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "certificate-key-password=%s", password);
    return buf;
}

static void encrypted_keys_load_with_a_password(void)
{
    const char *keys[] = {"server-pkcs8-enc.key", "server-trad-enc.key"};
    for (int i = 0; i < 2; i++) {
        tlsb_context *s =
            SERVER(opt("certificate", "server.pem"), opt("certificate-key", keys[i]), key_password("s3cret"));
        CHECK(s != NULL);
        if (s && strstr(tlsb_context_settings(s), "s3cret"))
            harness_fail(__FILE__, __LINE__, "the password is in the settings");
        tlsb_context_free(s);
        s = SERVER(opt("certificate", "server.pem"), opt("certificate-key", keys[i]),
                   opt("certificate-key-password-file", "key-password.txt"));
        CHECK(s != NULL);
        tlsb_context_free(s);
        CHECK_STATUS(context_status(TLSB_ROLE_SERVER, opt("certificate", "server.pem"), opt("certificate-key", keys[i]),
                                    key_password("wrong-pw"), NULL),
                     TLSB_ERR_FILE);
        CHECK_CONTAINS(tlsb_last_error(), cert(keys[i]));
        CHECK_CONTAINS(tlsb_last_error(), "cannot be decrypted");
        if (strstr(tlsb_last_error(), "wrong-pw"))
            harness_fail(__FILE__, __LINE__, "the password is in the message: %s", tlsb_last_error());
    }
    CHECK_STATUS(context_status(TLSB_ROLE_SERVER, opt("certificate", "server.pem"), opt("certificate-key", keys[0]),
                                key_password("s3cret"), opt("certificate-key-password-file", "key-password.txt"), NULL),
                 TLSB_ERR_OPTION_CONFLICT);
    CHECK_CONTAINS(tlsb_last_error(), "mutually exclusive");
    CHECK_STATUS(context_status(TLSB_ROLE_SERVER, opt("certificate", "server.pem"), opt("certificate-key", keys[0]),
                                opt("certificate-key-password-file", "missing.txt"), NULL),
                 TLSB_ERR_FILE);
    CHECK_CONTAINS(tlsb_last_error(), "option certificate-key-password-file: cannot open '");
    /* A key that is not encrypted ignores the password. */
    tlsb_context *s = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"), key_password("x"));
    CHECK(s != NULL);
    tlsb_context_free(s);
}

/* Without a password, the context fails at once: never a prompt. A child process whose stdin
 * stays open and silent would wait forever on a prompt (its terminal, or stdin without one), so
 * a regression shows as a child that does not exit in time. */
static void encrypted_key_without_password_fails_at_once(void)
{
    const char *keys[] = {"server-pkcs8-enc.key", "server-trad-enc.key"};
    for (int i = 0; i < 2; i++) {
        char *argv[] = {getenv("TLSB_TOOL"), "verify", "--server", (char *)cert("client.pem"),
                        (char *)opt("certificate", "server.pem"), (char *)opt("certificate-key", keys[i]), NULL};
        int in, from;
        pid_t pid = spawn(argv, &in, &from);
        char out[4096] = "";
        read_until(from, out, sizeof out, "\x01never", 10000);
        CHECK(wait_child(pid, 1000) == 2);
        close(in);
        close(from);
        CHECK_CONTAINS(out, "TLSB_ERR_FILE");
        CHECK_CONTAINS(out, cert(keys[i]));
        CHECK_CONTAINS(out, "is encrypted");
    }
}

/* Every file the core opens is close-on-exec: a child forked meanwhile keeps no key or CA file. */
static void files_opened_close_on_exec(void)
{
    fopens_watched = fopens_without_cloexec = 0;
    tlsb_context *s = SERVER(opt("certificate", "inter-chain.pem"), opt("certificate-key", "inter-server.key"),
                             "tls-mutual=1", opt2("trusted-ca", "ca.pem", "bad/ca-dir/ca.pem"),
                             opt("tls-crl", "crl-ca.pem"));
    tlsb_context_free(s);
    int watched = fopens_watched, without = fopens_without_cloexec;
    fopens_watched = -1;
    CHECK(watched >= 5); /* certificate, key, two CA files, CRL */
    CHECK(without == 0);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"offline_verdicts", offline_verdicts},
        {"verify_depth", verify_depth},
        {"listed_intermediate_is_an_anchor", listed_intermediate_is_an_anchor},
        {"crl_revoked_leaf_fails_handshake", crl_revoked_leaf_fails_handshake},
        {"crl_whole_chain", crl_whole_chain},
        {"crl_validity_and_issuer", crl_validity_and_issuer},
        {"compat_key_usage", compat_key_usage},
        {"compat_revoked_listed_ca", compat_revoked_listed_ca},
        {"compat_unknown_status_listed_ca", compat_unknown_status_listed_ca},
        {"compat_loosens_nothing_else", compat_loosens_nothing_else},
        {"compat_handshake_revoked_listed_ca", compat_handshake_revoked_listed_ca},
        {"compat_handshake_key_usage", compat_handshake_key_usage},
        {"compat_handshake_ecdsa_key_usage", compat_handshake_ecdsa_key_usage},
        {"wildcard_rules", wildcard_rules},
        {"wildcard_deny_handshake", wildcard_deny_handshake},
        {"cn_fallback_name_constraints", cn_fallback_name_constraints},
        {"cn_fallback_name_constraints_handshake", cn_fallback_name_constraints_handshake},
        {"client_certificate_selection", client_certificate_selection},
        {"tool_verify_exit_codes", tool_verify_exit_codes},
        {"malformed_pem_bundles", malformed_pem_bundles},
        {"encrypted_keys_load_with_a_password", encrypted_keys_load_with_a_password},
        {"encrypted_key_without_password_fails_at_once", encrypted_key_without_password_fails_at_once},
        {"files_opened_close_on_exec", files_opened_close_on_exec},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
