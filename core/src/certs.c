/* Reading PEM files named by options, and the own certificate chain + key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "internal.h"

int32_t tlsb_certs_read_file(const char *option, const char *path, STACK_OF(X509) *stack)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return tlsb_fail(TLSB_ERR_FILE, "option %s: cannot open '%s': %s", option, path, strerror(errno));
    int count = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(stack, x)) {
            X509_free(x);
            fclose(f);
            return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        }
        count++;
    }
    fclose(f);
    /* Reaching the end of the file is the normal way out of the loop. */
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE && count > 0)
        ERR_clear_error();
    if (!count)
        return tlsb_fail(TLSB_ERR_FILE, "option %s: '%s' holds no PEM certificate", option, path);
    return TLSB_OK;
}

static int32_t read_key(const char *path, EVP_PKEY **out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return tlsb_fail(TLSB_ERR_FILE, "option certificate-key: cannot open '%s': %s", path, strerror(errno));
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k)
        return tlsb_fail_ssl(TLSB_ERR_FILE, "option certificate-key: '%s' holds no usable PEM private key", path);
    *out = k;
    return TLSB_OK;
}

int32_t tlsb_certs_load_own(SSL_CTX *ctx, const tlsb_options *o)
{
    if (!o->certificate)
        return TLSB_OK;
    char **files;
    int n = tlsb_split(o->certificate, 0, &files);
    if (n < 0)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    STACK_OF(X509) *chain = sk_X509_new_null();
    int32_t rc = chain ? TLSB_OK : tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n && rc == TLSB_OK; i++)
        rc = tlsb_certs_read_file("certificate", files[i], chain);
    EVP_PKEY *key = NULL;
    if (rc == TLSB_OK)
        rc = read_key(o->certificate_key, &key);
    /* Leaf first; whatever follows, in the same file or the next ones, is the chain. */
    if (rc == TLSB_OK && !SSL_CTX_use_certificate(ctx, sk_X509_value(chain, 0)))
        rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option certificate: '%s' cannot be used", files[0]);
    for (int i = 1; rc == TLSB_OK && i < sk_X509_num(chain); i++)
        if (!SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)))
            rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option certificate: chain certificate %d cannot be used", i);
    if (rc == TLSB_OK) {
        ERR_set_mark();
        int used = SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
        ERR_pop_to_mark();
        if (!used)
            rc = tlsb_fail(TLSB_ERR_KEY_MISMATCH,
                           "option certificate-key: the key in '%s' does not match the certificate in '%s'",
                           o->certificate_key, files[0]);
    }
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    tlsb_split_free(files, n);
    return rc;
}

void tlsb_name_text(const X509_NAME *name, char *out, size_t size)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int n = BIO_read(b, out, (int)size - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}
