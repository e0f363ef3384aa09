/* y4m_write.c: YUV4MPEG2 writer (full-range JFIF Y'CbCr, 8 bits). */
#include "vision/y4m.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nn/atomic_file.h"

struct fer_y4m_writer {
    FILE *fp;
    nn_atomic_file af;
    int atomic;          /* fp is af.fp, committed on close */
    char name[256];
    int width, height;
    fer_y4m_layout layout;
    size_t cw, ch;       /* chroma plane size */
    uint8_t *planes;     /* one frame: Y', Cb, Cr */
    size_t frame_bytes;
    nn_status failed;    /* first write error */
    nn_error first_err;
};

static nn_status writer_init(fer_y4m_writer *w, int width, int height, int fps_num,
                             int fps_den, fer_y4m_layout layout, nn_error *err)
{
    static const char *const cname[] = {"420jpeg", "444", "mono"};
    w->width = width;
    w->height = height;
    w->layout = layout;
    int shift = layout == FER_Y4M_W420;
    w->cw = ((size_t)width + shift) >> shift;
    w->ch = ((size_t)height + shift) >> shift;
    w->frame_bytes = (size_t)width * height + (layout == FER_Y4M_WMONO ? 0 : 2 * w->cw * w->ch);
    if (!(w->planes = malloc(w->frame_bytes)))
        return nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", w->name);
    if (fprintf(w->fp, "YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C%s XCOLORRANGE=FULL\n", width,
                height, fps_num, fps_den, cname[layout]) < 0)
        return nn_fail(err, NN_ERR_IO, "%s: writing y4m header: %s", w->name, strerror(errno));
    return NN_OK;
}

static nn_status check_args(fer_y4m_writer **out, int width, int height, int fps_num,
                            int fps_den, fer_y4m_layout layout, nn_error *err)
{
    if (!out) return nn_fail(err, NN_ERR_ARG, "fer_y4m_writer_open: NULL out");
    *out = NULL;
    if (width <= 0 || height <= 0 || width > FER_IMAGE_MAX_SIDE || height > FER_IMAGE_MAX_SIDE)
        return nn_fail(err, NN_ERR_ARG, "y4m writer: size %dx%d outside 1..%d", width, height,
                       FER_IMAGE_MAX_SIDE);
    if (fps_num <= 0 || fps_den <= 0)
        return nn_fail(err, NN_ERR_ARG, "y4m writer: frame rate %d:%d not positive",
                       fps_num, fps_den);
    if (layout != FER_Y4M_W420 && layout != FER_Y4M_W444 && layout != FER_Y4M_WMONO)
        return nn_fail(err, NN_ERR_ARG, "y4m writer: unknown layout %d", (int)layout);
    return NN_OK;
}

nn_status fer_y4m_writer_open_file(fer_y4m_writer **out, FILE *fp, const char *name,
                                   int width, int height, int fps_num, int fps_den,
                                   fer_y4m_layout layout, nn_error *err)
{
    nn_status st = check_args(out, width, height, fps_num, fps_den, layout, err);
    if (st) return st;
    if (!fp) return nn_fail(err, NN_ERR_ARG, "fer_y4m_writer_open_file: NULL stream");
    fer_y4m_writer *w = calloc(1, sizeof *w);
    if (!w) return nn_fail(err, NN_ERR_NOMEM, "y4m writer: out of memory");
    w->fp = fp;
    snprintf(w->name, sizeof w->name, "%s", name ? name : "y4m stream");
    if ((st = writer_init(w, width, height, fps_num, fps_den, layout, err))) {
        free(w->planes);
        free(w);
        return st;
    }
    *out = w;
    return NN_OK;
}

nn_status fer_y4m_writer_open(fer_y4m_writer **out, const char *path, int width, int height,
                              int fps_num, int fps_den, fer_y4m_layout layout, nn_error *err)
{
    nn_status st = check_args(out, width, height, fps_num, fps_den, layout, err);
    if (st) return st;
    if (!path) return nn_fail(err, NN_ERR_ARG, "fer_y4m_writer_open: NULL path");
    if (strcmp(path, "-") == 0)
        return fer_y4m_writer_open_file(out, stdout, "stdout", width, height, fps_num,
                                        fps_den, layout, err);
    fer_y4m_writer *w = calloc(1, sizeof *w);
    if (!w) return nn_fail(err, NN_ERR_NOMEM, "y4m writer: out of memory");
    snprintf(w->name, sizeof w->name, "%s", path);
    if ((st = nn_atomic_open(&w->af, path, err))) {
        free(w);
        return st;
    }
    w->atomic = 1;
    w->fp = w->af.fp;
    if ((st = writer_init(w, width, height, fps_num, fps_den, layout, err))) {
        fer_y4m_writer_abort(w);
        return st;
    }
    *out = w;
    return NN_OK;
}

/* Fills the Y', Cb, Cr planes from an RGB image. */
static void planes_from_rgb(fer_y4m_writer *w, const fer_image *im)
{
    uint8_t *Y = w->planes, *U = Y + (size_t)w->width * w->height, *V = U + w->cw * w->ch;
    for (int y = 0; y < w->height; y++) {
        const uint8_t *px = fer_image_row(im, y);
        for (int x = 0; x < w->width; x++, px += 3) {
            uint8_t cb, cr;
            fer_rgb_to_ycbcr(px, &Y[(size_t)y * w->width + x], &cb, &cr);
            if (w->layout == FER_Y4M_W444) {
                U[(size_t)y * w->cw + x] = cb;
                V[(size_t)y * w->cw + x] = cr;
            }
        }
    }
    if (w->layout != FER_Y4M_W420) return;
    /* 4:2:0: rounded mean of each 2x2 block (fewer pixels at odd edges). */
    for (size_t by = 0; by < w->ch; by++) {
        for (size_t bx = 0; bx < w->cw; bx++) {
            unsigned scb = 0, scr = 0, n = 0;
            for (size_t y = 2 * by; y < 2 * by + 2 && y < (size_t)w->height; y++) {
                const uint8_t *px = fer_image_row(im, (int)y) + 3 * 2 * bx;
                for (size_t x = 2 * bx; x < 2 * bx + 2 && x < (size_t)w->width; x++, px += 3) {
                    uint8_t yy, cb, cr;
                    fer_rgb_to_ycbcr(px, &yy, &cb, &cr);
                    scb += cb;
                    scr += cr;
                    n++;
                }
            }
            U[by * w->cw + bx] = (uint8_t)((scb + n / 2) / n);
            V[by * w->cw + bx] = (uint8_t)((scr + n / 2) / n);
        }
    }
}

nn_status fer_y4m_write(fer_y4m_writer *w, const fer_image *im, const char *params,
                        nn_error *err)
{
    if (!w || !im || !im->data) return nn_fail(err, NN_ERR_ARG, "fer_y4m_write: NULL argument");
    if (w->failed) {
        if (err) *err = w->first_err;
        return w->failed;
    }
    if (im->width != w->width || im->height != w->height ||
        (im->channels != 1 && im->channels != 3))
        return nn_fail(err, NN_ERR_SHAPE, "%s: frame is %dx%dx%d, stream is %dx%d grey/RGB",
                       w->name, im->width, im->height, im->channels, w->width, w->height);
    size_t luma = (size_t)w->width * w->height;
    if (im->channels == 1) {
        for (int y = 0; y < w->height; y++)
            memcpy(w->planes + (size_t)y * w->width, fer_image_row(im, y), (size_t)w->width);
        if (w->layout != FER_Y4M_WMONO) memset(w->planes + luma, 128, 2 * w->cw * w->ch);
    } else {
        planes_from_rgb(w, im);
    }
    int bad = (params && *params) ? fprintf(w->fp, "FRAME %s\n", params) < 0
                                  : fputs("FRAME\n", w->fp) < 0;
    if (bad || fwrite(w->planes, 1, w->frame_bytes, w->fp) != w->frame_bytes) {
        w->failed = nn_fail(&w->first_err, NN_ERR_IO, "%s: writing frame: %s", w->name,
                            strerror(errno));
        if (err) *err = w->first_err;
        return w->failed;
    }
    return NN_OK;
}

nn_status fer_y4m_writer_close(fer_y4m_writer *w, nn_error *err)
{
    if (!w) return NN_OK;
    nn_status st = w->failed;
    if (st) {
        if (err) *err = w->first_err;
        fer_y4m_writer_abort(w);
        return st;
    }
    if (w->atomic) {
        st = nn_atomic_commit(&w->af, err);
    } else if (fflush(w->fp) != 0) {
        st = nn_fail(err, NN_ERR_IO, "%s: flushing: %s", w->name, strerror(errno));
    }
    free(w->planes);
    free(w);
    return st;
}

void fer_y4m_writer_abort(fer_y4m_writer *w)
{
    if (!w) return;
    if (w->atomic) nn_atomic_abort(&w->af);
    free(w->planes);
    free(w);
}
