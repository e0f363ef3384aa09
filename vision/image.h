/* image.h: the 8-bit image every vision module passes around.
 *
 * A fer_image is a plain struct the caller holds by value; its pixel buffer
 * is owned by the struct and released by fer_image_free. Pixels are stored
 * row by row, `stride` bytes apart (stride >= width * channels), channels
 * interleaved: 1 channel = grey, 3 channels = R,G,B in that order (not
 * OpenCV's BGR). A zeroed struct ({0}) is a valid empty image that
 * fer_image_free and fer_image_reserve accept.
 *
 * Nothing here is shared between threads: an image may be handed to another
 * thread, but two threads must not write to the same image at once.
 */
#ifndef FER_VISION_IMAGE_H
#define FER_VISION_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "nn/error.h"

/* Largest side accepted anywhere (decoders, y4m headers, cameras): stops a
 * corrupt header from asking for gigabytes. 16384 covers 16K video. */
#define FER_IMAGE_MAX_SIDE 16384

typedef struct {
    int width, height;
    int channels;    /* 1 (grey) or 3 (RGB) */
    size_t stride;   /* bytes from one row to the next */
    uint8_t *data;   /* height * stride bytes, owned */
    size_t capacity; /* bytes allocated at data (lets reserve reuse it) */
} fer_image;

/* An axis-aligned box in pixel coordinates: columns x .. x+w-1, rows
 * y .. y+h-1. May reach outside an image; users clamp it. */
typedef struct {
    int x, y, w, h;
} fer_box;

/* Makes im a width x height image with `channels` channels and stride
 * width*channels, reusing its buffer when it is big enough (so a loop that
 * decodes frame after frame into the same image allocates once). Pixel
 * contents are unspecified afterwards. im must be zeroed or a valid image.
 * Errors: NN_ERR_ARG (sizes <= 0 or > FER_IMAGE_MAX_SIDE, channels not 1
 * or 3), NN_ERR_NOMEM (im is left unchanged). */
nn_status fer_image_reserve(fer_image *im, int width, int height, int channels,
                            nn_error *err);

/* Releases the buffer and zeroes im. Safe on a zeroed image and on NULL. */
void fer_image_free(fer_image *im);

/* Row y (0-based) of im. */
static inline uint8_t *fer_image_row(const fer_image *im, int y)
{
    return im->data + (size_t)y * im->stride;
}

/* dst = copy of src (same size and channels, dst's buffer reused when big
 * enough). dst must not be src. */
nn_status fer_image_copy(fer_image *dst, const fer_image *src, nn_error *err);

/* dst = grey version of src. For RGB sources the luma is OpenCV's
 * cvtColor(COLOR_RGB2GRAY) for 8-bit images, bit for bit (checked on all
 * 2^24 colours against OpenCV 4.6): ITU-R BT.601 weights in 15-bit fixed
 * point, (9798 R + 19235 G + 3735 B + 16384) >> 15.
 * A grey src is copied. dst must not be src. */
nn_status fer_image_to_grey(fer_image *dst, const fer_image *src, nn_error *err);

/* dst = RGB version of src (grey replicated into R, G and B; an RGB src is
 * copied). dst must not be src. Used to annotate grey frames. */
nn_status fer_image_to_rgb(fer_image *dst, const fer_image *src, nn_error *err);

/* The luma of n interleaved R,G,B pixels, as fer_image_to_grey. */
void fer_rgb_to_grey_row(const uint8_t *rgb, uint8_t *grey, int n);

/* Returns box clipped to a width x height image; {0,0,0,0} when nothing of
 * the box lies inside (w or h <= 0 counts as nothing). */
fer_box fer_box_clamp(fer_box box, int width, int height);

#endif
