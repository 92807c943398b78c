/* Option parsing through tlsb_context_new. An input is lines: "role server" or "role client"
 * (default client), "name=value" (the value may be empty), or "name" (removes it). Values that
 * would reach outside the test PKI (anything with '/') are refused, so file options name its
 * files or nothing at all; the core's path handling is test_badinput's job. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static void quiet(void *user, int32_t level, const char *message) {}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rand_install();
    fuzz_enter_pki();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096 || memchr(data, '/', size))
        return -1;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    tlsb_config *cfg;
    if (tlsb_config_new(&cfg) != TLSB_OK)
        abort();
    tlsb_config_set_log(cfg, quiet, NULL);
    int32_t role = TLSB_ROLE_CLIENT;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (strncmp(line, "role ", 5) == 0)
            role = strcmp(line + 5, "server") == 0 ? TLSB_ROLE_SERVER : TLSB_ROLE_CLIENT;
        else if (eq) {
            *eq = '\0';
            tlsb_config_set(cfg, line, eq + 1);
        } else
            tlsb_config_set(cfg, line, NULL);
    }
    free(text);
    tlsb_context *ctx = NULL;
    if (tlsb_context_new(cfg, role, &ctx) == TLSB_OK) {
        tlsb_context_settings(ctx);
        /* A first flight shows the versions and ciphers reached OpenSSL in a form it accepts. */
        tlsb_conn *conn;
        if (tlsb_conn_new_buffer(ctx, FUZZ_TARGET_NAME, &conn) == TLSB_OK) {
            tlsb_conn_handshake(conn);
            tlsb_conn_free(conn);
        }
        tlsb_context_free(ctx);
    } else if (!tlsb_last_error()[0]) {
        abort(); /* every failure must say what was wrong */
    }
    tlsb_config_free(cfg);
    return 0;
}
