#include "nn/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

nn_status nn_fail(nn_error *err, nn_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

nn_status nn_error_prefix(nn_error *err, const char *fmt, ...)
{
    if (!err) return NN_OK;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    return err->code;
}

const char *nn_status_name(nn_status code)
{
    switch (code) {
    case NN_OK: return "ok";
    case NN_ERR_ARG: return "bad argument";
    case NN_ERR_SHAPE: return "shape mismatch";
    case NN_ERR_NOMEM: return "out of memory";
    case NN_ERR_IO: return "I/O error";
    case NN_ERR_FORMAT: return "malformed input";
    case NN_ERR_UNSUPPORTED: return "unsupported";
    case NN_ERR_INTERRUPTED: return "interrupted";
    case NN_ERR_NET: return "network error";
    }
    return "unknown error";
}

void nn_error_clear(nn_error *err)
{
    if (err) {
        err->code = NN_OK;
        err->msg[0] = '\0';
    }
}
