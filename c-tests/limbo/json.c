/* A small JSON reader: recursive descent over the whole text, strict about syntax. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *p, *start;
    char *err;
    size_t err_size;
    int depth;
};

static int fail(struct parser *ps, const char *what)
{
    int line = 1;
    for (const char *q = ps->start; q < ps->p; q++)
        line += *q == '\n';
    snprintf(ps->err, ps->err_size, "line %d: %s", line, what);
    return -1;
}

static void skip_space(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static int hex4(const char *s, unsigned *out)
{
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16)
            return -1;
        *out = *out * 16 + d;
    }
    return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* At the opening quote; an escape never makes the text longer, so the raw length bounds it. */
static int parse_string(struct parser *ps, char **out)
{
    const char *end = ++ps->p;
    while (*end && *end != '"')
        end += *end == '\\' && end[1] ? 2 : 1;
    if (!*end)
        return fail(ps, "unterminated string");
    char *s = malloc((size_t)(end - ps->p) + 1), *w = s;
    if (!s)
        return fail(ps, "out of memory");
    while (ps->p < end) {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) {
            free(s);
            return fail(ps, "control character in string");
        }
        if (c != '\\') {
            *w++ = (char)c;
            continue;
        }
        char e = *ps->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            *w++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || hex4(ps->p, &cp) != 0) {
            free(s);
            return fail(ps, "bad escape in string");
        }
        ps->p += 4;
        /* A high surrogate followed by \uDC00-\uDFFF is one code point. */
        if (cp >= 0xD800 && cp < 0xDC00 && ps->p[0] == '\\' && ps->p[1] == 'u' && hex4(ps->p + 2, &lo) == 0 &&
            lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            ps->p += 6;
        }
        w += put_utf8(w, cp);
    }
    *w = '\0';
    ps->p = end + 1;
    *out = s;
    return 0;
}

static int parse_value(struct parser *ps, json *v);

/* Appends one item to an array or object being built. */
static json *grow(struct parser *ps, json *v, size_t *cap)
{
    if (v->count == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        json *items = realloc(v->items, *cap * sizeof *items);
        if (!items)
            return NULL;
        v->items = items;
        if (v->type == JSON_OBJECT) {
            char **keys = realloc(v->keys, *cap * sizeof *keys);
            if (!keys)
                return NULL;
            v->keys = keys;
        }
    }
    json *item = &v->items[v->count];
    memset(item, 0, sizeof *item);
    return item;
}

static int parse_container(struct parser *ps, json *v, char close)
{
    size_t cap = 0;
    ps->p++;
    skip_space(ps);
    if (*ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        json *item = grow(ps, v, &cap);
        if (!item)
            return fail(ps, "out of memory");
        if (v->type == JSON_OBJECT) {
            skip_space(ps);
            if (*ps->p != '"')
                return fail(ps, "expected a member name");
            if (parse_string(ps, &v->keys[v->count]) != 0)
                return -1;
            skip_space(ps);
            if (*ps->p++ != ':') {
                free(v->keys[v->count]);
                return fail(ps, "expected ':'");
            }
        }
        int rc = parse_value(ps, item);
        v->count++; /* counted even on failure, so that json_free releases it */
        if (rc != 0)
            return -1;
        skip_space(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return 0;
        }
        return fail(ps, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}

static int parse_value(struct parser *ps, json *v)
{
    skip_space(ps);
    if (++ps->depth > 64)
        return fail(ps, "nested too deeply");
    int rc = 0;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
        rc = parse_container(ps, v, c == '{' ? '}' : ']');
    } else if (c == '"') {
        v->type = JSON_STRING;
        rc = parse_string(ps, &v->string);
    } else if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "false", 5) == 0) {
        v->type = JSON_BOOL;
        v->number = c == 't';
        ps->p += c == 't' ? 4 : 5;
    } else if (strncmp(ps->p, "null", 4) == 0) {
        v->type = JSON_NULL;
        ps->p += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        v->type = JSON_NUMBER;
        v->number = strtod(ps->p, &end);
        ps->p = end;
    } else {
        rc = fail(ps, c ? "unexpected character" : "unexpected end of text");
    }
    ps->depth--;
    return rc;
}

static void release(json *v)
{
    for (size_t i = 0; i < v->count; i++) {
        release(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

json *json_parse(const char *text, char *err, size_t err_size)
{
    struct parser ps = {.p = text, .start = text, .err = err, .err_size = err_size};
    json *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    int rc = parse_value(&ps, v);
    skip_space(&ps);
    if (rc == 0 && *ps.p)
        rc = fail(&ps, "text after the value");
    if (rc != 0) {
        json_free(v);
        return NULL;
    }
    return v;
}

void json_free(json *v)
{
    if (!v)
        return;
    release(v);
    free(v);
}

const json *json_get(const json *o, const char *key)
{
    for (size_t i = 0; o && o->type == JSON_OBJECT && i < o->count; i++)
        if (strcmp(o->keys[i], key) == 0)
            return &o->items[i];
    return NULL;
}

const char *json_string(const json *o, const char *key)
{
    const json *v = json_get(o, key);
    return v && v->type == JSON_STRING ? v->string : NULL;
}
