#include "nn/read_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nn_status nn_read_file(const char *path, size_t max_bytes, const char *what, uint8_t **data,
                       size_t *len, nn_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return nn_fail(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    nn_status st = NN_OK;
    for (;;) {
        if (n == cap) { /* +1 keeps room for the terminating zero */
            if (cap > max_bytes) {
                st = nn_fail(err, NN_ERR_FORMAT, "%s: larger than %zu MiB, the most a %s can be",
                             path, max_bytes >> 20, what);
                break;
            }
            size_t ncap = cap ? 2 * cap : ((size_t)1 << 16);
            uint8_t *p = realloc(buf, ncap + 1);
            if (!p) {
                st = nn_fail(err, NN_ERR_NOMEM, "%s: out of memory reading it", path);
                break;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) st = nn_fail(err, NN_ERR_IO, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (st) {
        free(buf);
        return st;
    }
    if (!buf && !(buf = malloc(1))) return nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", path);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return NN_OK;
}
