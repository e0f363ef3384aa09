/* face_crop.c: separable resize (area average / bilinear) and face crops.
 *
 * Both filters are separable, so each axis gets a table of taps (source
 * index, weight) per output index, and the picture is filtered along x into
 * a float scratch, then along y. */
#include "vision/face_crop.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    int taps;    /* slots per output index */
    int *idx;    /* [n * taps] source indices */
    float *w;    /* [n * taps] weights; unused slots have weight 0 */
} axis_tab;

/* Box filter, OpenCV's computeResizeAreaTab: output i covers source
 * interval [i*s, (i+1)*s), s = src/dst > 1; each source pixel weighs its
 * overlap with that interval, divided by the interval's length. */
static void area_tab(axis_tab *t, int src, int dst)
{
    double s = (double)src / dst;
    for (int i = 0; i < dst; i++) {
        double a = i * s, b = a + s;
        if (b > src) b = src;
        int k = 0;
        int *ix = t->idx + i * t->taps;
        float *wt = t->w + i * t->taps;
        for (int j = (int)floor(a); j < src && j < b && k < t->taps; j++) {
            double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
            if (hi - lo <= 1e-9) continue;
            ix[k] = j;
            wt[k++] = (float)((hi - lo) / (b - a));
        }
        for (; k < t->taps; k++) ix[k] = 0, wt[k] = 0;
    }
}

/* Bilinear, OpenCV's INTER_LINEAR: pixel centres aligned (half-pixel
 * offset), edge pixels replicated. */
static void linear_tab(axis_tab *t, int src, int dst)
{
    double s = (double)src / dst;
    for (int i = 0; i < dst; i++) {
        double f = (i + 0.5) * s - 0.5;
        int j = (int)floor(f);
        double frac = f - j;
        if (j < 0) j = 0, frac = 0;
        if (j >= src - 1) j = src - 1, frac = 0;
        int *ix = t->idx + i * 2;
        float *wt = t->w + i * 2;
        ix[0] = j;
        wt[0] = (float)(1 - frac);
        ix[1] = j + 1 < src ? j + 1 : j;
        wt[1] = (float)frac;
    }
}

static nn_status make_tab(axis_tab *t, int src, int dst, fer_resize_mode mode, nn_error *err)
{
    int area = mode == FER_RESIZE_AREA && src > dst;
    /* An output interval of length s touches at most ceil(s) + 1 pixels. */
    t->taps = area ? (int)ceil((double)src / dst) + 1 : 2;
    size_t n = (size_t)dst * (size_t)t->taps;
    t->idx = malloc(n * sizeof *t->idx);
    t->w = malloc(n * sizeof *t->w);
    if (!t->idx || !t->w) {
        free(t->idx);
        free(t->w);
        return nn_fail(err, NN_ERR_NOMEM, "resize: out of memory");
    }
    if (area) area_tab(t, src, dst);
    else linear_tab(t, src, dst);
    return NN_OK;
}

nn_status fer_resize_grey(const uint8_t *src, size_t stride, int sw, int sh, uint8_t *dst,
                          int dw, int dh, fer_resize_mode mode, nn_error *err)
{
    if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || stride < (size_t)sw)
        return nn_fail(err, NN_ERR_ARG, "resize: bad arguments (%dx%d -> %dx%d)", sw, sh, dw, dh);
    if (mode != FER_RESIZE_AREA && mode != FER_RESIZE_LINEAR)
        return nn_fail(err, NN_ERR_ARG, "resize: unknown mode %d", (int)mode);
    axis_tab tx, ty;
    nn_status st = make_tab(&tx, sw, dw, mode, err);
    if (st) return st;
    if ((st = make_tab(&ty, sh, dh, mode, err))) {
        free(tx.idx);
        free(tx.w);
        return st;
    }
    float *rows = malloc((size_t)sh * (size_t)dw * sizeof *rows); /* x-filtered */
    if (!rows) {
        st = nn_fail(err, NN_ERR_NOMEM, "resize: out of memory");
        goto done;
    }
    for (int y = 0; y < sh; y++) {
        const uint8_t *s = src + (size_t)y * stride;
        float *r = rows + (size_t)y * dw;
        for (int x = 0; x < dw; x++) {
            float acc = 0;
            for (int k = 0; k < tx.taps; k++)
                acc += tx.w[x * tx.taps + k] * s[tx.idx[x * tx.taps + k]];
            r[x] = acc;
        }
    }
    for (int y = 0; y < dh; y++) {
        for (int x = 0; x < dw; x++) {
            float acc = 0;
            for (int k = 0; k < ty.taps; k++)
                acc += ty.w[y * ty.taps + k] * rows[(size_t)ty.idx[y * ty.taps + k] * dw + x];
            int v = (int)lrintf(acc);
            dst[(size_t)y * dw + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
done:
    free(rows);
    free(tx.idx);
    free(tx.w);
    free(ty.idx);
    free(ty.w);
    return st;
}

nn_status fer_face_crop(const fer_image *grey, fer_box box, int out_w, int out_h,
                        fer_resize_mode mode, uint8_t *out, nn_error *err)
{
    if (!grey || !grey->data || !out)
        return nn_fail(err, NN_ERR_ARG, "face crop: NULL image or output");
    if (grey->channels != 1)
        return nn_fail(err, NN_ERR_ARG, "face crop: image has %d channels, want grey",
                       grey->channels);
    fer_box b = fer_box_clamp(box, grey->width, grey->height);
    if (b.w <= 0 || b.h <= 0)
        return nn_fail(err, NN_ERR_ARG, "face crop: box (%d,%d %dx%d) lies outside the "
                       "%dx%d image", box.x, box.y, box.w, box.h, grey->width, grey->height);
    return fer_resize_grey(fer_image_row(grey, b.y) + b.x, grey->stride, b.w, b.h, out,
                           out_w, out_h, mode, err);
}
