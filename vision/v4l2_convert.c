/* v4l2_convert.c: one driver buffer (YUYV or MJPEG) -> grey and RGB. */
#include "vision/v4l2.h"

#include <stdint.h>

#include "vision/image_io.h"

static nn_status from_yuyv(const uint8_t *bytes, size_t n, const fer_v4l2_format_info *f,
                           const char *name, fer_image *grey, fer_image *rgb, nn_error *err)
{
    int w = f->width, h = f->height;
    size_t row = ((size_t)w + 1) / 2 * 4;
    size_t bpl = f->bytesperline ? f->bytesperline : row;
    if (bpl < row)
        return nn_fail(err, NN_ERR_FORMAT, "%s: YUYV bytesperline %zu < %zu for width %d",
                       name, bpl, row, w);
    /* A driver's absurd bytesperline must not wrap the size computation
     * round to one that passes. */
    if (h > 1 && bpl > (SIZE_MAX - row) / (size_t)(h - 1))
        return nn_fail(err, NN_ERR_FORMAT, "%s: YUYV bytesperline %zu is impossible for %d lines",
                       name, bpl, h);
    if (n < bpl * (size_t)(h - 1) + row)
        return nn_fail(err, NN_ERR_FORMAT, "%s: YUYV frame has %zu bytes, %dx%d needs %zu",
                       name, n, w, h, bpl * (size_t)(h - 1) + row);
    nn_status st = fer_image_reserve(grey, w, h, 1, err);
    if (!st && rgb) st = fer_image_reserve(rgb, w, h, 3, err);
    if (st) return st;
    for (int y = 0; y < h; y++) {
        const uint8_t *src = bytes + (size_t)y * bpl;
        fer_yuyv_to_grey_row(src, w, f->range, fer_image_row(grey, y));
        if (rgb) fer_yuyv_to_rgb_row(src, w, f->range, fer_image_row(rgb, y));
    }
    return NN_OK;
}

static nn_status from_mjpeg(const uint8_t *bytes, size_t n, const char *name,
                            fer_image *grey, fer_image *rgb, nn_error *err)
{
    /* Colour wanted: decode once to RGB and take cvtColor's luma from it,
     * as OpenCV's capture + cvtColor would. Grey only: let libjpeg skip the
     * chroma, which is faster. */
    if (!rgb) return fer_jpeg_decode(bytes, n, name, 1, grey, err);
    nn_status st = fer_jpeg_decode(bytes, n, name, 3, rgb, err);
    if (!st) st = fer_image_to_grey(grey, rgb, err);
    return st;
}

nn_status fer_v4l2_convert(const uint8_t *bytes, size_t n, const fer_v4l2_format_info *f,
                           const char *name, fer_image *grey, fer_image *rgb, nn_error *err)
{
    if (!name) name = "camera";
    if (!bytes || !f || !grey || grey == rgb)
        return nn_fail(err, NN_ERR_ARG, "%s: convert: bad arguments", name);
    if (f->width <= 0 || f->height <= 0)
        return nn_fail(err, NN_ERR_ARG, "%s: convert: size %dx%d", name, f->width, f->height);
    switch (f->format) {
    case FER_V4L2_YUYV: return from_yuyv(bytes, n, f, name, grey, rgb, err);
    case FER_V4L2_MJPEG: return from_mjpeg(bytes, n, name, grey, rgb, err);
    case FER_V4L2_AUTO: break;
    }
    return nn_fail(err, NN_ERR_ARG, "%s: convert: no pixel format", name);
}
