/* Our client against `openssl s_server`, and `openssl s_client` against our server. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"


/* ---- openssl s_server: -rev answers each line reversed ---- */

struct peer {
    pid_t pid;
    int in, out;
    int port;
    char text[16384];
};

static int s_server_start(struct peer *p, const char *cert_file, const char *key_file, char *const extra[])
{
    memset(p, 0, sizeof *p);
    p->port = free_port();
    char accept[32];
    snprintf(accept, sizeof accept, "127.0.0.1:%d", p->port);
    char *argv[32] = {"openssl", "s_server", "-accept", accept, "-cert", (char *)cert(cert_file), "-key",
                      (char *)cert(key_file), "-rev", "-naccept", "1"};
    int n = 11;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    p->pid = spawn(argv, &p->in, &p->out);
    return read_until(p->out, p->text, sizeof p->text, "ACCEPT", 10000);
}

static void peer_end(struct peer *p)
{
    close(p->in);
    stop_child(p->pid);
    close(p->out);
}

/* Handshakes with the s_server and checks a reversed line comes back; returns the handshake status. */
static int32_t talk_to_s_server(struct peer *p, tlsb_context *client, const char *version)
{
    tlsb_conn *conn;
    int32_t rc = tlsb_dial(client, "localhost", p->port, 5000, &conn);
    if (rc != TLSB_OK)
        return rc;
    tlsb_conn_set_timeout(conn, 10000);
    rc = tlsb_conn_handshake(conn);
    if (rc == TLSB_OK) {
        CHECK_STR(tlsb_conn_info(conn, TLSB_INFO_VERSION), version);
        CHECK_STATUS(tlsb_conn_write(conn, (const uint8_t *)"tlsbridge\n", 10), 10);
        char got[64] = "";
        int len = 0;
        while (!strchr(got, '\n') && len < 60) {
            int32_t n = tlsb_conn_read(conn, (uint8_t *)got + len, 60 - len);
            if (n <= 0) {
                CHECK_STATUS(n, 1);
                break;
            }
            len += n;
            got[len] = '\0';
        }
        CHECK_STR(got, "egdirbslt\n");
        CHECK_STATUS(tlsb_conn_shutdown(conn), TLSB_OK);
    }
    tlsb_conn_free(conn);
    return rc;
}

static void client_to_s_server_tls13(void)
{
    struct peer p;
    CHECK(s_server_start(&p, "server.pem", "server.key", NULL) == 0);
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"));
    CHECK_STATUS(talk_to_s_server(&p, client, "TLSv1.3"), TLSB_OK);
    peer_end(&p);
    tlsb_context_free(client);
}

static void client_to_s_server_tls12(void)
{
    struct peer p;
    char *extra[] = {"-tls1_2", NULL};
    CHECK(s_server_start(&p, "server-ec.pem", "server-ec.key", extra) == 0);
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), "tls-version=TLSv1.2");
    CHECK_STATUS(talk_to_s_server(&p, client, "TLSv1.2"), TLSB_OK);
    peer_end(&p);
    tlsb_context_free(client);
}

static void client_to_s_server_mutual(void)
{
    char *extra[] = {"-Verify", "1", "-CAfile", (char *)cert("ca.pem"), "-verify_return_error", NULL};
    struct peer p;
    CHECK(s_server_start(&p, "server.pem", "server.key", extra) == 0);
    tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), opt("certificate", "client.pem"),
                                  opt("certificate-key", "client.key"));
    CHECK_STATUS(talk_to_s_server(&p, client, "TLSv1.3"), TLSB_OK);
    read_until(p.out, p.text, sizeof p.text, "CN = tlsbridge client", 2000);
    CHECK_CONTAINS(p.text, "CN = tlsbridge client");
    peer_end(&p);
    tlsb_context_free(client);
}

static void client_to_s_server_failures(void)
{
    struct {
        const char *cert, *key, *option;
        char *server_flag;
        int32_t status;
        const char *message;
    } cases[] = {
        {"server.pem", "server.key", "tls-target-name=other.example", NULL, TLSB_ERR_VERIFY_NAME,
         "target name 'other.example' does not match"},
        {"untrusted.pem", "untrusted.key", NULL, NULL, TLSB_ERR_VERIFY, "unable to get local issuer certificate"},
        {"expired.pem", "expired.key", NULL, NULL, TLSB_ERR_VERIFY, "certificate has expired"},
        {"server.pem", "server.key", "sec-protocol=TLSv13", "-tls1_2", TLSB_ERR_PROTOCOL_VERSION,
         "this side offers TLSv1.3 (sec-protocol=TLSv13)"},
        {"server.pem", "server.key", "tls-version=TLSv1.2", "-tls1_3", TLSB_ERR_PROTOCOL_VERSION,
         "this side offers TLSv1.2 (tls-version=TLSv1.2)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct peer p;
        char *extra[] = {cases[i].server_flag, NULL};
        CHECK(s_server_start(&p, cases[i].cert, cases[i].key, extra) == 0);
        tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), cases[i].option);
        CHECK_STATUS(talk_to_s_server(&p, client, "-"), cases[i].status);
        CHECK_CONTAINS(tlsb_last_error(), cases[i].message);
        peer_end(&p);
        tlsb_context_free(client);
    }
}

/* A client can only offer one contiguous range of versions: given a set with a gap it offers the
 * highest run, its settings say so, and a mismatch names what it really offered. Servers pinned
 * to each version tell what was offered; the old ones need security level 0. */
static void client_with_a_version_gap_offers_the_highest_run(void)
{
    static const struct {
        const char *list, *offered, *dropped;
        char *server_flag;
        const char *version; /* negotiated, or NULL for a mismatch */
    } cases[] = {
        {"TLSv1 TLSv1.2", "TLSv1.2", "TLSv1", "-tls1_2", "TLSv1.2"},
        {"TLSv1 TLSv1.2", "TLSv1.2", "TLSv1", "-tls1", NULL},
        {"TLSv1 TLSv1.2", "TLSv1.2", "TLSv1", "-tls1_1", NULL},
        {"TLSv1 TLSv1.2", "TLSv1.2", "TLSv1", "-tls1_3", NULL},
        {"TLSv1 TLSv1.1 TLSv1.3", "TLSv1.3", "TLSv1 TLSv1.1", "-tls1_3", "TLSv1.3"},
        {"TLSv1 TLSv1.1 TLSv1.3", "TLSv1.3", "TLSv1 TLSv1.1", "-tls1_1", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char list[64], protocols[64], warning[256], offers[128];
        snprintf(list, sizeof list, "protocol-list=%s", cases[i].list);
        snprintf(protocols, sizeof protocols, "protocols: %s\n", cases[i].offered);
        snprintf(warning, sizeof warning,
                 "warning: %s not offered: a client offers one contiguous range of versions, here %s\n",
                 cases[i].dropped, cases[i].offered);
        snprintf(offers, sizeof offers, "this side offers %s (%s)", cases[i].offered, list);
        tlsb_context *client = CLIENT(opt("trusted-ca", "ca.pem"), list);
        REQUIRE(client != NULL);
        CHECK_CONTAINS(tlsb_context_settings(client), protocols);
        CHECK_CONTAINS(tlsb_context_settings(client), warning);
        struct peer p;
        char *extra[] = {cases[i].server_flag, "-cipher", "ALL:@SECLEVEL=0", NULL};
        CHECK(s_server_start(&p, "server.pem", "server.key", extra) == 0);
        if (cases[i].version) {
            CHECK_STATUS(talk_to_s_server(&p, client, cases[i].version), TLSB_OK);
        } else {
            CHECK_STATUS(talk_to_s_server(&p, client, "-"), TLSB_ERR_PROTOCOL_VERSION);
            CHECK_CONTAINS(tlsb_last_error(), offers);
        }
        peer_end(&p);
        tlsb_context_free(client);
    }
}

/* ---- openssl s_client against our server ---- */

/* Runs s_client (-brief unless extra starts with "-prexit") against an echo server built from
 * ctx; sends a line and expects it back when ok is set. p->text gets s_client's output and
 * *server the server's view. */
static void s_client_run(tlsb_context *ctx, char *const extra[], int ok, struct echo_server *server, struct peer *p)
{
    int port = echo_start(server, ctx);
    char connect[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    int brief = !(extra && extra[0] && strcmp(extra[0], "-prexit") == 0);
    char *argv[32] = {"openssl", "s_client", "-connect", connect, "-CAfile", (char *)cert("ca.pem"),
                      "-verify_return_error", brief ? "-brief" : NULL};
    int n = brief ? 8 : 7;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    memset(p, 0, sizeof *p);
    p->pid = spawn(argv, &p->in, &p->out);
    if (ok) {
        CHECK(read_until(p->out, p->text, sizeof p->text, "CONNECTION ESTABLISHED", 10000) == 0);
        CHECK(write(p->in, "hello from s_client\n", 20) == 20);
        CHECK(read_until(p->out, p->text, sizeof p->text, "hello from s_client\n", 10000) == 0);
        close(p->in);
        CHECK(wait_child(p->pid, 10000) == 0);
    } else {
        read_until(p->out, p->text, sizeof p->text, "\x01never", 10000); /* read to EOF */
        close(p->in);
        CHECK(wait_child(p->pid, 10000) != 0);
    }
    close(p->out);
    echo_stop(server);
}

static void s_client_to_server_tls13_and_tls12(void)
{
    struct echo_server s;
    struct peer p;
    s_client_run(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key")), NULL, 1, &s, &p);
    CHECK_CONTAINS(p.text, "Protocol version: TLSv1.3");
    CHECK_STATUS(s.handshake, TLSB_OK);
    char *tls12[] = {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL};
    s_client_run(SERVER(opt("certificate", "server-ec.pem"), opt("certificate-key", "server-ec.key")), tls12, 1, &s,
                 &p);
    CHECK_CONTAINS(p.text, "Protocol version: TLSv1.2");
    CHECK_CONTAINS(p.text, "Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256");
}

static void s_client_to_server_mutual(void)
{
    struct echo_server s;
    struct peer p;
    char *with_cert[] = {"-cert", (char *)cert("client.pem"), "-key", (char *)cert("client.key"), NULL};
    s_client_run(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                        opt("trusted-ca", "ca.pem"), "tls-mutual=1"),
                 with_cert, 1, &s, &p);
    CHECK_STATUS(s.handshake, TLSB_OK);
    CHECK_STR(s.peer, "CN=tlsbridge client,O=tlsbridge tests");
    CHECK_STR(s.verify, "ok");
    /* The CA names we send are the trusted-ca subjects. */
    char *show[] = {"-prexit", "-tls1_2", NULL};
    s_client_run(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                        opt("trusted-ca", "ca.pem"), "tls-mutual=1"),
                 show, 0, &s, &p);
    CHECK_CONTAINS(p.text, "CN = tlsbridge Test CA");
    CHECK_STATUS(s.handshake, TLSB_ERR_PEER_CERT_MISSING);
    char *untrusted[] = {"-cert", (char *)cert("other-client.pem"), "-key", (char *)cert("other-client.key"), "-tls1_2",
                         NULL};
    s_client_run(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                        opt("trusted-ca", "ca.pem"), "tls-mutual=1"),
                 untrusted, 0, &s, &p);
    CHECK_STATUS(s.handshake, TLSB_ERR_VERIFY);
    CHECK_CONTAINS(s.error, "CN=tlsbridge other client");
}

static void s_client_wrong_name_and_protocol(void)
{
    struct echo_server s;
    struct peer p;
    char *wrong_name[] = {"-verify_hostname", "wrong.example", NULL};
    s_client_run(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key")), wrong_name, 0, &s,
                 &p);
    CHECK_CONTAINS(p.text, "hostname mismatch");
    CHECK(s.handshake < 0);
    char *tls13[] = {"-tls1_3", NULL};
    s_client_run(SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"), "sec-protocol=TLSv12"),
                 tls13, 0, &s, &p);
    CHECK_STATUS(s.handshake, TLSB_ERR_PROTOCOL_VERSION);
    CHECK_CONTAINS(s.error, "this side accepts TLSv1.2");
}

/* A server accepts exactly the set, gap and all. */
static void server_with_a_version_gap_accepts_exactly_the_set(void)
{
    static const struct {
        char *client_flag;
        const char *seen; /* s_client's report, or NULL for a refusal */
    } cases[] = {
        {"-tls1", "Protocol version: TLSv1\n"},
        {"-tls1_1", NULL},
        {"-tls1_2", "Protocol version: TLSv1.2\n"},
        {"-tls1_3", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tlsb_context *server = SERVER(opt("certificate", "server.pem"), opt("certificate-key", "server.key"),
                                      "protocol-list=TLSv1 TLSv1.2");
        REQUIRE(server != NULL);
        CHECK_CONTAINS(tlsb_context_settings(server), "protocols: TLSv1 TLSv1.2\n");
        struct echo_server s;
        struct peer p;
        char *extra[] = {cases[i].client_flag, "-cipher", "ALL:@SECLEVEL=0", NULL};
        s_client_run(server, extra, cases[i].seen != NULL, &s, &p);
        if (cases[i].seen) {
            CHECK_CONTAINS(p.text, cases[i].seen);
            CHECK_STATUS(s.handshake, TLSB_OK);
        } else {
            CHECK_STATUS(s.handshake, TLSB_ERR_PROTOCOL_VERSION);
            CHECK_CONTAINS(s.error, "this side accepts TLSv1 TLSv1.2 (protocol-list=TLSv1 TLSv1.2)");
        }
    }
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"client_to_s_server_tls13", client_to_s_server_tls13},
        {"client_to_s_server_tls12", client_to_s_server_tls12},
        {"client_to_s_server_mutual", client_to_s_server_mutual},
        {"client_to_s_server_failures", client_to_s_server_failures},
        {"client_with_a_version_gap_offers_the_highest_run", client_with_a_version_gap_offers_the_highest_run},
        {"server_with_a_version_gap_accepts_exactly_the_set", server_with_a_version_gap_accepts_exactly_the_set},
        {"s_client_to_server_tls13_and_tls12", s_client_to_server_tls13_and_tls12},
        {"s_client_to_server_mutual", s_client_to_server_mutual},
        {"s_client_wrong_name_and_protocol", s_client_wrong_name_and_protocol},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
