/* fuzz_server and fuzz_client: one buffer-mode side fed arbitrary peer bytes. Byte 0 picks the
 * configuration (fuzz_peers), the rest is everything the peer sends. The seeds are real
 * handshakes recorded with the same deterministic randomness, so they replay in full (handshake,
 * echo, close) and mutations start deep inside the protocol. FUZZ_ROLE picks the side. */
#include <stdlib.h>

#include "fuzz.h"

static tlsb_context *contexts[16];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rand_install();
    fuzz_enter_pki();
    if (fuzz_peer_count > (int)(sizeof contexts / sizeof contexts[0]))
        abort();
    for (int i = 0; i < fuzz_peer_count; i++)
        contexts[i] =
            fuzz_context(FUZZ_ROLE, FUZZ_ROLE == TLSB_ROLE_SERVER ? fuzz_peers[i].server : fuzz_peers[i].client);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    tlsb_conn *conn;
    const char *target = FUZZ_ROLE == TLSB_ROLE_CLIENT ? FUZZ_TARGET_NAME : NULL;
    if (tlsb_conn_new_buffer(contexts[data[0] % fuzz_peer_count], target, &conn) != TLSB_OK)
        abort(); /* nothing in the input can explain this */
    fuzz_replay(conn, data + 1, size - 1);
    tlsb_conn_free(conn);
    return 0;
}
