/* image_io.c: format sniffing, whole-file reading and dispatch to the PNG or
 * JPEG decoder. Files are read whole into memory first: stills are small,
 * and one in-memory path serves files, camera MJPEG frames and tests. */
#include "vision/image_io.h"

#include "nn/read_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fer_image_format fer_image_sniff(const uint8_t *b, size_t n)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && memcmp(b, png_sig, 8) == 0) return FER_IMG_PNG;
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return FER_IMG_JPEG;
    return FER_IMG_UNKNOWN;
}

static nn_status check_channels(int channels, const char *name, nn_error *err)
{
    if (channels != 0 && channels != 1 && channels != 3)
        return nn_fail(err, NN_ERR_ARG, "%s: asked for %d channels (want 0, 1 or 3)",
                       name, channels);
    return NN_OK;
}

nn_status fer_image_decode(const uint8_t *bytes, size_t n, const char *name,
                           int channels, fer_image *im, nn_error *err)
{
    if (!name) name = "(memory)";
    if (!bytes || !im) return nn_fail(err, NN_ERR_ARG, "%s: NULL buffer or image", name);
    nn_status st = check_channels(channels, name, err);
    if (st) return st;
    switch (fer_image_sniff(bytes, n)) {
    case FER_IMG_PNG: return fer_png_decode(bytes, n, name, channels, im, err);
    case FER_IMG_JPEG: return fer_jpeg_decode(bytes, n, name, channels, im, err);
    case FER_IMG_UNKNOWN: break;
    }
    if (n == 0) return nn_fail(err, NN_ERR_FORMAT, "%s: empty file, not an image", name);
    char hex[3 * 8 + 1] = "";
    for (size_t i = 0; i < n && i < 8; i++)
        snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x ", bytes[i]);
    return nn_fail(err, NN_ERR_FORMAT,
                   "%s: not a PNG or JPEG image (starts with %s)", name, hex);
}

nn_status fer_image_read(const char *path, int channels, fer_image *im, nn_error *err)
{
    if (!path || !im) return nn_fail(err, NN_ERR_ARG, "fer_image_read: NULL path or image");
    nn_status st = check_channels(channels, path, err);
    if (st) return st;
    uint8_t *buf = NULL;
    size_t n = 0;
    if ((st = nn_read_file(path, FER_IMAGE_MAX_FILE_BYTES, "image", &buf, &n, err))) return st;
    st = fer_image_decode(buf, n, path, channels, im, err);
    free(buf);
    return st;
}
