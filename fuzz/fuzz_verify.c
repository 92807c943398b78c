/* tlsb_verify on mutated chains. Byte 0 picks the context (with or without CRLs) and the peer
 * name; the rest is the chain: PEM as it is when it starts with '-', otherwise DER certificates
 * back to back, which are PEM-encoded here so that mutations hit the certificates' contents
 * rather than their base64. */
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "fuzz.h"

static tlsb_context *contexts[2];
static const char *const names[] = {FUZZ_TARGET_NAME, "", "127.0.0.1", "wrong.example"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rand_install();
    fuzz_enter_pki();
    static const char *const plain[] = {"trusted-ca=ca.pem", NULL};
    static const char *const crls[] = {"trusted-ca=ca.pem", "tls-crl=crl-ca.pem,crl-inter.pem", NULL};
    contexts[0] = fuzz_context(TLSB_ROLE_CLIENT, plain);
    contexts[1] = fuzz_context(TLSB_ROLE_CLIENT, crls);
    return 0;
}

/* The length of the DER element at der (its header says), capped at what is there. */
static size_t der_length(const uint8_t *der, size_t size)
{
    if (size < 2)
        return size;
    size_t len = der[1], header = 2;
    if (len & 0x80) {
        size_t octets = len & 0x7f;
        if (octets == 0 || octets > 4 || size < 2 + octets)
            return size;
        len = 0;
        for (size_t i = 0; i < octets; i++)
            len = len << 8 | der[2 + i];
        header += octets;
    }
    return len > size - header ? size : header + len;
}

/* DER certificates back to back -> PEM blocks in a memory BIO. */
static BIO *der_to_pem(const uint8_t *der, size_t size)
{
    BIO *pem = BIO_new(BIO_s_mem());
    while (pem && size > 0) {
        size_t n = der_length(der, size);
        PEM_write_bio(pem, "CERTIFICATE", "", der, (long)n);
        der += n;
        size -= n;
    }
    return pem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536)
        return -1;
    const tlsb_context *ctx = contexts[data[0] & 1];
    const char *name = names[(data[0] >> 1) % (sizeof names / sizeof names[0])];
    data++;
    size--;
    if (data[0] == '-') {
        tlsb_verify(ctx, data, (int32_t)size, name, 0);
        return 0;
    }
    BIO *pem = der_to_pem(data, size);
    char *text;
    long len = pem ? BIO_get_mem_data(pem, &text) : 0;
    if (len > 0)
        tlsb_verify(ctx, (const uint8_t *)text, (int32_t)len, name, 0);
    BIO_free(pem);
    return 0;
}
