/* haar_resize.c: see haar_resize.h for the rule reproduced here. */
#include "vision/haar_resize.h"

#include <math.h>
#include <string.h>

typedef struct {
    int *ofs;          /* [n] left source index of each destination index */
    uint16_t *coef;    /* [2n] weights, sum 256 */
    int lo, hi;        /* d < lo: first source element; d >= hi: last */
} axis_map;

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

size_t haar_resize_scratch_size(int dw, int dh)
{
    return align16(sizeof(int) * (size_t)dw) + align16(sizeof(uint16_t) * 2 * (size_t)dw) +
           align16(sizeof(int) * (size_t)dh) + align16(sizeof(uint16_t) * 2 * (size_t)dh) +
           2 * align16(sizeof(uint16_t) * (size_t)dw);
}

/* interpolationLinear::getCoeffs, for every destination index. The
 * arithmetic is IEEE double, as OpenCV's softdouble; rint rounds half to
 * even like its cvRound(softdouble). */
static void map_axis(axis_map *m, int S, int D)
{
    double inv_scale = (double)D / S;
    double scale = 1.0 / inv_scale;
    m->lo = 0;
    m->hi = D;
    for (int d = 0; d < D; d++) {
        double f = scale * ((double)d + 0.5) - 0.5;
        double fi = floor(f);
        int i = (int)fi;
        m->ofs[d] = 0;
        m->coef[2 * d] = 256;
        m->coef[2 * d + 1] = 0;
        if (i >= 0 && S > 1) {
            if (i < S - 1) {
                int c1 = (int)rint((f - fi) * 256.0);
                m->ofs[d] = i;
                m->coef[2 * d + 1] = (uint16_t)c1;
                m->coef[2 * d] = (uint16_t)(256 - c1);
            } else {
                m->ofs[d] = S - 1;
                if (d < m->hi) m->hi = d;
            }
        } else if (d + 1 > m->lo) {
            m->lo = d + 1;
        }
    }
}

/* One source row -> horizontally interpolated row, 8 fractional bits. */
static void hline(const uint8_t *src, int S, const axis_map *mx, int D, uint16_t *out)
{
    int d = 0;
    int lo = mx->lo < D ? mx->lo : D;
    int hi = mx->hi > lo ? mx->hi : lo;
    for (; d < lo; d++) out[d] = (uint16_t)(src[0] << 8);
    for (; d < hi; d++) {
        const uint8_t *p = src + mx->ofs[d];
        out[d] = (uint16_t)(p[0] * mx->coef[2 * d] + p[1] * mx->coef[2 * d + 1]);
    }
    for (; d < D; d++) out[d] = (uint16_t)(src[S - 1] << 8);
}

static void vset(const uint16_t *h, uint8_t *dst, int D)
{
    for (int d = 0; d < D; d++) dst[d] = (uint8_t)((h[d] + 128) >> 8);
}

void haar_resize(const uint8_t *src, int sw, int sh, int sstride,
                 uint8_t *dst, int dw, int dh, int dstride, void *scratch)
{
    if (sw == dw && sh == dh) {
        for (int y = 0; y < dh; y++) memcpy(dst + (size_t)y * dstride, src + (size_t)y * sstride, (size_t)dw);
        return;
    }
    char *p = scratch;
    axis_map mx, my;
    mx.ofs = (int *)p;       p += align16(sizeof(int) * (size_t)dw);
    mx.coef = (uint16_t *)p; p += align16(sizeof(uint16_t) * 2 * (size_t)dw);
    my.ofs = (int *)p;       p += align16(sizeof(int) * (size_t)dh);
    my.coef = (uint16_t *)p; p += align16(sizeof(uint16_t) * 2 * (size_t)dh);
    uint16_t *line[2];
    line[0] = (uint16_t *)p; p += align16(sizeof(uint16_t) * (size_t)dw);
    line[1] = (uint16_t *)p;
    int tag[2] = { -1, -1 };   /* which source row each line buffer holds */

    map_axis(&mx, sw, dw);
    map_axis(&my, sh, dh);
    int ylo = my.lo < dh ? my.lo : dh;
    int yhi = my.hi > ylo ? my.hi : ylo;

    int dy = 0;
    if (ylo > 0) {
        hline(src, sw, &mx, dw, line[0]);
        tag[0] = 0;
        for (; dy < ylo; dy++) vset(line[0], dst + (size_t)dy * dstride, dw);
    }
    for (; dy < yhi; dy++) {
        int r = my.ofs[dy];
        const uint16_t *h[2];
        for (int k = 0; k < 2; k++) {
            int row = r + k, b;
            if (tag[0] == row) b = 0;
            else if (tag[1] == row) b = 1;
            else {
                /* Evict the buffer not holding the other row we need. */
                b = (tag[0] == r + 1 - k) ? 1 : 0;
                hline(src + (size_t)row * sstride, sw, &mx, dw, line[b]);
                tag[b] = row;
            }
            h[k] = line[b];
        }
        uint32_t c0 = my.coef[2 * dy], c1 = my.coef[2 * dy + 1];
        uint8_t *out = dst + (size_t)dy * dstride;
        for (int x = 0; x < dw; x++)
            out[x] = (uint8_t)((h[0][x] * c0 + h[1][x] * c1 + 32768u) >> 16);
    }
    if (dy < dh) {
        int b = tag[0] == sh - 1 ? 0 : tag[1] == sh - 1 ? 1 : -1;
        if (b < 0) {
            b = 0;
            hline(src + (size_t)(sh - 1) * sstride, sw, &mx, dw, line[0]);
        }
        for (; dy < dh; dy++) vset(line[b], dst + (size_t)dy * dstride, dw);
    }
}
