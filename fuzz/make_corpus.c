/* Makes the seed corpora at build time (nothing binary is committed):
 *   options/  one input per case of c-tests/vectors/options.vec, paths made relative to the PKI
 *   verify/   the PKI's certificate chains, as PEM and as DER
 *   server/ client/  real handshakes (handshake, echo, close) between our own client and server
 *             in buffer mode, one per fuzz_peers entry, recorded under the same deterministic
 *             randomness the targets use: the client's bytes seed fuzz_server, the server's
 *             fuzz_client. Each recording is replayed here once and must run to the peer's
 *             close_notify, or the build fails: a seed that does not replay seeds nothing.
 * Usage: fuzz_make_corpus OPTIONS_VEC OUT_DIR (the PKI comes from fuzz_enter_pki). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fuzz.h"

struct bytes {
    uint8_t *data;
    size_t len;
};

static void append(struct bytes *b, const void *data, size_t len)
{
    b->data = realloc(b->data, b->len + len);
    if (!b->data)
        abort();
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static const char *out_dir;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_make_corpus: %s: %s\n", what, detail);
    exit(1);
}

static void write_seed(const char *corpus, const char *name, const struct bytes *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, corpus);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die(path, strerror(errno));
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, corpus, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0)
        die(path, strerror(errno));
}

/* ---- options/ ---------------------------------------------------------------------------- */

static void option_seeds(const char *vec_path)
{
    FILE *f = fopen(vec_path, "r");
    if (!f)
        die(vec_path, strerror(errno));
    char line[4096], name[256] = "";
    struct bytes seed = {0};
    int usable = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "case ", 5) == 0) {
            snprintf(name, sizeof name, "%s", line + 5);
            seed.len = 0;
            usable = 1;
        } else if (strncmp(line, "role ", 5) == 0) {
            append(&seed, line, strlen(line));
            append(&seed, "\n", 1);
        } else if (strncmp(line, "set ", 4) == 0) {
            /* ${CERTS}/file -> file: the targets run inside the PKI. */
            char *value = line + 4, *p;
            while ((p = strstr(value, "${CERTS}/")) != NULL)
                memmove(p, p + 9, strlen(p + 9) + 1);
            usable &= strchr(value, '/') == NULL;
            append(&seed, value, strlen(value));
            append(&seed, "\n", 1);
        } else if (strcmp(line, "end") == 0 && usable && name[0]) {
            write_seed("options", name, &seed);
        }
    }
    fclose(f);
    free(seed.data);
}

/* ---- verify/ ----------------------------------------------------------------------------- */

static void verify_seeds(void)
{
    static const char *const chains[] = {"server.pem",    "inter-chain.pem", "inter-server.pem", "expired.pem",
                                         "untrusted.pem", "wrongname.pem",   "revoked.pem",      "badku.pem",
                                         "wild.pem",      "keycertsign.pem"};
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        /* Byte 0: bit 0 picks the context with CRLs, the rest the peer name (fuzz_verify.c). */
        uint8_t selector = (uint8_t)(i & 1);
        struct bytes pem = {0}, der = {0};
        append(&pem, &selector, 1);
        append(&der, &selector, 1);
        FILE *f = fopen(chains[i], "r");
        if (!f)
            die(chains[i], strerror(errno));
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            append(&pem, buf, n);
        rewind(f);
        X509 *x;
        while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
            unsigned char *d = NULL;
            int len = i2d_X509(x, &d);
            if (len > 0)
                append(&der, d, (size_t)len);
            OPENSSL_free(d);
            X509_free(x);
        }
        fclose(f);
        char name[300];
        snprintf(name, sizeof name, "%s", chains[i]);
        write_seed("verify", name, &pem);
        snprintf(name, sizeof name, "%.*s.der", (int)strcspn(chains[i], "."), chains[i]);
        write_seed("verify", name, &der);
        free(pem.data);
        free(der.data);
    }
}

/* ---- server/ client/ --------------------------------------------------------------------- */

/* Moves what `from` has to send into `to`, recording it. */
static void move(tlsb_conn *from, tlsb_conn *to, struct bytes *log)
{
    uint8_t buf[16384];
    int32_t n;
    while ((n = tlsb_conn_drain(from, buf, sizeof buf)) > 0) {
        tlsb_conn_feed(to, buf, n);
        append(log, buf, (size_t)n);
    }
}

static void check(int32_t got, int32_t expected, const char *peer, const char *step)
{
    if (got != expected) {
        char detail[2048];
        snprintf(detail, sizeof detail, "%s: got %s, expected %s: %s", step, tlsb_status_name(got),
                 tlsb_status_name(expected), tlsb_last_error());
        die(peer, detail);
    }
}

static void record(int index)
{
    const struct fuzz_peer *p = &fuzz_peers[index];
    tlsb_context *sctx = fuzz_context(TLSB_ROLE_SERVER, p->server), *cctx = fuzz_context(TLSB_ROLE_CLIENT, p->client);
    tlsb_conn *server, *client;
    check(tlsb_conn_new_buffer(sctx, NULL, &server), TLSB_OK, p->name, "server");
    check(tlsb_conn_new_buffer(cctx, FUZZ_TARGET_NAME, &client), TLSB_OK, p->name, "client");
    uint8_t selector = (uint8_t)index;
    struct bytes from_client = {0}, from_server = {0};
    append(&from_client, &selector, 1);
    append(&from_server, &selector, 1);
    int32_t c = TLSB_WANT_READ, s = TLSB_WANT_READ;
    for (int round = 0; round < 32 && (c != TLSB_OK || s != TLSB_OK); round++) {
        if (c != TLSB_OK)
            c = tlsb_conn_handshake(client);
        move(client, server, &from_client);
        if (s != TLSB_OK)
            s = tlsb_conn_handshake(server);
        move(server, client, &from_server);
    }
    check(c, TLSB_OK, p->name, "client handshake");
    check(s, TLSB_OK, p->name, "server handshake");
    static const char hello[] = "fuzz corpus echo\n";
    uint8_t buf[256];
    check(tlsb_conn_write(client, (const uint8_t *)hello, sizeof hello - 1), sizeof hello - 1, p->name, "write");
    move(client, server, &from_client);
    int32_t n = tlsb_conn_read(server, buf, sizeof buf);
    check(n, sizeof hello - 1, p->name, "server read");
    check(tlsb_conn_write(server, buf, n), n, p->name, "echo");
    move(server, client, &from_server);
    check(tlsb_conn_read(client, buf, sizeof buf), sizeof hello - 1, p->name, "client read");
    check(tlsb_conn_shutdown(client), TLSB_OK, p->name, "client shutdown");
    move(client, server, &from_client);
    check(tlsb_conn_read(server, buf, sizeof buf), TLSB_CLOSED, p->name, "server sees close_notify");
    check(tlsb_conn_shutdown(server), TLSB_OK, p->name, "server shutdown");
    move(server, client, &from_server);
    tlsb_conn_free(client);
    tlsb_conn_free(server);

    /* The replay the targets will do, once each: the whole conversation must go through. */
    check(tlsb_conn_new_buffer(sctx, NULL, &server), TLSB_OK, p->name, "server");
    check(fuzz_replay(server, from_client.data + 1, from_client.len - 1), TLSB_CLOSED, p->name,
          "server replaying the client's bytes");
    tlsb_conn_free(server);
    check(tlsb_conn_new_buffer(cctx, FUZZ_TARGET_NAME, &client), TLSB_OK, p->name, "client");
    check(fuzz_replay(client, from_server.data + 1, from_server.len - 1), TLSB_CLOSED, p->name,
          "client replaying the server's bytes");
    tlsb_conn_free(client);

    write_seed("server", p->name, &from_client);
    write_seed("client", p->name, &from_server);
    free(from_client.data);
    free(from_server.data);
    tlsb_context_free(sctx);
    tlsb_context_free(cctx);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_make_corpus OPTIONS_VEC OUT_DIR\n");
        return 2;
    }
    fuzz_rand_install();
    char vec[4096], out[4096];
    /* Both paths are taken before the PKI becomes the working directory. */
    if (!realpath(argv[1], vec))
        die(argv[1], strerror(errno));
    if (mkdir(argv[2], 0755) != 0 && errno != EEXIST)
        die(argv[2], strerror(errno));
    if (!realpath(argv[2], out))
        die(argv[2], strerror(errno));
    out_dir = out;
    fuzz_enter_pki();
    option_seeds(vec);
    verify_seeds();
    for (int i = 0; i < fuzz_peer_count; i++)
        record(i);
    return 0;
}
