/* HOST:PORT, [V6]:PORT and bare PORT arguments. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

int tool_host_port(const char *arg, const char *default_host, char *host, size_t size, int *port)
{
    const char *colon = strrchr(arg, ':');
    const char *p = colon ? colon + 1 : arg;
    char *end;
    long v = strtol(p, &end, 10);
    if (!*p || *end || v < 0 || v > 65535)
        return -1;
    *port = (int)v;
    if (!colon) {
        snprintf(host, size, "%s", default_host);
        return default_host[0] ? 0 : -1;
    }
    size_t n = (size_t)(colon - arg);
    if (n >= 2 && arg[0] == '[' && arg[n - 1] == ']') { /* [::1]:443 */
        arg++;
        n -= 2;
    }
    if (n == 0 || n >= size)
        return -1;
    memcpy(host, arg, n);
    host[n] = '\0';
    return 0;
}
