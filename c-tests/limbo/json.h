/* A small JSON reader (RFC 8259) for the limbo runner: the whole text becomes a tree. */
#ifndef TLSB_LIMBO_JSON_H
#define TLSB_LIMBO_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

typedef struct json {
    enum json_type type;
    double number;          /* JSON_NUMBER; JSON_BOOL: 0 or 1 */
    char *string;           /* JSON_STRING, NUL-terminated UTF-8 */
    size_t count;           /* JSON_ARRAY / JSON_OBJECT: number of items */
    struct json *items;     /* the values */
    char **keys;            /* JSON_OBJECT: the key of each item */
} json;

/* Parses text; NULL on error with "line N: what" in err. */
json *json_parse(const char *text, char *err, size_t err_size);
void json_free(json *value);
/* The member key of an object, or NULL (also when value is not an object). */
const json *json_get(const json *object, const char *key);
/* The string of member key, or NULL when it is missing or not a string. */
const char *json_string(const json *object, const char *key);

#endif
