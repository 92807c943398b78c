/* Thread-local last error, status names, and the small text builder used for messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "internal.h"

/* Long enough for a path, an OpenSSL reason and a certificate subject together. */
#define TLSB_ERROR_MAX 1536

static _Thread_local int32_t last_status;
static _Thread_local char last_message[TLSB_ERROR_MAX];

static int32_t record(int32_t status, const char *fmt, va_list ap, const char *ssl_reason)
{
    int n = vsnprintf(last_message, sizeof last_message, fmt, ap);
    if (ssl_reason && n >= 0 && (size_t)n < sizeof last_message)
        snprintf(last_message + n, sizeof last_message - (size_t)n, ": %s", ssl_reason);
    last_status = status;
    return status;
}

int32_t tlsb_fail(int32_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(status, fmt, ap, NULL);
    va_end(ap);
    ERR_clear_error();
    return status;
}

int32_t tlsb_fail_ssl(int32_t status, const char *fmt, ...)
{
    char reason[256] = "";
    unsigned long e = ERR_peek_error();
    if (e) {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(reason, sizeof reason, "%s", r);
        else
            snprintf(reason, sizeof reason, "OpenSSL error %lu", e);
    }
    va_list ap;
    va_start(ap, fmt);
    record(status, fmt, ap, reason[0] ? reason : NULL);
    va_end(ap);
    ERR_clear_error();
    return status;
}

TLSB_API const char *tlsb_last_error(void) { return last_message; }
TLSB_API int32_t tlsb_last_status(void) { return last_status; }

TLSB_API const char *tlsb_status_name(int32_t status)
{
    switch (status) {
#define N(x) case x: return #x;
    N(TLSB_OK) N(TLSB_WANT_READ) N(TLSB_WANT_WRITE) N(TLSB_CLOSED)
    N(TLSB_ERR_ARGUMENT) N(TLSB_ERR_HANDLE_CLOSED) N(TLSB_ERR_NO_MEMORY) N(TLSB_ERR_STATE)
    N(TLSB_ERR_OPTION_UNKNOWN) N(TLSB_ERR_OPTION_VALUE) N(TLSB_ERR_OPTION_CONFLICT)
    N(TLSB_ERR_FILE) N(TLSB_ERR_KEY_MISMATCH) N(TLSB_ERR_CIPHER_NONE) N(TLSB_ERR_CERT_REQUIRED)
    N(TLSB_ERR_PROTOCOL_NONE)
    N(TLSB_ERR_PROTOCOL_VERSION) N(TLSB_ERR_HANDSHAKE) N(TLSB_ERR_VERIFY) N(TLSB_ERR_VERIFY_NAME)
    N(TLSB_ERR_PEER_CERT_MISSING) N(TLSB_ERR_TLS)
    N(TLSB_ERR_IO) N(TLSB_ERR_TIMEOUT) N(TLSB_ERR_CONNECT) N(TLSB_ERR_RESOLVE) N(TLSB_ERR_PEER_RESET)
    N(TLSB_ERR_BUFFER_TOO_SMALL) N(TLSB_ERR_INTERNAL)
#undef N
    default: return status > 0 ? "TLSB_BYTES" : "TLSB_UNKNOWN_STATUS";
    }
}

TLSB_API int32_t tlsb_status_kind(int32_t status)
{
    if (status >= 0)
        return TLSB_KIND_NONE;
    switch (status) {
    case TLSB_WANT_READ:
    case TLSB_WANT_WRITE:
        return TLSB_KIND_PROGRESS;
    case TLSB_CLOSED:
        return TLSB_KIND_CLOSED;
    case TLSB_ERR_ARGUMENT:
    case TLSB_ERR_HANDLE_CLOSED:
    case TLSB_ERR_STATE:
    case TLSB_ERR_BUFFER_TOO_SMALL:
        return TLSB_KIND_USAGE;
    case TLSB_ERR_OPTION_UNKNOWN:
    case TLSB_ERR_OPTION_VALUE:
    case TLSB_ERR_OPTION_CONFLICT:
    case TLSB_ERR_FILE:
    case TLSB_ERR_KEY_MISMATCH:
    case TLSB_ERR_CIPHER_NONE:
    case TLSB_ERR_CERT_REQUIRED:
    case TLSB_ERR_PROTOCOL_NONE:
        return TLSB_KIND_CONFIG;
    case TLSB_ERR_PROTOCOL_VERSION:
    case TLSB_ERR_HANDSHAKE:
    case TLSB_ERR_TLS:
        return TLSB_KIND_PROTOCOL;
    /* A tls-mutual client that sent no certificate failed the certificate check, as JSSE
     * (bad_certificate) and SslStream (RemoteCertificateNotAvailable) report it. */
    case TLSB_ERR_VERIFY:
    case TLSB_ERR_VERIFY_NAME:
    case TLSB_ERR_PEER_CERT_MISSING:
        return TLSB_KIND_VERIFY;
    case TLSB_ERR_IO:
    case TLSB_ERR_TIMEOUT:
    case TLSB_ERR_CONNECT:
    case TLSB_ERR_RESOLVE:
    case TLSB_ERR_PEER_RESET:
        return TLSB_KIND_TRANSPORT;
    default:
        return TLSB_KIND_INTERNAL;
    }
}

void tlsb_text_add(tlsb_text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if (t->data && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t want = t->len + (size_t)n + 1;
        size_t cap = t->cap ? t->cap : 256;
        while (cap < want)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->oom = 1;
            return;
        }
        if (!t->data)
            grown[0] = '\0';
        t->data = grown;
        t->cap = cap;
    }
}

char *tlsb_text_take(tlsb_text *t)
{
    if (t->oom) {
        free(t->data);
        t->data = NULL;
        return NULL;
    }
    char *s = t->data ? t->data : strdup("");
    t->data = NULL;
    t->len = t->cap = 0;
    return s;
}
