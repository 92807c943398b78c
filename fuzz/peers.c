/* What the fuzz targets and the corpus maker share: the PKI, fixed contexts, the recorded
 * handshakes' configurations, and running one side of a connection over recorded bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

void fuzz_enter_pki(void)
{
    const char *dir = getenv("TLSB_FUZZ_PKI");
    if (!dir)
        dir = TLSB_FUZZ_PKI;
    if (chdir(dir) != 0 || access("ca.pem", R_OK) != 0) {
        fprintf(stderr, "fuzz: no test PKI in '%s' (build the fuzz_corpus target, or set TLSB_FUZZ_PKI)\n", dir);
        exit(1);
    }
    /* A client without trusted-ca loads the system store, tens of milliseconds per context:
     * point it at the PKI's root instead. */
    setenv("SSL_CERT_FILE", "ca.pem", 1);
    setenv("SSL_CERT_DIR", "/nonexistent", 1);
}

tlsb_context *fuzz_context(int32_t role, const char *const *options)
{
    tlsb_config *cfg;
    tlsb_context *ctx = NULL;
    int32_t rc = tlsb_config_new(&cfg);
    for (int i = 0; rc == TLSB_OK && options[i]; i++) {
        char name[64];
        const char *eq = strchr(options[i], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - options[i]), options[i]);
        rc = tlsb_config_set(cfg, name, eq + 1);
    }
    if (rc == TLSB_OK)
        rc = tlsb_context_new(cfg, role, &ctx);
    tlsb_config_free(cfg);
    if (rc != TLSB_OK) {
        fprintf(stderr, "fuzz: fixed context: %s: %s\n", tlsb_status_name(rc), tlsb_last_error());
        exit(1);
    }
    return ctx;
}

/* Append only: byte 0 of every seed recorded so far indexes this table. */
const struct fuzz_peer fuzz_peers[] = {
    {"tls13", {"certificate=server.pem", "certificate-key=server.key"}, {"trusted-ca=ca.pem"}},
    {"tls12",
     {"certificate=server.pem", "certificate-key=server.key", "sec-protocol=TLSv12"},
     {"trusted-ca=ca.pem", "sec-protocol=TLSv12"}},
    {"mutual13",
     {"certificate=server.pem", "certificate-key=server.key", "tls-mutual=1", "trusted-ca=ca.pem"},
     {"trusted-ca=ca.pem", "certificate=client.pem", "certificate-key=client.key"}},
    {"ecdsa12",
     {"certificate=server-ec.pem", "certificate-key=server-ec.key", "sec-protocol=TLSv12"},
     {"trusted-ca=ca.pem", "sec-protocol=TLSv12"}},
    {"tls10",
     {"certificate=server.pem", "certificate-key=server.key", "sec-protocol=TLSv1"},
     {"trusted-ca=ca.pem", "sec-protocol=TLSv1"}},
};
const int fuzz_peer_count = sizeof fuzz_peers / sizeof fuzz_peers[0];

static void discard_output(tlsb_conn *conn)
{
    uint8_t buf[16384];
    while (tlsb_conn_drain(conn, buf, sizeof buf) > 0)
        ;
}

int32_t fuzz_replay(tlsb_conn *conn, const uint8_t *peer_bytes, size_t size)
{
    uint8_t buf[16384];
    if (size)
        tlsb_conn_feed(conn, peer_bytes, (int32_t)size);
    tlsb_conn_feed_eof(conn);
    int32_t rc = tlsb_conn_handshake(conn);
    discard_output(conn);
    if (rc == TLSB_OK) {
        for (int32_t key = TLSB_INFO_VERSION; key <= TLSB_INFO_SESSION_REUSED; key++)
            tlsb_conn_info(conn, key);
        while ((rc = tlsb_conn_read(conn, buf, sizeof buf)) > 0) {
            tlsb_conn_write(conn, buf, rc);
            discard_output(conn);
        }
        tlsb_conn_session_export(conn, buf, sizeof buf);
    }
    tlsb_conn_shutdown(conn);
    discard_output(conn);
    return rc;
}
