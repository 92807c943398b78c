/* The config bag and the one option parser every face goes through (docs/options.md). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* ---- the bag --------------------------------------------------------------------- */

TLSB_API int32_t tlsb_config_new(tlsb_config **out)
{
    if (!out)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_config_new: out is NULL");
    tlsb_config *c = calloc(1, sizeof *c);
    if (!c)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    *out = c;
    return TLSB_OK;
}

TLSB_API int32_t tlsb_config_set(tlsb_config *c, const char *name, const char *value)
{
    if (!c || !name)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_config_set: %s is NULL", c ? "name" : "config");
    for (size_t i = 0; i < c->count; i++) {
        if (strcmp(c->names[i], name) != 0)
            continue;
        if (!value) { /* remove: shift the rest down, so that every face keeps the order of first setting */
            free(c->names[i]);
            free(c->values[i]);
            c->count--;
            memmove(&c->names[i], &c->names[i + 1], (c->count - i) * sizeof *c->names);
            memmove(&c->values[i], &c->values[i + 1], (c->count - i) * sizeof *c->values);
            return TLSB_OK;
        }
        char *v = strdup(value);
        if (!v)
            return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        free(c->values[i]);
        c->values[i] = v;
        return TLSB_OK;
    }
    if (!value)
        return TLSB_OK;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char **n = realloc(c->names, cap * sizeof *n);
        if (!n)
            return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        c->names = n;
        char **v = realloc(c->values, cap * sizeof *v);
        if (!v)
            return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
        c->values = v;
        c->cap = cap;
    }
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    }
    c->names[c->count] = n;
    c->values[c->count] = v;
    c->count++;
    return TLSB_OK;
}

TLSB_API int32_t tlsb_config_set_log(tlsb_config *c, tlsb_log_fn fn, void *user)
{
    if (!c)
        return tlsb_fail(TLSB_ERR_ARGUMENT, "tlsb_config_set_log: config is NULL");
    c->logger.fn = fn;
    c->logger.user = fn ? user : NULL;
    return TLSB_OK;
}

TLSB_API void tlsb_config_free(tlsb_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++) {
        free(c->names[i]);
        free(c->values[i]);
    }
    free(c->names);
    free(c->values);
    free(c);
}

/* ---- helpers ----------------------------------------------------------------------- */

int tlsb_split(const char *list, int spaces, char ***items)
{
    int count = 0, cap = 0;
    char **v = NULL;
    const char *p = list;
    while (*p) {
        while (*p && (*p == ',' || isspace((unsigned char)*p)))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',' && !(spaces && isspace((unsigned char)*p)))
            p++;
        const char *end = p;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if (count == cap) {
            cap = cap ? cap * 2 : 4;
            char **grown = realloc(v, (size_t)cap * sizeof *v);
            if (!grown)
                goto oom;
            v = grown;
        }
        v[count] = strndup(start, (size_t)(end - start));
        if (!v[count])
            goto oom;
        count++;
    }
    *items = v;
    return count;
oom:
    tlsb_split_free(v, count);
    return -1;
}

void tlsb_split_free(char **items, int count)
{
    for (int i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

static const char *const version_names[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

void tlsb_versions_text(unsigned versions, tlsb_text *out)
{
    int first = 1;
    for (int i = 0; i < 4; i++)
        if (versions & (1u << i)) {
            tlsb_text_add(out, "%s%s", first ? "" : " ", version_names[i]);
            first = 0;
        }
    if (first)
        tlsb_text_add(out, "(none)");
}

int32_t tlsb_options_warn(tlsb_options *o, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **grown = realloc(o->warnings, (o->warning_count + 1) * sizeof *grown);
    if (!grown)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    o->warnings = grown;
    if (!(o->warnings[o->warning_count] = strdup(buf)))
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    o->warning_count++;
    return TLSB_OK;
}

void tlsb_options_clear(tlsb_options *o)
{
    free(o->certificate);
    free(o->certificate_key);
    if (o->key_password)
        OPENSSL_clear_free(o->key_password, strlen(o->key_password));
    free(o->key_password_file);
    free(o->trusted_ca);
    free(o->crl);
    free(o->target_name);
    free(o->cipher_list);
    free(o->version_sources);
    for (size_t i = 0; i < o->warning_count; i++)
        free(o->warnings[i]);
    free(o->warnings);
    memset(o, 0, sizeof *o);
}

/* ---- value parsers ------------------------------------------------------------------ */

/* A whole decimal number from min to max; allowed describes the range in the error. */
static int32_t parse_int(const char *name, const char *v, long min, long max, const char *allowed, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || end == v || n < min || n > max)
        return tlsb_fail(TLSB_ERR_OPTION_VALUE, "option %s: bad value '%s'; allowed: %s", name, v, allowed);
    *out = (int)n;
    return TLSB_OK;
}

static int32_t parse_bool(const char *name, const char *v, int *out)
{
    static const char *const yes[] = {"1", "yes", "true", "on"}, *const no[] = {"0", "no", "false", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return TLSB_OK;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return TLSB_OK;
        }
    }
    return tlsb_fail(TLSB_ERR_OPTION_VALUE, "option %s: bad value '%s'; allowed: 1/0, yes/no, true/false, on/off",
                     name, v);
}

/* sec-protocol (Genesys native names). */
static int32_t parse_sec_protocol(const char *v, unsigned *set)
{
    static const struct {
        const char *name;
        unsigned set;
    } table[] = {{"SSLv23", TLSB_V11 | TLSB_V12 | TLSB_V13}, {"TLSv1", TLSB_V10},
                 {"TLSv11", TLSB_V11}, {"TLSv12", TLSB_V12}, {"TLSv13", TLSB_V13}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(v, table[i].name) == 0) {
            *set = table[i].set;
            return TLSB_OK;
        }
    if (strcasecmp(v, "SSLv3") == 0)
        return tlsb_fail(TLSB_ERR_OPTION_VALUE,
                         "option sec-protocol: 'SSLv3' is not supported (OpenSSL 3 has no SSLv3); allowed: "
                         "SSLv23, TLSv1, TLSv11, TLSv12, TLSv13 or empty");
    return tlsb_fail(TLSB_ERR_OPTION_VALUE,
                     "option sec-protocol: bad value '%s'; allowed: SSLv23, TLSv1, TLSv11, TLSv12, TLSv13 or empty", v);
}

/* One Java version name to its bit; 0 if unknown. */
static unsigned java_version_bit(const char *v)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(v, version_names[i]) == 0)
            return 1u << i;
    return 0;
}

/* tls-version (JSSE context protocol): the highest version; the lowest stays 1.2 or is it. */
static int32_t parse_tls_version(const char *v, unsigned *set)
{
    unsigned top = strcasecmp(v, "TLS") == 0 ? TLSB_V13 : java_version_bit(v);
    if (!top)
        return tlsb_fail(TLSB_ERR_OPTION_VALUE,
                         "option tls-version: bad value '%s'; allowed: TLS, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3", v);
    unsigned low = top < TLSB_V12 ? top : TLSB_V12;
    *set = (top | (top - 1)) & ~(low - 1);
    return TLSB_OK;
}

static int32_t parse_protocol_list(tlsb_options *o, const char *v, unsigned *set)
{
    char **items;
    int n = tlsb_split(v, 1, &items);
    if (n < 0)
        return tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    int32_t rc = TLSB_OK;
    *set = 0;
    for (int i = 0; i < n && rc == TLSB_OK; i++) {
        unsigned bit = java_version_bit(items[i]);
        if (bit)
            *set |= bit;
        else if (strcasecmp(items[i], "SSLv2Hello") == 0 || strcasecmp(items[i], "SSLv3") == 0)
            rc = tlsb_options_warn(o, "%s dropped from protocol-list (OpenSSL 3 has no %s)", items[i],
                                   strcasecmp(items[i], "SSLv3") == 0 ? "SSLv3" : "SSLv2 hello");
        else
            rc = tlsb_fail(TLSB_ERR_OPTION_VALUE,
                           "option protocol-list: unknown protocol '%s'; allowed: SSLv2Hello, SSLv3, TLSv1, "
                           "TLSv1.1, TLSv1.2, TLSv1.3",
                           items[i]);
    }
    tlsb_split_free(items, n);
    if (rc == TLSB_OK && !*set)
        rc = tlsb_fail(TLSB_ERR_PROTOCOL_NONE,
                       "option protocol-list: '%s' leaves no protocol version OpenSSL 3 supports; allowed: "
                       "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3",
                       v);
    return rc;
}

static int valid_host_name(const char *v)
{
    if (!*v || strlen(v) > 253)
        return 0;
    for (const char *p = v; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == ':' || *p == '_' || *p == '*'))
            return 0;
    return 1;
}

/* ---- the parser ------------------------------------------------------------------- */

static const char *const known_options =
    "tls, tls-mutual, certificate, certificate-key, certificate-key-password, certificate-key-password-file, "
    "trusted-ca, tls-crl, tls-target-name-check, tls-target-name, cipher-list, sec-protocol, tls-version, "
    "protocol-list, tls-target-name-wildcards, tls-verify-depth, dns-cache-ttl";

static int32_t keep(char **slot, const char *v)
{
    free(*slot);
    *slot = strdup(v);
    return *slot ? TLSB_OK : tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
}

int32_t tlsb_options_parse(const struct tlsb_config *c, int32_t role, tlsb_options *o)
{
    memset(o, 0, sizeof *o);
    o->tls = 1;
    o->name_check = role == TLSB_ROLE_CLIENT;
    o->wildcards = 1;
    o->verify_depth = -1;
    o->dns_cache_ttl = TLSB_DNS_CACHE_TTL;
    unsigned versions = TLSB_V12 | TLSB_V13;
    tlsb_text sources = {0};
    int given = 0;
    int32_t rc = TLSB_OK;

    for (size_t i = 0; c && i < c->count && rc == TLSB_OK; i++) {
        const char *name = c->names[i], *v = c->values[i];
        /* An empty value counts as not given, for every option. */
        int empty = v[0] == '\0';
        unsigned set = 0;
        if (strcmp(name, "tls") == 0) {
            if (!empty)
                rc = parse_bool(name, v, &o->tls);
        } else if (strcmp(name, "tls-mutual") == 0) {
            if (!empty)
                rc = parse_bool(name, v, &o->mutual);
        } else if (strcmp(name, "certificate") == 0) {
            if (!empty)
                rc = keep(&o->certificate, v);
        } else if (strcmp(name, "certificate-key") == 0) {
            if (!empty)
                rc = keep(&o->certificate_key, v);
        } else if (strcmp(name, "certificate-key-password") == 0) {
            if (!empty)
                rc = keep(&o->key_password, v);
        } else if (strcmp(name, "certificate-key-password-file") == 0) {
            if (!empty)
                rc = keep(&o->key_password_file, v);
        } else if (strcmp(name, "trusted-ca") == 0) {
            if (!empty)
                rc = keep(&o->trusted_ca, v);
        } else if (strcmp(name, "tls-crl") == 0) {
            if (!empty)
                rc = keep(&o->crl, v);
        } else if (strcmp(name, "tls-target-name-check") == 0) {
            if (empty)
                continue;
            if (strcasecmp(v, "host") == 0)
                o->name_check = 1;
            else if (strcasecmp(v, "no") == 0)
                o->name_check = 0;
            else
                rc = tlsb_fail(TLSB_ERR_OPTION_VALUE,
                               "option tls-target-name-check: bad value '%s'; allowed: host, no", v);
            o->name_check_given = 1;
        } else if (strcmp(name, "tls-target-name") == 0) {
            if (empty)
                continue;
            if (!valid_host_name(v))
                rc = tlsb_fail(TLSB_ERR_OPTION_VALUE,
                               "option tls-target-name: bad value '%s'; allowed: a DNS host name or IP address", v);
            else
                rc = keep(&o->target_name, v);
        } else if (strcmp(name, "cipher-list") == 0) {
            if (!empty)
                rc = keep(&o->cipher_list, v);
        } else if (strcmp(name, "sec-protocol") == 0 || strcmp(name, "tls-version") == 0 ||
                   strcmp(name, "protocol-list") == 0) {
            if (empty)
                continue;
            if (name[0] == 's')
                rc = parse_sec_protocol(v, &set);
            else if (name[4] == 'v')
                rc = parse_tls_version(v, &set);
            else
                rc = parse_protocol_list(o, v, &set);
            if (rc != TLSB_OK)
                break;
            versions = given ? versions & set : set;
            tlsb_text_add(&sources, "%s%s=%s", given ? ", " : "", name, v);
            given = 1;
        } else if (strcmp(name, "tls-target-name-wildcards") == 0) {
            if (empty)
                continue;
            if (strcasecmp(v, "allow") == 0 || strcasecmp(v, "deny") == 0)
                o->wildcards = strcasecmp(v, "allow") == 0;
            else
                rc = tlsb_fail(TLSB_ERR_OPTION_VALUE,
                               "option tls-target-name-wildcards: bad value '%s'; allowed: allow, deny", v);
        } else if (strcmp(name, "tls-verify-depth") == 0) {
            if (!empty)
                rc = parse_int(name, v, 0, 255, "0 to 255 (intermediate CAs)", &o->verify_depth);
        } else if (strcmp(name, "dns-cache-ttl") == 0) {
            int ttl;
            if (empty)
                continue;
            rc = parse_int(name, v, 0, 86400, "0 (no cache) to 86400 seconds", &ttl);
            if (rc == TLSB_OK && role == TLSB_ROLE_SERVER)
                rc = tlsb_options_warn(o, "dns-cache-ttl applies to clients (tlsb_dial); ignored for a server");
            else if (rc == TLSB_OK)
                o->dns_cache_ttl = ttl;
        } else {
            rc = tlsb_fail(TLSB_ERR_OPTION_UNKNOWN, "unknown option '%s'; known options: %s", name, known_options);
        }
    }

    if (rc == TLSB_OK && given && !versions)
        rc = tlsb_fail(TLSB_ERR_OPTION_CONFLICT,
                       "options %s enable no protocol version in common; each of sec-protocol, tls-version "
                       "and protocol-list that is given narrows the set",
                       sources.data);
    if (rc == TLSB_OK && o->certificate && !o->certificate_key)
        rc = tlsb_fail(TLSB_ERR_OPTION_CONFLICT, "option certificate is given without certificate-key");
    if (rc == TLSB_OK && o->certificate_key && !o->certificate)
        rc = tlsb_fail(TLSB_ERR_OPTION_CONFLICT, "option certificate-key is given without certificate");
    if (rc == TLSB_OK && o->key_password && o->key_password_file)
        rc = tlsb_fail(TLSB_ERR_OPTION_CONFLICT, "options certificate-key-password and certificate-key-password-file "
                                                 "are mutually exclusive; give one");
    if (rc == TLSB_OK && (o->key_password || o->key_password_file) && !o->certificate_key)
        rc = tlsb_fail(TLSB_ERR_OPTION_CONFLICT, "option %s is given without certificate-key",
                       o->key_password ? "certificate-key-password" : "certificate-key-password-file");
    if (rc == TLSB_OK && role == TLSB_ROLE_SERVER && o->tls && !o->certificate)
        rc = tlsb_fail(TLSB_ERR_CERT_REQUIRED,
                       "a server needs options certificate and certificate-key (or tls=0)");
    if (rc == TLSB_OK && role == TLSB_ROLE_CLIENT && o->mutual)
        rc = tlsb_options_warn(o, "tls-mutual applies to servers; ignored for a client");
    if (rc == TLSB_OK && role == TLSB_ROLE_SERVER && o->target_name)
        rc = tlsb_options_warn(o, "tls-target-name applies to clients; ignored for a server");
    if (rc == TLSB_OK && role == TLSB_ROLE_SERVER && o->name_check_given && o->name_check)
        rc = tlsb_options_warn(o, "tls-target-name-check applies to clients; ignored for a server");
    if (role == TLSB_ROLE_SERVER)
        o->name_check = 0;
    if (rc == TLSB_OK && role == TLSB_ROLE_SERVER && o->mutual && !o->trusted_ca)
        rc = tlsb_options_warn(o, "tls-mutual without trusted-ca: client certificates are checked against the "
                                  "system store and no CA names are sent");

    o->versions = versions;
    if (rc == TLSB_OK && given && !(o->version_sources = tlsb_text_take(&sources)))
        rc = tlsb_fail(TLSB_ERR_NO_MEMORY, "out of memory");
    free(sources.data);
    if (rc != TLSB_OK)
        tlsb_options_clear(o);
    return rc;
}
