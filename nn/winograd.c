#include "nn/winograd.h"

#include <string.h>

#include "nn/blas.h"

/* Workspace layout per thread: room for U (16*C*F, unused when the caller caches U),
 * V (16*T*C), M (16*T*F), a zero vector (C). */
size_t nn_winograd_workspace(const nn_winograd_dims *d)
{
    return (size_t)16 * d->C * d->F + (size_t)16 * NN_WINOGRAD_TILES * (d->C + d->F) + d->C;
}

size_t nn_winograd_tiles(const nn_winograd_dims *d)
{
    return (size_t)((d->OH + 1) / 2) * ((d->OW + 1) / 2);
}

void nn_winograd_kernel_transform(const nn_winograd_dims *d, const float *g, float *u)
{
    const size_t CF = (size_t)d->C * d->F;
    for (size_t cf = 0; cf < CF; cf++) {
        float k[3][3], t[4][3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) k[i][j] = g[(size_t)(i * 3 + j) * CF + cf];
        for (int j = 0; j < 3; j++) { /* t = G k */
            t[0][j] = k[0][j];
            t[1][j] = 0.5f * (k[0][j] + k[1][j] + k[2][j]);
            t[2][j] = 0.5f * (k[0][j] - k[1][j] + k[2][j]);
            t[3][j] = k[2][j];
        }
        for (int i = 0; i < 4; i++) { /* U = t G^T */
            u[(size_t)(i * 4 + 0) * CF + cf] = t[i][0];
            u[(size_t)(i * 4 + 1) * CF + cf] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
            u[(size_t)(i * 4 + 2) * CF + cf] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
            u[(size_t)(i * 4 + 3) * CF + cf] = t[i][2];
        }
    }
}

void nn_winograd_kernel_transform_adjoint(const nn_winograd_dims *d, const float *g, float *tmp,
                                          float *u)
{
    const size_t C = (size_t)d->C, F = (size_t)d->F;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
            const float *src = g + (size_t)((2 - ky) * 3 + (2 - kx)) * C * F; /* (C, F) */
            float *dst = tmp + (size_t)(ky * 3 + kx) * F * C;                  /* (F, C) */
            for (size_t c = 0; c < C; c++)
                for (size_t f = 0; f < F; f++) dst[f * C + c] = src[c * F + f];
        }
    nn_winograd_dims a = nn_winograd_adjoint_dims(d);
    nn_winograd_kernel_transform(&a, tmp, u);
}

nn_winograd_dims nn_winograd_adjoint_dims(const nn_winograd_dims *d)
{
    return (nn_winograd_dims){.H = d->OH, .W = d->OW, .C = d->F, .F = d->C, .OH = d->H, .OW = d->W,
                              .pad_top = 2 - d->pad_top, .pad_left = 2 - d->pad_left};
}

/* V[k][c] = (B^T d B)[k] for one tile, over channel vectors d[i][j][0..C). */
static void input_transform(const float *const p[16], int C, float *restrict v, size_t kstride)
{
#pragma GCC ivdep
    for (int c = 0; c < C; c++) {
        float t[4][4];
        for (int j = 0; j < 4; j++) { /* t = B^T d */
            const float d0 = p[0 * 4 + j][c], d1 = p[1 * 4 + j][c], d2 = p[2 * 4 + j][c],
                        d3 = p[3 * 4 + j][c];
            t[0][j] = d0 - d2;
            t[1][j] = d1 + d2;
            t[2][j] = d2 - d1;
            t[3][j] = d1 - d3;
        }
        for (int i = 0; i < 4; i++) { /* V = t B */
            v[(size_t)(i * 4 + 0) * kstride + c] = t[i][0] - t[i][2];
            v[(size_t)(i * 4 + 1) * kstride + c] = t[i][1] + t[i][2];
            v[(size_t)(i * 4 + 2) * kstride + c] = t[i][2] - t[i][1];
            v[(size_t)(i * 4 + 3) * kstride + c] = t[i][1] - t[i][3];
        }
    }
}

/* out[i][j][f] = (A^T M A)[i][j] + bias[f] (then ReLU) for one tile; M's 16
 * matrices are ks apart. out[i][j] is NULL for outputs past the edge. */
static void output_transform(const float *restrict mt, size_t ks, int F, const float *restrict bias,
                             int relu, int accumulate, float *out[2][2])
{
    const int full = out[0][0] && out[0][1] && out[1][0] && out[1][1];
    if (accumulate) { /* gradients: y += A^T M A, no bias, no activation */
        for (int f = 0; f < F; f++) {
            float s[4][4], a[2][4];
            for (int k = 0; k < 16; k++) s[k / 4][k % 4] = mt[k * ks + f];
            for (int j = 0; j < 4; j++) {
                a[0][j] = s[0][j] + s[1][j] + s[2][j];
                a[1][j] = s[1][j] - s[2][j] - s[3][j];
            }
            for (int i = 0; i < 2; i++) {
                if (out[i][0]) out[i][0][f] += a[i][0] + a[i][1] + a[i][2];
                if (out[i][1]) out[i][1][f] += a[i][1] - a[i][2] - a[i][3];
            }
        }
        return;
    }
    float *restrict y00 = out[0][0], *restrict y01 = out[0][1], *restrict y10 = out[1][0],
                    *restrict y11 = out[1][1];
    if (full) { /* the common case, branch-free so it vectorises over f */
#pragma GCC ivdep
        for (int f = 0; f < F; f++) {
            float s[16];
            for (int k = 0; k < 16; k++) s[k] = mt[k * ks + f];
            float a00 = s[0] + s[4] + s[8], a01 = s[1] + s[5] + s[9], a02 = s[2] + s[6] + s[10],
                  a03 = s[3] + s[7] + s[11];
            float a10 = s[4] - s[8] - s[12], a11 = s[5] - s[9] - s[13], a12 = s[6] - s[10] - s[14],
                  a13 = s[7] - s[11] - s[15];
            const float bf = bias ? bias[f] : 0.0f;
            float v00 = a00 + a01 + a02 + bf, v01 = a01 - a02 - a03 + bf;
            float v10 = a10 + a11 + a12 + bf, v11 = a11 - a12 - a13 + bf;
            if (relu) {
                v00 = v00 > 0.0f ? v00 : 0.0f;
                v01 = v01 > 0.0f ? v01 : 0.0f;
                v10 = v10 > 0.0f ? v10 : 0.0f;
                v11 = v11 > 0.0f ? v11 : 0.0f;
            }
            y00[f] = v00;
            y01[f] = v01;
            y10[f] = v10;
            y11[f] = v11;
        }
        return;
    }
    for (int f = 0; f < F; f++) { /* an edge tile */
        float s[4][4], a[2][4];
        for (int k = 0; k < 16; k++) s[k / 4][k % 4] = mt[k * ks + f];
        for (int j = 0; j < 4; j++) {
            a[0][j] = s[0][j] + s[1][j] + s[2][j];
            a[1][j] = s[1][j] - s[2][j] - s[3][j];
        }
        for (int i = 0; i < 2; i++) {
            const float bf = bias ? bias[f] : 0.0f;
            float v0 = a[i][0] + a[i][1] + a[i][2] + bf;
            float v1 = a[i][1] - a[i][2] - a[i][3] + bf;
            if (relu) {
                v0 = v0 > 0.0f ? v0 : 0.0f;
                v1 = v1 > 0.0f ? v1 : 0.0f;
            }
            if (out[i][0]) out[i][0][f] = v0;
            if (out[i][1]) out[i][1][f] = v1;
        }
    }
}

void nn_winograd_forward_tiles(const nn_winograd_dims *d, const float *x, const float *u,
                               const float *bias, int relu, int accumulate, size_t t0, size_t t1,
                               float *ws, float *y)
{
    const int C = d->C, F = d->F, T = NN_WINOGRAD_TILES;
    const int tiles_x = (d->OW + 1) / 2;
    const size_t tiles = nn_winograd_tiles(d), img = (size_t)d->H * d->W * C;
    float *v = ws + (size_t)16 * C * F, *m = v + (size_t)16 * T * C, *zero = m + (size_t)16 * T * F;
    memset(zero, 0, (size_t)C * sizeof(float));

    for (size_t b0 = t0; b0 < t1; b0 += T) {
        const int nt = (int)(t1 - b0 < (size_t)T ? t1 - b0 : (size_t)T);
        for (int t = 0; t < nt; t++) {
            const size_t tile = b0 + t, b = tile / tiles, r = tile % tiles;
            const int iy0 = (int)(r / tiles_x) * 2 - d->pad_top, ix0 = (int)(r % tiles_x) * 2 - d->pad_left;
            const float *p[16];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    const int iy = iy0 + i, ix = ix0 + j;
                    p[i * 4 + j] = (iy < 0 || iy >= d->H || ix < 0 || ix >= d->W)
                                       ? zero
                                       : x + b * img + ((size_t)iy * d->W + ix) * C;
                }
            input_transform(p, C, v + (size_t)t * C, (size_t)T * C);
        }
        for (int k = 0; k < 16; k++)
            nn_gemm(0, 0, nt, F, C, 1.0f, v + (size_t)k * T * C, C, u + (size_t)k * C * F, F, 0.0f,
                    m + (size_t)k * T * F, F);
        for (int t = 0; t < nt; t++) { /* Y = A^T M A, + bias, ReLU */
            const size_t tile = b0 + t, b = tile / tiles, r = tile % tiles;
            const int oy = (int)(r / tiles_x) * 2, ox = (int)(r % tiles_x) * 2;
            float *out[2][2];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                    out[i][j] = (oy + i < d->OH && ox + j < d->OW)
                                    ? y + ((b * d->OH + oy + i) * d->OW + ox + j) * F
                                    : NULL;
            output_transform(m + (size_t)t * F, (size_t)T * F, F, bias, relu, accumulate, out);
        }
    }
}
