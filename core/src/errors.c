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

/* Length of the valid UTF-8 character at p (at most left bytes), or 0 for a byte that starts none:
 * a stray continuation, an overlong form, a surrogate, beyond U+10FFFF, or a cut character. */
static size_t utf8_char(const unsigned char *p, size_t left)
{
    size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
             : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) || (p[0] == 0xF0 && p[1] < 0x90) ||
        (p[0] == 0xF4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* Java and .NET decode the last error as UTF-8, and messages quote option values, paths and peer
 * names byte for byte: copy valid characters, write other bytes as \xNN, and when the buffer is
 * full cut between characters and end with "...". */
static void store_utf8(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t left = strlen(text), len = 0, room = sizeof last_message - sizeof "...";
    while (left) {
        char unit[5];
        size_t n = utf8_char(p, left), width = n ? n : 4;
        if (n)
            memcpy(unit, p, n);
        else
            snprintf(unit, sizeof unit, "\\x%02x", p[0]);
        if (len + width > room) {
            memcpy(last_message + len, "...", 3);
            len += 3;
            break;
        }
        memcpy(last_message + len, unit, width);
        len += width;
        p += n ? n : 1;
        left -= n ? n : 1;
    }
    last_message[len] = '\0';
}

static int32_t record(int32_t status, const char *fmt, va_list ap, const char *ssl_reason)
{
    char raw[2 * TLSB_ERROR_MAX]; /* enough to fill the message even if every byte needs escaping */
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    if (ssl_reason && n >= 0 && (size_t)n < sizeof raw)
        snprintf(raw + n, sizeof raw - (size_t)n, ": %s", ssl_reason);
    store_utf8(raw);
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
