/* Runs every x509-limbo case through tlsb_verify, the verification call a handshake shares, and
 * compares each verdict with the committed expected-results file (docs/verification.md).
 *
 * usage: limbo_test LIMBO_JSON EXPECTED_RESULTS [--write]
 *   --write   rewrites EXPECTED_RESULTS from this run instead of comparing.
 * Needs TLSB_TEST_CERTS: CLIENT cases are checked by a server context, which needs its own
 * certificate (any will do; it takes no part in verifying the peer). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tlsbridge.h"

struct verdict {
    char id[256];
    char kind[8];      /* SERVER / CLIENT */
    int ok;            /* we accept the chain */
    int expected_ok;   /* limbo expects success */
};

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* The string of member key, or NULL when it is missing or not a string. */
static const char *member_string(const json_t *object, const char *key)
{
    return json_string_value(json_object_get(object, key));
}

/* Writes the strings of a JSON array into one PEM file; returns how many. */
static int write_pems(const char *path, const json_t *array)
{
    FILE *f = fopen(path, "w");
    int n = 0;
    for (size_t i = 0; f && i < json_array_size(array); i++) {
        const char *pem = json_string_value(json_array_get(array, i));
        if (pem) {
            fputs(pem, f);
            n++;
        }
    }
    if (f)
        fclose(f);
    return n;
}

/* RFC 3339 "2024-01-01T00:00:00+00:00" or "...Z" to seconds; 0 for null (now). */
static int64_t parse_time(const char *s)
{
    struct tm tm = {0};
    if (!s)
        return 0;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t t = (int64_t)timegm(&tm);
    const char *zone = strpbrk(s + 19, "+-Z");
    int zh, zm;
    if (zone && sscanf(zone, "%*[+-]%d:%d", &zh, &zm) == 2)
        t -= (zone[0] == '-' ? -1 : 1) * (int64_t)(zh * 3600 + zm * 60);
    return t;
}

/* The EKU a role's purpose implies; a case asking for another cannot be expressed. */
static int eku_expressible(const json_t *ekus, const char *implied)
{
    for (size_t i = 0; i < json_array_size(ekus); i++) {
        const char *eku = json_string_value(json_array_get(ekus, i));
        if (!eku || strcmp(eku, implied) != 0)
            return 0;
    }
    return 1;
}

/* Verifies one case; fills v and returns 0, or -1 when the case cannot be run (message printed). */
static int run_case(const json_t *tc, const char *dir, struct verdict *v, char *reason, size_t reason_size)
{
    const char *id = member_string(tc, "id"), *kind = member_string(tc, "validation_kind");
    const char *expected = member_string(tc, "expected_result"), *peer = member_string(tc, "peer_certificate");
    if (!id || !kind || !expected || !peer) {
        fprintf(stderr, "limbo: a test case lacks id, validation_kind, expected_result or peer_certificate\n");
        return -1;
    }
    snprintf(v->id, sizeof v->id, "%s", id);
    snprintf(v->kind, sizeof v->kind, "%s", kind);
    v->expected_ok = strcmp(expected, "SUCCESS") == 0;
    int server_kind = strcmp(kind, "SERVER") == 0;
    if (!eku_expressible(json_object_get(tc, "extended_key_usage"), server_kind ? "serverAuth" : "clientAuth")) {
        fprintf(stderr, "limbo: %s: asks for an extended key usage other than its purpose's\n", id);
        return -1;
    }

    char trusted[4200], crls[4200], depth[32];
    snprintf(trusted, sizeof trusted, "%s/trusted.pem", dir);
    snprintf(crls, sizeof crls, "%s/crls.pem", dir);
    tlsb_config *cfg;
    if (tlsb_config_new(&cfg) != TLSB_OK)
        return -1;
    tlsb_config_set(cfg, "trusted-ca", trusted);
    write_pems(trusted, json_object_get(tc, "trusted_certs"));
    if (write_pems(crls, json_object_get(tc, "crls")))
        tlsb_config_set(cfg, "tls-crl", crls);
    const json_t *max_depth = json_object_get(tc, "max_chain_depth");
    if (json_is_integer(max_depth)) {
        snprintf(depth, sizeof depth, "%" JSON_INTEGER_FORMAT, json_integer_value(max_depth));
        tlsb_config_set(cfg, "tls-verify-depth", depth);
    }
    if (!server_kind) {
        const char *certs = getenv("TLSB_TEST_CERTS");
        char own[4200], own_key[4200];
        snprintf(own, sizeof own, "%s/server.pem", certs ? certs : ".");
        snprintf(own_key, sizeof own_key, "%s/server.key", certs ? certs : ".");
        tlsb_config_set(cfg, "certificate", own);
        tlsb_config_set(cfg, "certificate-key", own_key);
        tlsb_config_set(cfg, "tls-mutual", "1");
    }
    tlsb_context *ctx = NULL;
    int32_t rc = tlsb_context_new(cfg, server_kind ? TLSB_ROLE_CLIENT : TLSB_ROLE_SERVER, &ctx);
    tlsb_config_free(cfg);
    if (rc != TLSB_OK) {
        fprintf(stderr, "limbo: %s: context: %s: %s\n", id, tlsb_status_name(rc), tlsb_last_error());
        return -1;
    }

    /* The peer's chain as it would arrive in a handshake: leaf, then the intermediates. */
    size_t len = strlen(peer) + 1;
    const json_t *inter = json_object_get(tc, "untrusted_intermediates");
    for (size_t i = 0; i < json_array_size(inter); i++)
        len += json_string_length(json_array_get(inter, i)); /* 0 for a non-string */
    char *chain = malloc(len);
    if (!chain) {
        tlsb_context_free(ctx);
        fprintf(stderr, "limbo: out of memory\n");
        return -1;
    }
    strcpy(chain, peer);
    for (size_t i = 0; i < json_array_size(inter); i++)
        if (json_is_string(json_array_get(inter, i)))
            strcat(chain, json_string_value(json_array_get(inter, i)));

    const char *peer_name = server_kind ? member_string(json_object_get(tc, "expected_peer_name"), "value") : NULL;
    int64_t at = parse_time(member_string(tc, "validation_time"));
    rc = at < 0 ? TLSB_ERR_ARGUMENT
                : tlsb_verify(ctx, (const uint8_t *)chain, (int32_t)strlen(chain), peer_name ? peer_name : "", at);
    v->ok = rc == TLSB_OK;
    snprintf(reason, reason_size, "%s", rc == TLSB_OK ? "trusted" : at < 0 ? "bad validation_time" : tlsb_last_error());
    free(chain);
    tlsb_context_free(ctx);
    if (rc != TLSB_OK && rc != TLSB_ERR_VERIFY && rc != TLSB_ERR_VERIFY_NAME) {
        fprintf(stderr, "limbo: %s: tlsb_verify: %s: %s\n", id, tlsb_status_name(rc), reason);
        return -1;
    }
    return 0;
}

/* The committed file: "ID OURS EXPECTED" per line, OURS/EXPECTED being SUCCESS or FAILURE. */
static int compare(const char *path, const struct verdict *v, size_t n)
{
    char *text = read_all(path);
    if (!text) {
        fprintf(stderr, "limbo: cannot read expected results '%s': %s\n", path, strerror(errno));
        return 1;
    }
    int changes = 0;
    size_t seen = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char id[256], ours[16];
        if (line[0] == '#' || sscanf(line, "%255s %15s", id, ours) != 2)
            continue;
        size_t i = 0;
        while (i < n && strcmp(v[i].id, id) != 0)
            i++;
        if (i == n) {
            fprintf(stderr, "CHANGED %s: in the expected results but no longer in limbo.json\n", id);
            changes++;
            continue;
        }
        seen++;
        if (strcmp(ours, v[i].ok ? "SUCCESS" : "FAILURE") != 0) {
            fprintf(stderr, "CHANGED %s: now %s, the expected results say %s\n", id, v[i].ok ? "SUCCESS" : "FAILURE",
                    ours);
            changes++;
        }
    }
    free(text);
    if (seen != n) {
        fprintf(stderr, "CHANGED: %zu cases in limbo.json have no line in the expected results\n", n - seen);
        changes++;
    }
    return changes ? 1 : 0;
}

static int write_results(const char *path, const struct verdict *v, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "limbo: cannot write '%s': %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f, "# x509-limbo verdicts of tlsb_verify: ID OURS LIMBO (written by limbo_test --write)\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s %s %s\n", v[i].id, v[i].ok ? "SUCCESS" : "FAILURE", v[i].expected_ok ? "SUCCESS" : "FAILURE");
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: limbo_test LIMBO_JSON EXPECTED_RESULTS [--write]\n");
        return 2;
    }
    int write = argc > 3 && strcmp(argv[3], "--write") == 0;
    json_error_t err;
    json_t *doc = json_load_file(argv[1], 0, &err);
    const json_t *cases = json_object_get(doc, "testcases");
    if (!json_is_array(cases)) {
        if (!doc && err.line > 0)
            fprintf(stderr, "limbo: '%s' line %d column %d: %s\n", argv[1], err.line, err.column, err.text);
        else /* cannot be opened: jansson's text says so, with the reason */
            fprintf(stderr, "limbo: '%s': %s\n", argv[1], doc ? "no testcases array" : err.text);
        json_decref(doc);
        return 1;
    }
    char dir[] = "/tmp/tlsb-limbo-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "limbo: mkdtemp: %s\n", strerror(errno));
        json_decref(doc);
        return 1;
    }
    struct verdict *v = calloc(json_array_size(cases), sizeof *v);
    size_t n = 0;
    int broken = 0, agree[2] = {0}, total[2] = {0};
    for (size_t i = 0; i < json_array_size(cases); i++) {
        char reason[1024];
        if (run_case(json_array_get(cases, i), dir, &v[n], reason, sizeof reason) != 0) {
            broken++;
            continue;
        }
        int client = strcmp(v[n].kind, "CLIENT") == 0, same = v[n].ok == v[n].expected_ok;
        total[client]++;
        agree[client] += same;
        printf("%s %s %s: ours %s, limbo %s%s%s\n", same ? "agree   " : "DISAGREE", v[n].kind, v[n].id,
               v[n].ok ? "SUCCESS" : "FAILURE", v[n].expected_ok ? "SUCCESS" : "FAILURE", v[n].ok ? "" : ": ",
               v[n].ok ? "" : reason);
        n++;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/trusted.pem", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/crls.pem", dir);
    unlink(path);
    rmdir(dir);
    printf("agreement with x509-limbo: SERVER %d/%d, CLIENT %d/%d (bare OpenSSL 3.0: SERVER 144/197)\n", agree[0],
           total[0], agree[1], total[1]);
    int rc = broken ? 1 : write ? write_results(argv[2], v, n) : compare(argv[2], v, n);
    if (broken)
        fprintf(stderr, "limbo: %d cases could not be run\n", broken);
    free(v);
    json_decref(doc);
    return rc;
}
