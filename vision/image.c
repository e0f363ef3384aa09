#include "vision/image.h"

#include <stdlib.h>
#include <string.h>

nn_status fer_image_reserve(fer_image *im, int width, int height, int channels,
                            nn_error *err)
{
    if (!im)
        return nn_fail(err, NN_ERR_ARG, "fer_image_reserve: NULL image");
    if (width <= 0 || height <= 0 || width > FER_IMAGE_MAX_SIDE ||
        height > FER_IMAGE_MAX_SIDE)
        return nn_fail(err, NN_ERR_ARG, "image size %dx%d outside 1..%d",
                       width, height, FER_IMAGE_MAX_SIDE);
    if (channels != 1 && channels != 3)
        return nn_fail(err, NN_ERR_ARG, "image with %d channels (want 1 or 3)",
                       channels);
    size_t stride = (size_t)width * (size_t)channels;
    size_t need = stride * (size_t)height;
    if (need > im->capacity) {
        uint8_t *p = malloc(need);
        if (!p)
            return nn_fail(err, NN_ERR_NOMEM, "image %dx%dx%d: out of memory",
                           width, height, channels);
        free(im->data);
        im->data = p;
        im->capacity = need;
    }
    im->width = width;
    im->height = height;
    im->channels = channels;
    im->stride = stride;
    return NN_OK;
}

void fer_image_free(fer_image *im)
{
    if (!im) return;
    free(im->data);
    memset(im, 0, sizeof *im);
}

static nn_status check_src(const fer_image *dst, const fer_image *src,
                           const char *fn, nn_error *err)
{
    if (!dst || !src || !src->data)
        return nn_fail(err, NN_ERR_ARG, "%s: NULL or empty image", fn);
    if (dst == src)
        return nn_fail(err, NN_ERR_ARG, "%s: dst and src are the same image", fn);
    return NN_OK;
}

nn_status fer_image_copy(fer_image *dst, const fer_image *src, nn_error *err)
{
    nn_status st = check_src(dst, src, "fer_image_copy", err);
    if (st) return st;
    if ((st = fer_image_reserve(dst, src->width, src->height, src->channels, err)))
        return st;
    size_t row = (size_t)src->width * (size_t)src->channels;
    for (int y = 0; y < src->height; y++)
        memcpy(fer_image_row(dst, y), fer_image_row(src, y), row);
    return NN_OK;
}

void fer_rgb_to_grey_row(const uint8_t *rgb, uint8_t *grey, int n)
{
    /* OpenCV 4.x RGB2Gray<uchar>: BT.601 weights scaled by 2^15, summing to
     * exactly 32768 so white stays 255; round half up. */
    for (int i = 0; i < n; i++, rgb += 3)
        grey[i] = (uint8_t)((9798u * rgb[0] + 19235u * rgb[1] + 3735u * rgb[2] +
                             16384u) >> 15);
}

nn_status fer_image_to_grey(fer_image *dst, const fer_image *src, nn_error *err)
{
    nn_status st = check_src(dst, src, "fer_image_to_grey", err);
    if (st) return st;
    if (src->channels == 1) return fer_image_copy(dst, src, err);
    if ((st = fer_image_reserve(dst, src->width, src->height, 1, err))) return st;
    for (int y = 0; y < src->height; y++)
        fer_rgb_to_grey_row(fer_image_row(src, y), fer_image_row(dst, y), src->width);
    return NN_OK;
}

nn_status fer_image_to_rgb(fer_image *dst, const fer_image *src, nn_error *err)
{
    nn_status st = check_src(dst, src, "fer_image_to_rgb", err);
    if (st) return st;
    if (src->channels == 3) return fer_image_copy(dst, src, err);
    if ((st = fer_image_reserve(dst, src->width, src->height, 3, err))) return st;
    for (int y = 0; y < src->height; y++) {
        const uint8_t *s = fer_image_row(src, y);
        uint8_t *d = fer_image_row(dst, y);
        for (int x = 0; x < src->width; x++, d += 3)
            d[0] = d[1] = d[2] = s[x];
    }
    return NN_OK;
}

fer_box fer_box_clamp(fer_box b, int width, int height)
{
    /* 64-bit ends so x + w cannot overflow for any int input. */
    long long x0 = b.x, y0 = b.y;
    long long x1 = x0 + (b.w > 0 ? b.w : 0), y1 = y0 + (b.h > 0 ? b.h : 0);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > width) x1 = width;
    if (y1 > height) y1 = height;
    if (x1 <= x0 || y1 <= y0) return (fer_box){0, 0, 0, 0};
    return (fer_box){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
}
