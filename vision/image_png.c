/* image_png.c: PNG decoding from memory and PNG writing, with libpng.
 *
 * libpng reports errors by longjmp-ing out of its calls; the handlers below
 * copy its message into a context struct first so the caller gets
 * "<file>: PNG: <libpng's reason>". Everything that must survive the
 * longjmp lives in that struct or is volatile. */
#include "vision/image_io.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/atomic_file.h"

typedef struct {
    const uint8_t *data; /* reading: the whole file */
    size_t size, pos;
    nn_atomic_file *af;  /* writing */
    char msg[200];       /* libpng's error text */
} png_ctx;

static void on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunks, sRGB profile quirks) do not stop a read. */
static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void read_mem(png_structp png, png_bytep out, size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->size - c->pos) png_error(png, "unexpected end of file (truncated)");
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

/* RGB rows -> grey rows in the same buffer. Safe front to back: grey byte
 * y*W+x never lies after RGB byte y*3W+3x, which has already been read. */
static void rgb_to_grey_inplace(fer_image *im)
{
    for (int y = 0; y < im->height; y++)
        fer_rgb_to_grey_row(im->data + (size_t)y * im->stride,
                            im->data + (size_t)y * im->width, im->width);
    im->channels = 1;
    im->stride = (size_t)im->width;
}

nn_status fer_png_decode(const uint8_t *bytes, size_t n, const char *name,
                         int channels, fer_image *im, nn_error *err)
{
    png_ctx ctx = {.data = bytes, .size = n};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!png) return nn_fail(err, NN_ERR_NOMEM, "%s: PNG: out of memory", name);
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return nn_fail(err, NN_ERR_NOMEM, "%s: PNG: out of memory", name);
    }
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return nn_fail(err, NN_ERR_FORMAT, "%s: PNG: %s", name, ctx.msg);
    }
    png_set_read_fn(png, &ctx, read_mem);
    png_set_user_limits(png, FER_IMAGE_MAX_SIDE, FER_IMAGE_MAX_SIDE);
    png_read_info(png, info);

    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_scale_16(png); /* rounds; strip_16 would truncate */
    /* A palette image with a tRNS chunk expands to RGBA, and a grey or RGB
     * one with tRNS may too: strip_alpha drops every kind of alpha. */
    if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_strip_alpha(png);
    int stored = (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) ? 1 : 3;
    if (stored == 1 && channels == 3) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int decoded = (int)png_get_channels(png, info);

    nn_error e2;
    if (fer_image_reserve(im, w, h, decoded, &e2)) {
        png_destroy_read_struct(&png, &info, NULL);
        return nn_fail(err, e2.code, "%s: PNG: %s", name, e2.msg);
    }
    if (png_get_rowbytes(png, info) != im->stride) /* would mean a transform bug */
        png_error(png, "unexpected row size after transforms");
    rows = malloc((size_t)h * sizeof *rows);
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < h; y++) rows[y] = fer_image_row(im, y);
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    if (channels == 1 && decoded == 3) rgb_to_grey_inplace(im);
    return NN_OK;
}

static void write_af(png_structp png, png_bytep data, size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    nn_error e;
    if (nn_atomic_write(c->af, data, n, &e)) png_error(png, e.msg);
}

static void flush_af(png_structp png) { (void)png; }

nn_status fer_image_write_png(const char *path, const fer_image *im, nn_error *err)
{
    if (!path || !im || !im->data)
        return nn_fail(err, NN_ERR_ARG, "fer_image_write_png: NULL path or empty image");
    if (im->channels != 1 && im->channels != 3)
        return nn_fail(err, NN_ERR_ARG, "%s: cannot write a %d-channel image as PNG",
                       path, im->channels);
    nn_atomic_file af;
    nn_status st = nn_atomic_open(&af, path, err);
    if (st) return st;
    png_ctx ctx = {.af = &af};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        nn_atomic_abort(&af);
        return nn_fail(err, NN_ERR_NOMEM, "%s: PNG: out of memory", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        nn_atomic_abort(&af);
        return nn_fail(err, NN_ERR_IO, "%s: writing PNG: %s", path, ctx.msg);
    }
    png_set_write_fn(png, &ctx, write_af, flush_af);
    png_set_IHDR(png, info, (png_uint_32)im->width, (png_uint_32)im->height, 8,
                 im->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < im->height; y++) png_write_row(png, fer_image_row(im, y));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return nn_atomic_commit(&af, err);
}
