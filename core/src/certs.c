/* Reading PEM files named by options, and the own certificate chain + key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "internal.h"

/* Opened close-on-exec: a child another thread forks must not inherit key or CA files. */
static BIO *open_file(const char *option, const char *path, int32_t *rc)
{
    FILE *f = fopen(path, "re");
    BIO *b = f ? BIO_new_fp(f, BIO_CLOSE) : NULL;
    if (!f)
        *rc = tlsb_fail(TLSB_ERR_FILE, "option %s: cannot open '%s': %s", option, path, strerror(errno));
    else if (!b) {
        fclose(f);
        *rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    }
    return b;
}

static int is_wanted(const char *label, int crl)
{
    if (crl)
        return strcmp(label, PEM_STRING_X509_CRL) == 0;
    return strcmp(label, PEM_STRING_X509) == 0 || strcmp(label, PEM_STRING_X509_OLD) == 0;
}

int32_t tlsb_pem_read(BIO *b, int crl, int32_t status, const char *where, void *stack, int *count)
{
    *count = 0;
    for (int block = 1;; block++) {
        char *label = NULL, *header = NULL;
        unsigned char *der = NULL;
        long len = 0;
        ERR_clear_error();
        if (!PEM_read_bio(b, &label, &header, &der, &len)) {
            /* No further BEGIN line is the normal end; anything else is a broken block. */
            if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                return TLSB_OK;
            }
            return tlsb_fail_ssl(status, "%s: PEM block %d is not valid PEM", where, block);
        }
        int32_t rc = TLSB_OK;
        if (is_wanted(label, crl)) {
            const unsigned char *p = der;
            void *obj = crl ? (void *)d2i_X509_CRL(NULL, &p, len) : (void *)d2i_X509(NULL, &p, len);
            if (!obj || p != der + len)
                rc = tlsb_fail(status, "%s: PEM block %d is not a valid %s", where, block, crl ? "CRL" : "certificate");
            else if (!(crl ? sk_X509_CRL_push(stack, obj) : sk_X509_push(stack, obj)))
                rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
            if (rc != TLSB_OK && crl)
                X509_CRL_free(obj);
            else if (rc != TLSB_OK)
                X509_free(obj);
            else
                (*count)++;
        }
        OPENSSL_free(label);
        OPENSSL_free(header);
        OPENSSL_free(der);
        if (rc != TLSB_OK)
            return rc;
    }
}

int32_t tlsb_pem_read_file(const char *option, const char *path, int crl, void *stack, int *count)
{
    ERR_clear_error();
    int32_t rc = TLSB_OK;
    BIO *b = open_file(option, path, &rc);
    if (!b)
        return rc;
    char where[4200];
    snprintf(where, sizeof where, "option %s: '%s'", option, path);
    rc = tlsb_pem_read(b, crl, TLSB_ERR_FILE, where, stack, count);
    BIO_free(b);
    return rc;
}

int32_t tlsb_certs_read_file(const char *option, const char *path, STACK_OF(X509) *stack)
{
    int count;
    int32_t rc = tlsb_pem_read_file(option, path, 0, stack, &count);
    if (rc == TLSB_OK && !count)
        rc = tlsb_fail(TLSB_ERR_FILE, "option %s: '%s' holds no PEM certificate", option, path);
    return rc;
}

/* The password for encrypted keys: never a terminal prompt, which would block a process that
 * has no one at its terminal. */
struct key_password {
    const char *password; /* NULL: none given */
    int asked;            /* the key turned out to be encrypted */
};

static int give_password(char *buf, int size, int rwflag, void *user)
{
    (void)rwflag;
    struct key_password *kp = user;
    kp->asked = 1;
    size_t n = kp->password ? strlen(kp->password) : 0;
    if (!kp->password || n > (size_t)size)
        return -1;
    memcpy(buf, kp->password, n);
    return (int)n;
}

/* The first line of certificate-key-password-file, so that the password stays off command lines. */
static int32_t read_password_file(const char *path, char *out, size_t size)
{
    const char *option = "certificate-key-password-file";
    int32_t rc = TLSB_OK;
    BIO *b = open_file(option, path, &rc);
    if (!b)
        return rc;
    int n = BIO_gets(b, out, (int)size);
    BIO_free(b);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (!out[0])
        return tlsb_fail(TLSB_ERR_FILE, "option %s: '%s' holds no password on its first line", option, path);
    return TLSB_OK;
}

static int32_t read_key(const char *path, const tlsb_options *o, EVP_PKEY **out)
{
    ERR_clear_error();
    char from_file[1024];
    struct key_password kp = {o->key_password, 0};
    if (o->key_password_file) {
        int32_t rc = read_password_file(o->key_password_file, from_file, sizeof from_file);
        if (rc != TLSB_OK)
            return rc;
        kp.password = from_file;
    }
    int32_t rc = TLSB_OK;
    BIO *b = open_file("certificate-key", path, &rc);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, give_password, &kp) : NULL;
    BIO_free(b);
    OPENSSL_cleanse(from_file, sizeof from_file);
    if (!b)
        return rc;
    if (!k && kp.asked && !kp.password)
        return tlsb_fail(TLSB_ERR_FILE,
                         "option certificate-key: '%s' is encrypted; give its password with "
                         "certificate-key-password or certificate-key-password-file",
                         path);
    if (!k && kp.asked)
        return tlsb_fail(TLSB_ERR_FILE, "option certificate-key: '%s' cannot be decrypted with the password of %s",
                         path, o->key_password_file ? "certificate-key-password-file" : "certificate-key-password");
    if (!k)
        return tlsb_fail_ssl(TLSB_ERR_FILE, "option certificate-key: '%s' holds no usable PEM private key", path);
    *out = k;
    return TLSB_OK;
}

/* One certificate + key pair: the leaf, the chain sent after it, the key. */
struct own_pair {
    STACK_OF(X509) *certs; /* leaf first */
    EVP_PKEY *key;
};

/* Several pairs (client only): the one to present is chosen per handshake by choose_pair. */
struct own_pairs {
    int count;
    struct own_pair pair[];
};

static void free_pairs(struct own_pairs *p)
{
    for (int i = 0; p && i < p->count; i++) {
        sk_X509_pop_free(p->pair[i].certs, X509_free);
        EVP_PKEY_free(p->pair[i].key);
    }
    free(p);
}

static int pairs_index = -1;
static CRYPTO_ONCE pairs_once = CRYPTO_ONCE_STATIC_INIT;

static void free_pairs_ex(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    free_pairs(ptr);
}

static void make_pairs_index(void) { pairs_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_pairs_ex); }

/* Reads one pair: certificate files (comma-separated, leaf first) and the key file. */
static int32_t load_pair(const char *cert_list, const char *key_path, const tlsb_options *o, struct own_pair *pair)
{
    ERR_clear_error();
    char **files;
    int n = tlsb_split(cert_list, 0, &files);
    if (n < 0)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    pair->certs = sk_X509_new_null();
    int32_t rc = pair->certs ? TLSB_OK : tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    if (rc == TLSB_OK && n == 0)
        rc = tlsb_fail(TLSB_ERR_OPTION_VALUE, "option certificate: an empty entry in '%s'", cert_list);
    for (int i = 0; i < n && rc == TLSB_OK; i++)
        rc = tlsb_certs_read_file("certificate", files[i], pair->certs);
    if (rc == TLSB_OK)
        rc = read_key(key_path, o, &pair->key);
    if (rc == TLSB_OK) {
        ERR_set_mark();
        int match = X509_check_private_key(sk_X509_value(pair->certs, 0), pair->key) == 1;
        ERR_pop_to_mark();
        if (!match)
            rc = tlsb_fail(TLSB_ERR_KEY_MISMATCH,
                           "option certificate-key: the key in '%s' does not match the certificate in '%s'", key_path,
                           files[0]);
    }
    tlsb_split_free(files, n);
    return rc;
}

/* A pair fits when a certificate of it was issued by, or is, a CA the server named. */
static int pair_fits(const struct own_pair *pair, const STACK_OF(X509_NAME) *names)
{
    for (int i = 0; i < sk_X509_num(pair->certs); i++) {
        X509 *x = sk_X509_value(pair->certs, i);
        for (int j = 0; j < sk_X509_NAME_num(names); j++) {
            const X509_NAME *nm = sk_X509_NAME_value(names, j);
            if (X509_NAME_cmp(X509_get_issuer_name(x), nm) == 0 || (i > 0 && X509_NAME_cmp(X509_get_subject_name(x), nm) == 0))
                return 1;
        }
    }
    return 0;
}

/* Called when the server asks for a certificate: present the first pair issued under a CA it
 * named (as SChannel does), else the first pair. */
static int choose_pair(SSL *ssl, void *arg)
{
    const struct own_pairs *p = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pairs_index);
    if (!p)
        return 1;
    const STACK_OF(X509_NAME) *names = SSL_get_client_CA_list(ssl);
    int chosen = 0;
    for (int i = 0; names && i < p->count; i++)
        if (pair_fits(&p->pair[i], names)) {
            chosen = i;
            break;
        }
    const struct own_pair *pair = &p->pair[chosen];
    STACK_OF(X509) *chain = sk_X509_dup(pair->certs);
    if (!chain)
        return 0;
    X509 *leaf = sk_X509_shift(chain);
    int ok = SSL_use_cert_and_key(ssl, leaf, pair->key, chain, 1) == 1;
    sk_X509_free(chain);
    return ok;
}

int32_t tlsb_certs_load_own(SSL_CTX *ctx, const tlsb_options *o)
{
    ERR_clear_error();
    if (!o->certificate)
        return TLSB_OK;
    /* ';' separates certificate + key pairs; ',' within a pair lists its chain files. */
    int count = 1, keys = 1;
    for (const char *c = o->certificate; *c; c++)
        count += *c == ';';
    for (const char *c = o->certificate_key; *c; c++)
        keys += *c == ';';
    if (count != keys)
        return tlsb_fail(TLSB_ERR_OPTION_CONFLICT,
                         "options certificate and certificate-key: %d certificate entries but %d keys (';' separates "
                         "certificate + key pairs)",
                         count, keys);
    if (count > 1 && SSL_CTX_get_ssl_method(ctx) == TLS_server_method())
        return tlsb_fail(TLSB_ERR_OPTION_VALUE,
                         "option certificate: several certificate + key pairs (';') apply to clients only");
    struct own_pairs *p = calloc(1, sizeof *p + (size_t)count * sizeof p->pair[0]);
    char *certs = strdup(o->certificate), *key_list = strdup(o->certificate_key);
    int32_t rc = p && certs && key_list ? TLSB_OK : tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    char *cs = NULL, *ks = NULL;
    char *cert_entry = rc == TLSB_OK ? strtok_r(certs, ";", &cs) : NULL;
    char *key_entry = rc == TLSB_OK ? strtok_r(key_list, ";", &ks) : NULL;
    for (; rc == TLSB_OK && p->count < count; p->count++) {
        if (!cert_entry || !key_entry) {
            rc = tlsb_fail(TLSB_ERR_OPTION_VALUE, "options certificate and certificate-key: an empty entry between ';'");
            break;
        }
        while (*key_entry == ' ')
            key_entry++;
        rc = load_pair(cert_entry, key_entry, o, &p->pair[p->count]);
        cert_entry = strtok_r(NULL, ";", &cs);
        key_entry = strtok_r(NULL, ";", &ks);
    }
    free(certs);
    free(key_list);
    if (rc == TLSB_OK && count == 1) {
        /* Leaf first; whatever follows, in the same file or the next ones, is the chain. */
        STACK_OF(X509) *chain = p->pair[0].certs;
        if (!SSL_CTX_use_certificate(ctx, sk_X509_value(chain, 0)) || !SSL_CTX_use_PrivateKey(ctx, p->pair[0].key))
            rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option certificate: '%s' cannot be used", o->certificate);
        for (int i = 1; rc == TLSB_OK && i < sk_X509_num(chain); i++)
            if (!SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)))
                rc = tlsb_fail_ssl(TLSB_ERR_FILE, "option certificate: chain certificate %d cannot be used", i);
    } else if (rc == TLSB_OK) {
        CRYPTO_THREAD_run_once(&pairs_once, make_pairs_index);
        if (pairs_index < 0 || !SSL_CTX_set_ex_data(ctx, pairs_index, p))
            rc = tlsb_fail_ssl(TLSB_ERR_INTERNAL, "cannot attach the client certificates");
        else {
            SSL_CTX_set_cert_cb(ctx, choose_pair, NULL);
            p = NULL; /* the SSL_CTX owns it now */
        }
    }
    free_pairs(p);
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
