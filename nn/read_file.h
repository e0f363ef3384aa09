/* read_file.h: reads a whole file into memory, the one implementation the
 * toolkit's parsers share (model files, images, Keras JSON). */
#ifndef NN_READ_FILE_H
#define NN_READ_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "nn/error.h"

/* Reads all of path into a malloc'd buffer (*data, *len; caller frees),
 * followed by one zero byte not counted in *len, so text parsers may treat
 * it as a string. A file longer than max_bytes is refused with NN_ERR_FORMAT
 * ("PATH: larger than N MiB, the most a WHAT can be"), before reading it all.
 * Errors name the path: NN_ERR_IO (open/read, with the errno text),
 * NN_ERR_NOMEM. On error *data is NULL and *len 0. */
nn_status nn_read_file(const char *path, size_t max_bytes, const char *what, uint8_t **data,
                       size_t *len, nn_error *err);

#endif
