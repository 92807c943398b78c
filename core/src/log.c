/* Routes library messages to the callback set on the config, on the calling thread. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

void tlsb_log(const tlsb_logger *logger, int32_t level, const char *fmt, ...)
{
    if (!logger || !logger->fn)
        return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    logger->fn(logger->user, level, message);
}
