/* The demo's throwaway PKI, made in-process: an EC P-256 CA, a server certificate for
 * localhost/127.0.0.1 and a client certificate, valid for one day. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tool.h"

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* Issues a certificate for key, signed by issuer/issuer_key (self-signed when issuer is NULL). */
static X509 *issue(EVP_PKEY *key, const char *cn, long serial, X509 *issuer, EVP_PKEY *issuer_key,
                   const char *const exts[][2])
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = cert && name && X509_set_version(cert, X509_VERSION_3) &&
             ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) &&
             X509_gmtime_adj(X509_getm_notBefore(cert), -3600) && X509_gmtime_adj(X509_getm_notAfter(cert), 86400) &&
             X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tlsbridge demo", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
             X509_set_subject_name(cert, name) &&
             X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) && X509_set_pubkey(cert, key);
    for (int i = 0; ok && exts[i][0]; i++)
        ok = add_ext(cert, issuer ? issuer : cert, OBJ_txt2nid(exts[i][0]), exts[i][1]);
    ok = ok && X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static int write_pem(const char *dir, const char *file, X509 *cert, EVP_PKEY *key)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok;
}

int demo_make_certs(const char *dir)
{
    static const char *const ca_ext[][2] = {{"basicConstraints", "critical,CA:TRUE"},
                                            {"keyUsage", "critical,keyCertSign,cRLSign"},
                                            {"subjectKeyIdentifier", "hash"},
                                            {NULL, NULL}};
    static const char *const server_ext[][2] = {{"basicConstraints", "critical,CA:FALSE"},
                                                {"keyUsage", "critical,digitalSignature"},
                                                {"extendedKeyUsage", "serverAuth"},
                                                {"subjectAltName", "DNS:localhost,IP:127.0.0.1"},
                                                {NULL, NULL}};
    static const char *const client_ext[][2] = {{"basicConstraints", "critical,CA:FALSE"},
                                                {"keyUsage", "critical,digitalSignature"},
                                                {"extendedKeyUsage", "clientAuth"},
                                                {NULL, NULL}};
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *server_key = EVP_EC_gen("P-256"), *client_key = EVP_EC_gen("P-256");
    X509 *ca = ca_key ? issue(ca_key, "tlsbridge demo CA", 1, NULL, NULL, ca_ext) : NULL;
    X509 *server = ca && server_key ? issue(server_key, "localhost", 2, ca, ca_key, server_ext) : NULL;
    X509 *client = ca && client_key ? issue(client_key, "tlsbridge demo client", 3, ca, ca_key, client_ext) : NULL;
    int ok = server && client && write_pem(dir, "ca.pem", ca, NULL) && write_pem(dir, "server.pem", server, NULL) &&
             write_pem(dir, "server.key", NULL, server_key) && write_pem(dir, "client.pem", client, NULL) &&
             write_pem(dir, "client.key", NULL, client_key);
    X509_free(ca);
    X509_free(server);
    X509_free(client);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(server_key);
    EVP_PKEY_free(client_key);
    return ok ? 0 : -1;
}
