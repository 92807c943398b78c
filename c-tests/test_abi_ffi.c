/* Loads the library as System.loadLibrary and DllImport do (dlopen by file name) and calls
 * every export through libffi with the types of the committed manifest, core/tlsbridge.abi.
 * Also checks that the public header declares exactly what the manifest says. */
#include <dlfcn.h>
#include <ffi.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MAX_ENTRIES 128
#define MAX_PARAMS 8

struct entry {
    char name[64];
    char ret[8];
    char params[MAX_PARAMS][8];
    int nparams;
};

static struct entry entries[MAX_ENTRIES];
static int entry_count;
static void *lib;

static int load_manifest(void)
{
    const char *path = getenv("TLSB_ABI_MANIFEST");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return -1;
    char line[512];
    while (fgets(line, sizeof line, f) && entry_count < MAX_ENTRIES) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct entry *e = &entries[entry_count];
        char *tok = strtok(line, " \t\n");
        snprintf(e->name, sizeof e->name, "%s", tok);
        snprintf(e->ret, sizeof e->ret, "%s", strtok(NULL, " \t\n"));
        while ((tok = strtok(NULL, " \t\n")) && e->nparams < MAX_PARAMS)
            snprintf(e->params[e->nparams++], sizeof e->params[0], "%s", tok);
        entry_count++;
    }
    fclose(f);
    return 0;
}

static ffi_type *ffi_of(const char *t)
{
    if (strcmp(t, "void") == 0)
        return &ffi_type_void;
    if (strcmp(t, "i32") == 0)
        return &ffi_type_sint32;
    if (strcmp(t, "i64") == 0)
        return &ffi_type_sint64;
    return &ffi_type_pointer; /* ptr out str cstr bytes fn */
}

/* Calls an export by manifest name with the given argument values. */
static void call(const char *name, void *result, void **args)
{
    for (int i = 0; i < entry_count; i++) {
        struct entry *e = &entries[i];
        if (strcmp(e->name, name) != 0)
            continue;
        ffi_type *types[MAX_PARAMS];
        for (int j = 0; j < e->nparams; j++)
            types[j] = ffi_of(e->params[j]);
        ffi_cif cif;
        CHECK(ffi_prep_cif(&cif, FFI_DEFAULT_ABI, (unsigned)e->nparams, ffi_of(e->ret), types) == FFI_OK);
        void *fn = dlsym(lib, name);
        CHECK(fn != NULL);
        if (fn)
            ffi_call(&cif, FFI_FN(fn), result, args);
        return;
    }
    harness_fail(__FILE__, __LINE__, "%s is not in the manifest", name);
}

static void manifest_loads(void)
{
    CHECK(load_manifest() == 0);
    CHECK(entry_count >= 37);
    const char *dir = getenv("TLSB_LIBRARY_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/libtlsbridge.so.1", dir ? dir : ".");
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        harness_fail(__FILE__, __LINE__, "dlopen %s: %s", path, dlerror());
}

/* Every export, called with NULL handles and zero values, answers without crashing: i32 exports
 * that take a handle say TLSB_ERR_ARGUMENT, string exports that take a handle give NULL. */
static void every_export_survives_null(void)
{
    for (int i = 0; lib && i < entry_count; i++) {
        struct entry *e = &entries[i];
        void *values[MAX_PARAMS];
        void *slots[MAX_PARAMS];
        int32_t zero32[MAX_PARAMS] = {0};
        int64_t zero64[MAX_PARAMS] = {0};
        int takes_handle = 0;
        for (int j = 0; j < e->nparams; j++) {
            slots[j] = NULL;
            if (strcmp(e->params[j], "i32") == 0)
                values[j] = &zero32[j];
            else if (strcmp(e->params[j], "i64") == 0)
                values[j] = &zero64[j];
            else
                values[j] = &slots[j];
            takes_handle |= strcmp(e->params[j], "ptr") == 0 || strcmp(e->params[j], "out") == 0;
        }
        /* tlsb_listen(NULL host = any, port 0, backlog 0, NULL out) must still refuse the NULL out. */
        ffi_arg result = 0;
        call(e->name, &result, values);
        if (strcmp(e->ret, "i32") == 0 && takes_handle && (int32_t)result != TLSB_ERR_ARGUMENT)
            harness_fail(__FILE__, __LINE__, "%s(NULL...) returned %d, expected TLSB_ERR_ARGUMENT", e->name,
                         (int32_t)result);
        if (strcmp(e->ret, "cstr") == 0 && takes_handle && (void *)result != NULL)
            harness_fail(__FILE__, __LINE__, "%s(NULL...) returned a string", e->name);
        if (strcmp(e->ret, "cstr") == 0 && !takes_handle && (void *)result == NULL)
            harness_fail(__FILE__, __LINE__, "%s() returned NULL", e->name);
    }
}

/* A real sequence through libffi: config, option, context, settings. */
static void a_context_through_ffi(void)
{
    if (!lib)
        return;
    ffi_arg rc = 0;
    void *cfg = NULL, *ctx = NULL;
    void *out = &cfg;
    void *args1[] = {&out};
    call("tlsb_config_new", &rc, args1);
    CHECK((int32_t)rc == TLSB_OK && cfg != NULL);
    const char *name = "sec-protocol", *value = "TLSv12";
    void *args2[] = {&cfg, &name, &value};
    call("tlsb_config_set", &rc, args2);
    CHECK((int32_t)rc == TLSB_OK);
    int32_t role = TLSB_ROLE_CLIENT;
    void *ctx_out = &ctx;
    void *args3[] = {&cfg, &role, &ctx_out};
    call("tlsb_context_new", &rc, args3);
    CHECK((int32_t)rc == TLSB_OK && ctx != NULL);
    void *args4[] = {&ctx};
    ffi_arg text = 0;
    call("tlsb_context_settings", &text, args4);
    CHECK_CONTAINS((const char *)text, "protocols: TLSv1.2\n");
    call("tlsb_context_free", &rc, args4);
    void *args5[] = {&cfg};
    call("tlsb_config_free", &rc, args5);
}

/* The header declares the same exports with the same types as the manifest. */
static const char *manifest_type_of(const char *c)
{
    static const struct {
        const char *c, *m;
    } map[] = {{"void", "void"},           {"int32_t", "i32"},        {"int64_t", "i64"},
               {"const char *", "cstr"},   {"tlsb_log_fn", "fn"},     {"const uint8_t *", "bytes"},
               {"uint8_t *", "bytes"},     {"void *", "ptr"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(c, map[i].c) == 0)
            return map[i].m;
    if (strstr(c, "**"))
        return "out";
    if (strstr(c, "tlsb_"))
        return "ptr";
    return "?";
}

static void header_matches_manifest(void)
{
    const char *path = getenv("TLSB_HEADER");
    FILE *f = path ? fopen(path, "r") : NULL;
    CHECK(f != NULL);
    if (!f)
        return;
    /* Join the file, then read each "TLSB_API <ret> <name>(<params>);". */
    static char text[65536];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    int found = 0;
    for (char *p = strstr(text, "TLSB_API "); p; p = strstr(p + 1, "TLSB_API ")) {
        if (p[9] == '_' || strncmp(p - 8, "define ", 7) == 0)
            continue;
        char *open = strchr(p, '('), *close = strchr(p, ')');
        if (!open || !close)
            break;
        char decl[1024];
        snprintf(decl, sizeof decl, "%.*s", (int)(open - p - 9), p + 9);
        char *name = strrchr(decl, ' ');
        if (name[1] == '*') /* "const char *tlsb_version" */
            name++;
        char ret[64];
        snprintf(ret, sizeof ret, "%.*s", (int)(name - decl + (name[0] == '*' ? 1 : 0)), decl);
        while (ret[strlen(ret) - 1] == ' ')
            ret[strlen(ret) - 1] = '\0';
        name += name[0] == ' ' || name[0] == '*' ? 1 : 0;
        const struct entry *e = NULL;
        for (int i = 0; i < entry_count; i++)
            if (strcmp(entries[i].name, name) == 0)
                e = &entries[i];
        found++;
        if (!e) {
            harness_fail(__FILE__, __LINE__, "header declares %s, the manifest does not", name);
            continue;
        }
        const char *mret = strcmp(ret, "const char *") == 0 ? "cstr" : manifest_type_of(ret);
        if (strcmp(mret, e->ret) != 0)
            harness_fail(__FILE__, __LINE__, "%s returns %s in the header, %s in the manifest", name, ret, e->ret);
        /* Parameters: split on commas, drop the names. */
        char params[1024];
        snprintf(params, sizeof params, "%.*s", (int)(close - open - 1), open + 1);
        int np = 0;
        for (char *tok = strtok(params, ","); tok; tok = strtok(NULL, ",")) {
            while (*tok == ' ' || *tok == '\n')
                tok++;
            if (strcmp(tok, "void") == 0)
                break;
            char type[128];
            char *last = strrchr(tok, ' ');
            char *star = strrchr(tok, '*');
            size_t tl = star && star > last ? (size_t)(star - tok + 1) : (size_t)(last - tok);
            snprintf(type, sizeof type, "%.*s", (int)tl, tok);
            while (strstr(type, "  "))
                memmove(strstr(type, "  "), strstr(type, "  ") + 1, strlen(strstr(type, "  ")));
            const char *m = manifest_type_of(type);
            if (strcmp(m, "cstr") == 0)
                m = "str"; /* a const char * parameter is an input string */
            if (np >= e->nparams || strcmp(m, e->params[np]) != 0)
                harness_fail(__FILE__, __LINE__, "%s parameter %d is '%s' (%s) in the header, '%s' in the manifest",
                             name, np + 1, type, m, np < e->nparams ? e->params[np] : "(none)");
            np++;
        }
        if (np != e->nparams)
            harness_fail(__FILE__, __LINE__, "%s has %d parameters in the header, %d in the manifest", name, np,
                         e->nparams);
    }
    CHECK(found == entry_count);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"manifest_loads", manifest_loads},
        {"every_export_survives_null", every_export_survives_null},
        {"a_context_through_ffi", a_context_through_ffi},
        {"header_matches_manifest", header_matches_manifest},
        {NULL, NULL},
    };
    return harness_main(tests, argc, argv);
}
