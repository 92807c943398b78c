/* `tlsbridge demo`: the project's main job on built-in defaults. A throwaway PKI, one native
 * echo server, and a client from every face that is built — C, Java, .NET — with the same
 * options; their negotiated details side by side. */
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

#define ROWS 6
static const char *const row_keys[ROWS] = {"version", "cipher", "peer", "issuer", "verify", "echo"};

struct face {
    const char *name;
    char values[ROWS][256];
    char error[512];
    int ran, ok;
};

static void set_row(struct face *f, const char *key, const char *value)
{
    for (int i = 0; i < ROWS; i++)
        if (strcmp(key, row_keys[i]) == 0)
            snprintf(f->values[i], sizeof f->values[i], "%s", value);
}

/* Parses "key: value" lines as every face's demo client prints them. */
static void parse_lines(struct face *f, char *text)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *sep = strstr(line, ": ");
        if (sep) {
            *sep = '\0';
            set_row(f, line, sep + 2);
        }
    }
}

/* ---- the server: serves the demo clients one after the other ---- */

struct server {
    tlsb_listener *listener;
    tlsb_context *context;
    char seen[8][256]; /* the client certificate each connection presented */
    int count;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    tlsb_conn *conn;
    while (s->count < 8 && tlsb_accept(s->listener, s->context, 0, &conn) == TLSB_OK) {
        tlsb_conn_set_timeout(conn, 10000);
        uint8_t buf[4096];
        int32_t n = tlsb_conn_handshake(conn);
        snprintf(s->seen[s->count++], sizeof s->seen[0], "%s",
                 n == TLSB_OK ? tlsb_conn_info(conn, TLSB_INFO_PEER_SUBJECT) : tlsb_last_error());
        while (n == TLSB_OK && (n = tlsb_conn_read(conn, buf, sizeof buf)) > 0)
            n = tlsb_conn_write(conn, buf, n) > 0 ? TLSB_OK : -1;
        tlsb_conn_shutdown(conn);
        tlsb_conn_free(conn);
    }
    return NULL;
}

/* ---- the C client ---- */

static void c_client(struct face *f, int port, int argc, char **argv)
{
    f->ran = 1;
    tlsb_context *ctx;
    tlsb_conn *conn = NULL;
    int32_t rc = tool_context(TLSB_ROLE_CLIENT, argc, argv, &ctx);
    if (rc == TLSB_OK) {
        rc = tlsb_dial(ctx, "localhost", port, 10000, &conn);
        tlsb_context_free(ctx);
    }
    static const char hello[] = "hello from c\n";
    char echo[sizeof hello] = "";
    int got = 0;
    if (rc == TLSB_OK && (rc = tlsb_conn_set_timeout(conn, 10000)) == TLSB_OK &&
        (rc = tlsb_conn_write(conn, (const uint8_t *)hello, sizeof hello - 1)) > 0) {
        while (got < (int)sizeof hello - 1 &&
               (rc = tlsb_conn_read(conn, (uint8_t *)echo + got, (int32_t)(sizeof hello - 1) - got)) > 0)
            got += rc;
    }
    if (got == (int)sizeof hello - 1) {
        char cipher[256];
        snprintf(cipher, sizeof cipher, "%s (IANA %s)", tlsb_conn_info(conn, TLSB_INFO_CIPHER),
                 tlsb_conn_info(conn, TLSB_INFO_CIPHER_IANA));
        set_row(f, "version", tlsb_conn_info(conn, TLSB_INFO_VERSION));
        set_row(f, "cipher", cipher);
        set_row(f, "peer", tlsb_conn_info(conn, TLSB_INFO_PEER_SUBJECT));
        set_row(f, "issuer", tlsb_conn_info(conn, TLSB_INFO_PEER_ISSUER));
        set_row(f, "verify", tlsb_conn_info(conn, TLSB_INFO_VERIFY));
        set_row(f, "echo", memcmp(echo, hello, sizeof hello - 1) == 0 ? "ok" : "MISMATCH");
        f->ok = memcmp(echo, hello, sizeof hello - 1) == 0;
    } else {
        snprintf(f->error, sizeof f->error, "%s: %s", tlsb_status_name(rc), tlsb_last_error());
    }
    if (conn)
        tlsb_conn_shutdown(conn);
    tlsb_conn_free(conn);
}

/* ---- managed clients: separate programs speaking the same line format ---- */

static void run_client(struct face *f, char *const cmd[])
{
    int out[2];
    if (pipe(out) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execvp(cmd[0], cmd);
        fprintf(stderr, "cannot run %s\n", cmd[0]);
        _exit(127);
    }
    close(out[1]);
    char text[8192];
    size_t len = 0;
    ssize_t n;
    while (pid > 0 && (n = read(out[0], text + len, sizeof text - 1 - len)) > 0)
        len += (size_t)n;
    text[len] = '\0';
    close(out[0]);
    int status = -1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    f->ran = 1;
    parse_lines(f, text);
    f->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && strcmp(f->values[ROWS - 1], "ok") == 0;
    if (!f->ok)
        snprintf(f->error, sizeof f->error, "exit status %d (its stderr is above)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static int on_path(const char *program)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];
    for (const char *p = path; p && *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, program);
        if (access(buf, X_OK) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static void managed_client(struct face *f, const char *runtime, const char *file, char *const prefix[], int port,
                           int argc, char **argv)
{
    if (access(file, R_OK) != 0 || !on_path(runtime)) {
        snprintf(f->error, sizeof f->error, "not built (%s missing)", access(file, R_OK) != 0 ? file : runtime);
        return;
    }
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    char *cmd[32];
    int n = 0;
    for (int i = 0; prefix[i] && n < 24; i++)
        cmd[n++] = prefix[i];
    cmd[n++] = "localhost";
    cmd[n++] = port_text;
    for (int i = 0; i < argc && n < 31; i++)
        cmd[n++] = argv[i];
    cmd[n] = NULL;
    run_client(f, cmd);
}

static void print_table(struct face *faces, int count)
{
    int width[4] = {8, 0, 0, 0};
    for (int j = 0; j < count; j++) {
        width[j + 1] = (int)strlen(faces[j].name);
        for (int i = 0; i < ROWS; i++)
            if ((int)strlen(faces[j].values[i]) > width[j + 1])
                width[j + 1] = (int)strlen(faces[j].values[i]);
    }
    printf("\n%-*s", width[0], "");
    for (int j = 0; j < count; j++)
        printf(" | %-*s", width[j + 1], faces[j].name);
    printf("\n");
    for (int i = 0; i < ROWS; i++) {
        printf("%-*s", width[0], row_keys[i]);
        for (int j = 0; j < count; j++)
            printf(" | %-*s", width[j + 1], faces[j].values[i][0] ? faces[j].values[i] : "-");
        printf("\n");
    }
    for (int j = 0; j < count; j++)
        if (!faces[j].ok)
            printf("%s client: %s\n", faces[j].name, faces[j].error);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int cmd_demo(int argc, char **argv)
{
    int status = tool_common_flags(&tool_demo, argc, argv);
    if (status >= 0)
        return status;
    argc -= optind;
    argv += optind;
    char dir[] = "/tmp/tlsbridge-demo-XXXXXX";
    if (!mkdtemp(dir) || demo_make_certs(dir) != 0) {
        fprintf(stderr, "tlsbridge demo: cannot make the throwaway PKI in %s\n", dir);
        return EXIT_FAILED;
    }
    char opt[5][PATH_MAX + 32];
    snprintf(opt[0], sizeof opt[0], "trusted-ca=%s/ca.pem", dir);
    snprintf(opt[1], sizeof opt[1], "certificate=%s/server.pem", dir);
    snprintf(opt[2], sizeof opt[2], "certificate-key=%s/server.key", dir);
    snprintf(opt[3], sizeof opt[3], "certificate=%s/client.pem", dir);
    snprintf(opt[4], sizeof opt[4], "certificate-key=%s/client.key", dir);
    char *server_opts[] = {opt[0], opt[1], opt[2], "tls-mutual=1"};
    /* Extra NAME=VALUE arguments go to every client, after the defaults. */
    char *client_opts[32] = {opt[0], opt[3], opt[4]};
    int client_count = 3;
    for (int i = 0; i < argc && client_count < 32; i++)
        client_opts[client_count++] = argv[i];

    printf("tlsbridge %s with %s\nthrowaway PKI (EC P-256 CA, server 'localhost', client) in %s\n", tlsb_version(),
           tlsb_openssl_version(), dir);
    struct server srv = {0};
    int rc = EXIT_FAILED;
    if (tool_context(TLSB_ROLE_SERVER, 4, server_opts, &srv.context) != TLSB_OK)
        goto out;
    if (tlsb_listen("127.0.0.1", 0, 16, &srv.listener) != TLSB_OK) {
        tool_report("listen", tlsb_last_status());
        tlsb_context_free(srv.context);
        goto out;
    }
    int port = tlsb_listener_port(srv.listener);
    printf("native server on 127.0.0.1:%d, tls-mutual=1\n", port);
    tlsb_context *shown;
    if (tool_context(TLSB_ROLE_CLIENT, client_count, client_opts, &shown) == TLSB_OK) {
        printf("\nclient options resolve to:\n%s", tlsb_context_settings(shown));
        tlsb_context_free(shown);
    }
    fflush(stdout);
    pthread_t tid;
    pthread_create(&tid, NULL, serve, &srv);

    /* The build tree: this program is <build>/bin/tlsbridge. */
    char self[PATH_MAX], build[PATH_MAX], jar[PATH_MAX + 32], cp[2 * PATH_MAX + 64], lib[PATH_MAX + 32],
        dll[PATH_MAX + 48];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    snprintf(build, sizeof build, "%s", dirname(dirname(self)));
    /* The demo client has its own jar, beside the library's. */
    snprintf(jar, sizeof jar, "%s/java/tlsbridge-demo.jar", build);
    snprintf(cp, sizeof cp, "%s:%s/java/tlsbridge.jar", jar, build);
    snprintf(lib, sizeof lib, "-Djava.library.path=%s/lib", build);
    snprintf(dll, sizeof dll, "%s/dotnet/demo/TlsBridge.Demo.dll", build);

    struct face faces[3] = {{.name = "C"}, {.name = "Java"}, {.name = ".NET"}};
    c_client(&faces[0], port, client_count, client_opts);
    char *java[] = {"java", lib, "-cp", cp, "org.tlsbridge.demo.DemoClient", NULL};
    managed_client(&faces[1], "java", jar, java, port, client_count, client_opts);
    char *dotnet[] = {"dotnet", dll, NULL};
    managed_client(&faces[2], "dotnet", dll, dotnet, port, client_count, client_opts);

    tlsb_listener_close(srv.listener);
    pthread_join(tid, NULL);
    tlsb_listener_free(srv.listener);
    tlsb_context_free(srv.context);
    print_table(faces, 3);
    printf("\nthe server verified these client certificates:\n");
    for (int i = 0; i < srv.count; i++)
        printf("  %s\n", srv.seen[i]);
    /* A face that is not built is reported, not failed; a face that ran must have succeeded. */
    rc = 0;
    for (int i = 0; i < 3; i++)
        if (faces[i].ran && !faces[i].ok)
            rc = EXIT_FAILED;
out:
    remove_dir(dir);
    return rc;
}

const struct tool_command tool_demo = {
    "demo",
    "[NAME=VALUE ...]",
    "throwaway PKI, native server, C/Java/.NET clients side by side (scripts/demo.sh)",
    "  NAME=VALUE        more library options for every client, after the demo's own\n",
    "0 every client that is built succeeded (one not built is reported, not failed), 1 a client failed or\n"
    "the demo could not start (a bad NAME=VALUE makes every client fail)",
    cmd_demo};
