/* error.h: how every library function in the toolkit reports failure.
 *
 * Library code never prints and never exits: a function that can fail returns
 * an nn_status (0 = NN_OK) and, when the caller passed a non-NULL nn_error,
 * fills it with a one-line message naming the file/line/problem. Only the
 * command-line programs print the message and choose an exit code.
 */
#ifndef NN_ERROR_H
#define NN_ERROR_H

#include <stddef.h>

typedef enum {
    NN_OK = 0,
    NN_ERR_ARG,      /* bad argument: NULL, zero size, out-of-range value */
    NN_ERR_SHAPE,    /* tensor shapes do not fit together */
    NN_ERR_NOMEM,    /* allocation failed */
    NN_ERR_IO,       /* open/read/write/rename failed (errno text in message) */
    NN_ERR_FORMAT,   /* input file or stream is malformed */
    NN_ERR_UNSUPPORTED, /* valid input that this code does not handle */
    NN_ERR_INTERRUPTED, /* stopped on request (Ctrl-C) */
    NN_ERR_NET,      /* network or remote-service failure */
} nn_status;

typedef struct {
    nn_status code;
    char msg[512];
} nn_error;

/* Records code and a printf-style message in err (if non-NULL) and returns
 * code, so callers can write `return nn_fail(err, NN_ERR_ARG, "...", ...);`.
 * Formatting is truncated to fit; never allocates. */
nn_status nn_fail(nn_error *err, nn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err->msg with printf-style context ("loading model.bin: ...").
 * Returns err->code (NN_OK if err is NULL). */
nn_status nn_error_prefix(nn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Short name of a status code ("shape mismatch", ...). */
const char *nn_status_name(nn_status code);

/* Clears err to NN_OK with an empty message. */
void nn_error_clear(nn_error *err);

#endif
