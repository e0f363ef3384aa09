/* haar_integral.c: see haar_integral.h. */
#include "vision/haar_integral.h"

#include <string.h>

void haar_integral(const uint8_t *img, int w, int h, int istride,
                   uint32_t *sum, uint32_t *sqsum, int stride)
{
    memset(sum, 0, sizeof *sum * (size_t)(w + 1));
    if (sqsum) memset(sqsum, 0, sizeof *sqsum * (size_t)(w + 1));
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img + (size_t)y * istride;
        const uint32_t *sp = sum + (size_t)y * stride;
        uint32_t *sr = sum + (size_t)(y + 1) * stride;
        uint32_t s = 0;
        sr[0] = 0;
        if (sqsum) {
            const uint32_t *qp = sqsum + (size_t)y * stride;
            uint32_t *qr = sqsum + (size_t)(y + 1) * stride;
            uint32_t q = 0;
            qr[0] = 0;
            for (int x = 0; x < w; x++) {
                uint32_t v = row[x];
                s += v;
                q += v * v;
                sr[x + 1] = sp[x + 1] + s;
                qr[x + 1] = qp[x + 1] + q;
            }
        } else {
            for (int x = 0; x < w; x++) {
                s += row[x];
                sr[x + 1] = sp[x + 1] + s;
            }
        }
    }
}

/* The tilted sum is split along its two diagonal edges. With P_y(k) the sum
 * of row y's first k pixels (k clamped to [0, w]):
 *   A_Y(c) = sum_{y<Y} P_y(c - y + 1)   pixels above row Y with x + y <= c
 *   B_Y(c) = sum_{y<Y} P_y(c + y + 1)   pixels above row Y with x - y <= c
 * and the triangle of (X, Y) is {x + y <= X+Y-2} minus {x - y <= X-Y-1}
 * (the second set lies inside the first for y < Y), so
 *   tilted(X, Y) = A_Y(X + Y - 2) - B_Y(X - Y - 1).
 * A needs c in [-1, w+h-2], B needs c in [-h-1, w-2]. */
size_t haar_integral_tilted_scratch(int w, int h)
{
    return (size_t)(w + 1) + 2 * (size_t)(w + h + 4);
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void haar_integral_tilted(const uint8_t *img, int w, int h, int istride,
                          uint32_t *tilted, int stride, uint32_t *scratch)
{
    int n = w + h + 4;
    uint32_t *P = scratch;
    uint32_t *A = P + (w + 1);     /* A[i] holds A(c = i - 2) */
    uint32_t *B = A + n;           /* B[i] holds B(c = i - h - 2) */
    memset(A, 0, sizeof *A * 2 * (size_t)n);
    memset(tilted, 0, sizeof *tilted * (size_t)(w + 1));
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img + (size_t)y * istride;
        uint32_t s = 0;
        P[0] = 0;
        for (int x = 0; x < w; x++) P[x + 1] = s += row[x];
        for (int i = 0; i < n; i++) {
            A[i] += P[clampi(i - 2 - y + 1, 0, w)];
            B[i] += P[clampi(i - h - 2 + y + 1, 0, w)];
        }
        int Y = y + 1;
        uint32_t *tr = tilted + (size_t)Y * stride;
        for (int X = 0; X <= w; X++)
            tr[X] = A[X + Y - 2 + 2] - B[X - Y - 1 + h + 2];
    }
}
