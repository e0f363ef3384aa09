#include "nn/winograd.h"

#include <string.h>

#include "nn/blas.h"

/* Floats between V's (or M's) 16 matrices of T tiles x n channels. One cache
 * line more than T * n: with the paper's 64 channels T * n floats is 24 KiB, a
 * multiple of 4 KiB, and the transforms' 16 streams would all fall into one
 * L1 set. */
static size_t v_stride(int n) { return (size_t)NN_WINOGRAD_TILES * n + 16; }

/* Workspace layout per thread: room for U (16*C*F, unused when the caller caches U),
 * V (16 matrices v_stride(C) apart), M (16, v_stride(F) apart), one border
 * tile's input (16*C) and output (4*F). */
size_t nn_winograd_workspace(const nn_winograd_dims *d)
{
    return (size_t)16 * d->C * d->F + 16 * (v_stride(d->C) + v_stride(d->F)) + (size_t)16 * d->C +
           (size_t)4 * d->F;
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

/* The transforms run over channel vectors. GCC's vector extension gives the
 * widest registers the target has (-march=native: AVX-512) where its
 * auto-vectoriser would stop at 256 bits. vec is a value (naturally aligned,
 * so the compiler may spill it with aligned moves); memory is read and
 * written only through vec_mem, whose aligned(4) allows any float address. */
#if defined(__AVX512F__)
#define VLEN 16
#elif defined(__AVX__)
#define VLEN 8
#else
#define VLEN 4
#endif
typedef float vec __attribute__((vector_size(VLEN * sizeof(float))));
typedef float vec_mem __attribute__((vector_size(VLEN * sizeof(float)), aligned(4)));
typedef int ivec __attribute__((vector_size(VLEN * sizeof(int))));

/* n of VLEN lanes (the last chunk of a channel count that is no multiple of
 * VLEN); the others read as 0 and are not written. */
static inline vec load_lanes(const float *p, int n)
{
    if (n == VLEN) return *(const vec_mem *)p;
    float part[VLEN] = {0};
    memcpy(part, p, (size_t)n * sizeof(float));
    return *(const vec_mem *)part;
}

static inline void store_lanes(float *p, vec v, int n)
{
    if (n == VLEN) {
        *(vec_mem *)p = v;
        return;
    }
    float part[VLEN];
    *(vec_mem *)part = v;
    memcpy(p, part, (size_t)n * sizeof(float));
}

static inline vec relu_vec(vec v)
{
    const vec zero = {0};
    return (vec)((ivec)v & (v > zero));
}

/* One chunk of n <= VLEN channels of one tile: d points at channel c of the
 * tile's top-left pixel, v at V[0][c]. Inlined with n = VLEN into the main
 * loop, so the full chunks compile to plain vector loads and stores. Each
 * address is computed from d or v afresh rather than kept in 32 running
 * pointers, which would not fit the registers. */
static inline __attribute__((always_inline)) void
input_chunk(const float *restrict d, size_t row_stride, size_t C, float *restrict v, size_t ks, int n)
{
    vec t[4][4];
    for (int j = 0; j < 4; j++) { /* t = B^T d */
        const float *col = d + (size_t)j * C;
        const vec d0 = load_lanes(col, n), d1 = load_lanes(col + row_stride, n),
                  d2 = load_lanes(col + 2 * row_stride, n), d3 = load_lanes(col + 3 * row_stride, n);
        t[0][j] = d0 - d2;
        t[1][j] = d1 + d2;
        t[2][j] = d2 - d1;
        t[3][j] = d1 - d3;
    }
    for (int i = 0; i < 4; i++) { /* V = t B */
        float *vi = v + (size_t)(i * 4) * ks;
        store_lanes(vi, t[i][0] - t[i][2], n);
        store_lanes(vi + ks, t[i][1] + t[i][2], n);
        store_lanes(vi + 2 * ks, t[i][2] - t[i][1], n);
        store_lanes(vi + 3 * ks, t[i][1] - t[i][3], n);
    }
}

/* V[k][c] = (B^T d B)[k] for one tile whose 4x4 input d[i][j][0..C) starts
 * at d, rows row_stride floats apart, pixels C apart; V's 16 rows are ks apart. */
static void input_transform(const float *restrict d, size_t row_stride, int C, float *restrict v,
                            size_t ks)
{
    int c = 0;
    for (; c + VLEN <= C; c += VLEN) input_chunk(d + c, row_stride, (size_t)C, v + c, ks, VLEN);
    if (c < C) input_chunk(d + c, row_stride, (size_t)C, v + c, ks, C - c);
}

/* One chunk of n <= VLEN channels of one output tile (as input_chunk):
 * m at M[0][f], y at y[0][0][f], bias at bias[f] or NULL. */
static inline __attribute__((always_inline)) void
output_chunk(const float *restrict m, size_t ks, size_t F, const float *restrict bias, int relu,
             int accumulate, float *restrict y, size_t row_stride, int n)
{
    vec s[16];
    for (int k = 0; k < 16; k++) s[k] = load_lanes(m + k * ks, n);
    vec a0[4], a1[4];
    for (int j = 0; j < 4; j++) { /* A^T M */
        a0[j] = s[j] + s[4 + j] + s[8 + j];
        a1[j] = s[4 + j] - s[8 + j] - s[12 + j];
    }
    vec out[4] = {a0[0] + a0[1] + a0[2], a0[1] - a0[2] - a0[3], /* (A^T M) A */
                  a1[0] + a1[1] + a1[2], a1[1] - a1[2] - a1[3]};
    float *dst[4] = {y, y + F, y + row_stride, y + row_stride + F};
    if (accumulate) {
        for (int q = 0; q < 4; q++) store_lanes(dst[q], load_lanes(dst[q], n) + out[q], n);
        return;
    }
    const vec b = bias ? load_lanes(bias, n) : (vec){0};
    for (int q = 0; q < 4; q++) store_lanes(dst[q], relu ? relu_vec(out[q] + b) : out[q] + b, n);
}

/* One 2x2 output tile from its M (16 matrices ks floats apart):
 * y = A^T M A + bias (then ReLU), or with accumulate y += A^T M A.
 * y[i][j][0..F) at y + i * row_stride + j * F. */
static void output_transform(const float *restrict m, size_t ks, int F, const float *restrict bias,
                             int relu, int accumulate, float *restrict y, size_t row_stride)
{
    int f = 0;
    for (; f + VLEN <= F; f += VLEN)
        output_chunk(m + f, ks, (size_t)F, bias ? bias + f : NULL, relu, accumulate, y + f,
                     row_stride, VLEN);
    if (f < F)
        output_chunk(m + f, ks, (size_t)F, bias ? bias + f : NULL, relu, accumulate, y + f,
                     row_stride, F - f);
}

void nn_winograd_forward_tiles(const nn_winograd_dims *d, const float *x, const float *u,
                               const float *bias, int relu, int accumulate, size_t t0, size_t t1,
                               float *ws, float *y)
{
    const int C = d->C, F = d->F, T = NN_WINOGRAD_TILES;
    const int tiles_x = (d->OW + 1) / 2;
    const size_t tiles = nn_winograd_tiles(d), img = (size_t)d->H * d->W * C;
    const size_t vs = v_stride(C), ms = v_stride(F);
    float *v = ws + (size_t)16 * C * F, *m = v + 16 * vs;
    float *edge_in = m + 16 * ms, *edge_out = edge_in + (size_t)16 * C;

    for (size_t b0 = t0; b0 < t1; b0 += T) {
        const int nt = (int)(t1 - b0 < (size_t)T ? t1 - b0 : (size_t)T);
        for (int t = 0; t < nt; t++) {
            const size_t tile = b0 + t, b = tile / tiles, r = tile % tiles;
            const int iy0 = (int)(r / tiles_x) * 2 - d->pad_top, ix0 = (int)(r % tiles_x) * 2 - d->pad_left;
            const float *xb = x + b * img;
            if (iy0 >= 0 && ix0 >= 0 && iy0 + 4 <= d->H && ix0 + 4 <= d->W) {
                input_transform(xb + ((size_t)iy0 * d->W + ix0) * C, (size_t)d->W * C, C,
                                v + (size_t)t * C, vs);
                continue;
            }
            /* A tile over the border (padding, or the last row/column of an
             * odd-sized output): copy it with zeros outside the image. */
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    const int iy = iy0 + i, ix = ix0 + j;
                    float *dst = edge_in + (size_t)(i * 4 + j) * C;
                    if (iy < 0 || iy >= d->H || ix < 0 || ix >= d->W)
                        memset(dst, 0, (size_t)C * sizeof(float));
                    else
                        memcpy(dst, xb + ((size_t)iy * d->W + ix) * C, (size_t)C * sizeof(float));
                }
            input_transform(edge_in, (size_t)4 * C, C, v + (size_t)t * C, vs);
        }
        for (int k = 0; k < 16; k++)
            nn_gemm(0, 0, nt, F, C, 1.0f, v + k * vs, C, u + (size_t)k * C * F, F, 0.0f, m + k * ms, F);
        for (int t = 0; t < nt; t++) { /* Y = A^T M A, + bias, ReLU */
            const size_t tile = b0 + t, b = tile / tiles, r = tile % tiles;
            const int oy = (int)(r / tiles_x) * 2, ox = (int)(r % tiles_x) * 2;
            float *yt = y + ((b * d->OH + oy) * d->OW + ox) * F;
            if (oy + 2 <= d->OH && ox + 2 <= d->OW) {
                output_transform(m + (size_t)t * F, ms, F, bias, relu, accumulate, yt,
                                 (size_t)d->OW * F);
                continue;
            }
            /* Past the bottom or right edge: the full tile into edge_out, then
             * the outputs that exist. */
            output_transform(m + (size_t)t * F, ms, F, accumulate ? NULL : bias,
                             accumulate ? 0 : relu, 0, edge_out,
                             (size_t)2 * F);
            for (int i = 0; i < 2 && oy + i < d->OH; i++)
                for (int j = 0; j < 2 && ox + j < d->OW; j++) {
                    float *dst = yt + ((size_t)i * d->OW + j) * F;
                    const float *src = edge_out + (size_t)(i * 2 + j) * F;
                    if (accumulate)
                        for (int f = 0; f < F; f++) dst[f] += src[f];
                    else
                        memcpy(dst, src, (size_t)F * sizeof(float));
                }
        }
    }
}
