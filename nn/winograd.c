#include "nn/winograd.h"

#include <string.h>

#include "nn/blas.h"

static int points(const nn_winograd_dims *d) { return (d->m + 2) * (d->m + 2); }

static size_t tiles_for(int OH, int OW, int m) { return (size_t)((OH + m - 1) / m) * ((OW + m - 1) / m); }

nn_winograd_dims nn_winograd_make_dims(int H, int W, int C, int F, int OH, int OW, int pad_top,
                                       int pad_left, int max_m)
{
    const int m = max_m >= 4 && tiles_for(OH, OW, 4) * 36 < tiles_for(OH, OW, 2) * 16 ? 4 : 2;
    return (nn_winograd_dims){.H = H, .W = W, .C = C, .F = F, .OH = OH, .OW = OW,
                              .pad_top = pad_top, .pad_left = pad_left, .m = m, .max_m = max_m};
}

size_t nn_winograd_block_tiles(const nn_winograd_dims *d) { return d->m == 4 ? 48 : 96; }

size_t nn_winograd_tiles(const nn_winograd_dims *d) { return tiles_for(d->OH, d->OW, d->m); }

/* Floats between V's (or M's) matrices of T tiles x n channels. One cache
 * line more than T * n: with the paper's 64 channels T * n floats is a
 * multiple of 4 KiB, and the transforms' streams would all fall into one L1
 * set. */
static size_t v_stride(const nn_winograd_dims *d, int n) { return nn_winograd_block_tiles(d) * n + 16; }

/* Workspace layout per thread: V (P = (m+2)^2 matrices v_stride(C) apart),
 * M (P, v_stride(F) apart), one border tile's input (P*C) and output (m*m*F). */
size_t nn_winograd_workspace(const nn_winograd_dims *d)
{
    const size_t P = (size_t)points(d);
    return P * (v_stride(d, d->C) + v_stride(d, d->F)) + P * d->C + (size_t)d->m * d->m * d->F;
}

/* G, (m+2) x 3, for m = 2 and m = 4 (Lavin & Gray's interpolation points
 * 0, 1, -1 and 0, 1, -1, 2, -2, with the point at infinity last). */
static const float G2[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
static const float G4[6][3] = {{1.0f / 4, 0, 0},
                               {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                               {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                               {1.0f / 24, 1.0f / 12, 1.0f / 6},
                               {1.0f / 24, -1.0f / 12, 1.0f / 6},
                               {0, 0, 1}};

void nn_winograd_kernel_transform(const nn_winograd_dims *d, const float *g, float *u)
{
    const size_t CF = (size_t)d->C * d->F;
    const int a = d->m + 2;
    const float(*G)[3] = d->m == 4 ? G4 : G2;
    for (size_t cf = 0; cf < CF; cf++) {
        float k[3][3], t[6][3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) k[i][j] = g[(size_t)(i * 3 + j) * CF + cf];
        for (int i = 0; i < a; i++) /* t = G k */
            for (int j = 0; j < 3; j++) t[i][j] = G[i][0] * k[0][j] + G[i][1] * k[1][j] + G[i][2] * k[2][j];
        for (int i = 0; i < a; i++) /* U = t G^T */
            for (int j = 0; j < a; j++)
                u[(size_t)(i * a + j) * CF + cf] = t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
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
    nn_winograd_dims adj = nn_winograd_adjoint_dims(d);
    nn_winograd_kernel_transform(&adj, tmp, u);
}

nn_winograd_dims nn_winograd_adjoint_dims(const nn_winograd_dims *d)
{
    return nn_winograd_make_dims(d->OH, d->OW, d->F, d->C, d->H, d->W, 2 - d->pad_top,
                                 2 - d->pad_left, d->max_m);
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

/* One chunk of n <= VLEN channels of one F(2x2) tile: d points at channel c
 * of the tile's top-left pixel, v at V[0][c]. Inlined with n = VLEN into the
 * main loop, so the full chunks compile to plain vector loads and stores.
 * Each address is computed from d or v afresh rather than kept in 32 running
 * pointers, which would not fit the registers. */
static inline __attribute__((always_inline)) void
input_chunk2(const float *restrict d, size_t row_stride, size_t C, float *restrict v, size_t ks, int n)
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

/* B^T x for F(4x4): x = six vectors, the rows of B^T are
 * [4 0 -5 0 1 0], [0 -4 -4 1 1 0], [0 4 -4 -1 1 0], [0 -2 -1 2 1 0],
 * [0 2 -1 -2 1 0], [0 4 0 -5 0 1]. */
static inline __attribute__((always_inline)) void bt6(const vec x[6], vec y[6])
{
    const vec a = x[4] - 4.0f * x[2], b = x[3] - 4.0f * x[1];
    const vec c = x[4] - x[2], e = 2.0f * (x[3] - x[1]);
    y[0] = 4.0f * x[0] - 5.0f * x[2] + x[4];
    y[1] = a + b;
    y[2] = a - b;
    y[3] = c + e;
    y[4] = c - e;
    y[5] = 4.0f * x[1] - 5.0f * x[3] + x[5];
}

/* The same for one chunk of an F(4x4) tile (6x6 inputs, 36 outputs). */
static inline __attribute__((always_inline)) void
input_chunk4(const float *restrict d, size_t row_stride, size_t C, float *restrict v, size_t ks, int n)
{
    vec t[6][6]; /* t[i][j] = (B^T d)[i][j] */
    for (int j = 0; j < 6; j++) {
        vec x[6], y[6];
        for (int i = 0; i < 6; i++) x[i] = load_lanes(d + i * row_stride + (size_t)j * C, n);
        bt6(x, y);
        for (int i = 0; i < 6; i++) t[i][j] = y[i];
    }
    for (int i = 0; i < 6; i++) { /* V = t B: B^T applied to each row of t */
        vec y[6];
        bt6(t[i], y);
        for (int j = 0; j < 6; j++) store_lanes(v + (size_t)(i * 6 + j) * ks, y[j], n);
    }
}

static inline __attribute__((always_inline)) void
input_chunk(int m, const float *restrict d, size_t row_stride, size_t C, float *restrict v, size_t ks,
            int n)
{
    if (m == 4) input_chunk4(d, row_stride, C, v, ks, n);
    else input_chunk2(d, row_stride, C, v, ks, n);
}

/* V[k][c] = (B^T d B)[k] for one tile whose input d[i][j][0..C) starts at d,
 * rows row_stride floats apart, pixels C apart; V's rows are ks apart. */
static void input_transform(int m, const float *restrict d, size_t row_stride, int C,
                            float *restrict v, size_t ks)
{
    int c = 0;
    for (; c + VLEN <= C; c += VLEN) input_chunk(m, d + c, row_stride, (size_t)C, v + c, ks, VLEN);
    if (c < C) input_chunk(m, d + c, row_stride, (size_t)C, v + c, ks, C - c);
}

/* m x m output vectors of one chunk: bias (then ReLU) and store, or add. */
static inline __attribute__((always_inline)) void
store_tile(int m, const vec *out, float *restrict y, size_t row_stride, size_t F,
           const float *restrict bias, int relu, int accumulate, int n)
{
    if (accumulate) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                float *dst = y + i * row_stride + (size_t)j * F;
                store_lanes(dst, load_lanes(dst, n) + out[i * m + j], n);
            }
        return;
    }
    const vec b = bias ? load_lanes(bias, n) : (vec){0};
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            const vec o = out[i * m + j] + b;
            store_lanes(y + i * row_stride + (size_t)j * F, relu ? relu_vec(o) : o, n);
        }
}

/* One chunk of n <= VLEN channels of one F(2x2) output tile (as
 * input_chunk2): m at M[0][f], y at y[0][0][f], bias at bias[f] or NULL. */
static inline __attribute__((always_inline)) void
output_chunk2(const float *restrict m, size_t ks, size_t F, const float *restrict bias, int relu,
              int accumulate, float *restrict y, size_t row_stride, int n)
{
    vec s[16];
    for (int k = 0; k < 16; k++) s[k] = load_lanes(m + k * ks, n);
    vec a0[4], a1[4];
    for (int j = 0; j < 4; j++) { /* A^T M */
        a0[j] = s[j] + s[4 + j] + s[8 + j];
        a1[j] = s[4 + j] - s[8 + j] - s[12 + j];
    }
    const vec out[4] = {a0[0] + a0[1] + a0[2], a0[1] - a0[2] - a0[3], /* (A^T M) A */
                        a1[0] + a1[1] + a1[2], a1[1] - a1[2] - a1[3]};
    store_tile(2, out, y, row_stride, F, bias, relu, accumulate, n);
}

/* A^T x for F(4x4): the rows of A^T are [1 1 1 1 1 0], [0 1 -1 2 -2 0],
 * [0 1 1 4 4 0], [0 1 -1 8 -8 1]. */
static inline __attribute__((always_inline)) void at6(const vec x[6], vec y[4])
{
    const vec p12 = x[1] + x[2], m12 = x[1] - x[2], p34 = x[3] + x[4], m34 = x[3] - x[4];
    y[0] = x[0] + p12 + p34;
    y[1] = m12 + 2.0f * m34;
    y[2] = p12 + 4.0f * p34;
    y[3] = m12 + 8.0f * m34 + x[5];
}

/* The same for one chunk of an F(4x4) output tile (36 inputs, 4x4 outputs). */
static inline __attribute__((always_inline)) void
output_chunk4(const float *restrict m, size_t ks, size_t F, const float *restrict bias, int relu,
              int accumulate, float *restrict y, size_t row_stride, int n)
{
    vec t[4][6]; /* t = A^T M */
    for (int j = 0; j < 6; j++) {
        vec x[6], r[4];
        for (int i = 0; i < 6; i++) x[i] = load_lanes(m + (size_t)(i * 6 + j) * ks, n);
        at6(x, r);
        for (int i = 0; i < 4; i++) t[i][j] = r[i];
    }
    vec out[16];
    for (int i = 0; i < 4; i++) at6(t[i], out + 4 * i); /* (A^T M) A */
    store_tile(4, out, y, row_stride, F, bias, relu, accumulate, n);
}

static inline __attribute__((always_inline)) void
output_chunk(int mt, const float *restrict m, size_t ks, size_t F, const float *restrict bias,
             int relu, int accumulate, float *restrict y, size_t row_stride, int n)
{
    if (mt == 4) output_chunk4(m, ks, F, bias, relu, accumulate, y, row_stride, n);
    else output_chunk2(m, ks, F, bias, relu, accumulate, y, row_stride, n);
}

/* One m x m output tile from its M ((m+2)^2 matrices ks floats apart):
 * y = A^T M A + bias (then ReLU), or with accumulate y += A^T M A.
 * y[i][j][0..F) at y + i * row_stride + j * F. */
static void output_transform(int mt, const float *restrict m, size_t ks, int F,
                             const float *restrict bias, int relu, int accumulate, float *restrict y,
                             size_t row_stride)
{
    int f = 0;
    for (; f + VLEN <= F; f += VLEN)
        output_chunk(mt, m + f, ks, (size_t)F, bias ? bias + f : NULL, relu, accumulate, y + f,
                     row_stride, VLEN);
    if (f < F)
        output_chunk(mt, m + f, ks, (size_t)F, bias ? bias + f : NULL, relu, accumulate, y + f,
                     row_stride, F - f);
}

void nn_winograd_forward_tiles(const nn_winograd_dims *d, const float *x, const float *u,
                               const float *bias, int relu, int accumulate, size_t t0, size_t t1,
                               float *ws, float *y)
{
    const int C = d->C, F = d->F, m = d->m, a = m + 2, P = points(d);
    const size_t T = nn_winograd_block_tiles(d);
    const int tiles_x = (d->OW + m - 1) / m;
    const size_t tiles = nn_winograd_tiles(d), img = (size_t)d->H * d->W * C;
    const size_t vs = v_stride(d, C), ms = v_stride(d, F);
    float *v = ws, *mm = v + P * vs;
    float *edge_in = mm + P * ms, *edge_out = edge_in + (size_t)P * C;

    for (size_t b0 = t0; b0 < t1; b0 += T) {
        const int nt = (int)(t1 - b0 < T ? t1 - b0 : T);
        for (int t = 0; t < nt; t++) {
            const size_t tile = b0 + t, b = tile / tiles, r = tile % tiles;
            const int iy0 = (int)(r / tiles_x) * m - d->pad_top, ix0 = (int)(r % tiles_x) * m - d->pad_left;
            const float *xb = x + b * img;
            if (iy0 >= 0 && ix0 >= 0 && iy0 + a <= d->H && ix0 + a <= d->W) {
                input_transform(m, xb + ((size_t)iy0 * d->W + ix0) * C, (size_t)d->W * C, C,
                                v + (size_t)t * C, vs);
                continue;
            }
            /* A tile over the border (padding, or the last row/column of an
             * output that is no multiple of m): copy it with zeros outside. */
            for (int i = 0; i < a; i++)
                for (int j = 0; j < a; j++) {
                    const int iy = iy0 + i, ix = ix0 + j;
                    float *dst = edge_in + (size_t)(i * a + j) * C;
                    if (iy < 0 || iy >= d->H || ix < 0 || ix >= d->W)
                        memset(dst, 0, (size_t)C * sizeof(float));
                    else
                        memcpy(dst, xb + ((size_t)iy * d->W + ix) * C, (size_t)C * sizeof(float));
                }
            input_transform(m, edge_in, (size_t)a * C, C, v + (size_t)t * C, vs);
        }
        for (int k = 0; k < P; k++)
            nn_gemm(0, 0, nt, F, C, 1.0f, v + k * vs, C, u + (size_t)k * C * F, F, 0.0f, mm + k * ms, F);
        for (int t = 0; t < nt; t++) { /* Y = A^T M A, + bias, ReLU */
            const size_t tile = b0 + t, b = tile / tiles, r = tile % tiles;
            const int oy = (int)(r / tiles_x) * m, ox = (int)(r % tiles_x) * m;
            float *yt = y + ((b * d->OH + oy) * d->OW + ox) * F;
            if (oy + m <= d->OH && ox + m <= d->OW) {
                output_transform(m, mm + (size_t)t * F, ms, F, bias, relu, accumulate, yt,
                                 (size_t)d->OW * F);
                continue;
            }
            /* Past the bottom or right edge: the full tile into edge_out, then
             * the outputs that exist. */
            output_transform(m, mm + (size_t)t * F, ms, F, accumulate ? NULL : bias,
                             accumulate ? 0 : relu, 0, edge_out, (size_t)m * F);
            for (int i = 0; i < m && oy + i < d->OH; i++)
                for (int j = 0; j < m && ox + j < d->OW; j++) {
                    float *dst = yt + ((size_t)i * d->OW + j) * F;
                    const float *src = edge_out + (size_t)(i * m + j) * F;
                    if (accumulate)
                        for (int f = 0; f < F; f++) dst[f] += src[f];
                    else
                        memcpy(dst, src, (size_t)F * sizeof(float));
                }
        }
    }
}
