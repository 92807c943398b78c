/* Shared by the fuzz targets and the corpus maker (docs/fuzzing.md). */
#ifndef TLSB_FUZZ_H
#define TLSB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "tlsbridge.h"

/* rand.c: makes OpenSSL's randomness a constant function of the request, so that a recorded
 * handshake replays byte for byte. Call before anything else touches OpenSSL. */
void fuzz_rand_install(void);

/* peers.c: the test PKI (made at build time) becomes the working directory, so that options name
 * its files by relative paths. Exits when it is missing. */
void fuzz_enter_pki(void);

/* A context from NULL-terminated "name=value" strings; exits on failure (a fixed setup). */
tlsb_context *fuzz_context(int32_t role, const char *const *options);

/* The handshakes the client and server targets replay: byte 0 of an input picks one. */
struct fuzz_peer {
    const char *name;
    const char *server[6];
    const char *client[6];
};
extern const struct fuzz_peer fuzz_peers[];
extern const int fuzz_peer_count;
/* The name a client checks and sends as SNI; in the PKI's server certificates. */
#define FUZZ_TARGET_NAME "localhost"

/* One side against everything its peer said: feeds it all, then runs the connection as far as
 * it goes (handshake, echo what it reads, end of stream, close), dropping what it sends.
 * Returns how it ended: TLSB_CLOSED when the peer's bytes ran to its close_notify. */
int32_t fuzz_replay(tlsb_conn *conn, const uint8_t *peer_bytes, size_t size);

#endif
