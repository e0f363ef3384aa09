/* 2-D convolution, stride 1, 'valid' or 'same' padding, bias, optional fused
 * ReLU, as im2col + GEMM over channels-last tensors.
 *
 *   x (B,H,W,C)  w (KH,KW,C,F)  b (F)  ->  y (B,OH,OW,F)
 *   valid: OH = H-KH+1;  same: OH = H, padding (KH-1)/2 on top, rest at bottom
 *   (TensorFlow's rule, so even kernels match Keras).
 *
 * The output is a matrix of R = B*OH*OW rows (one per output pixel) by F.
 * im2col writes, for a block of rows, each row's receptive field in
 * (ky, kx, c) order -- w's row order -- so the block of y is one GEMM:
 *   y[rows] = col[rows] w + b
 * and the gradients follow:
 *   dw += col^T dy[rows],  db += dy[rows]^T 1,  dcol = dy[rows] w^T -> col2im -> dx.
 *
 * Parallelism is over row blocks, not inside BLAS: each thread fills its own
 * col block, small enough to stay in its L2 cache, and calls a
 * single-threaded GEMM on it (OpenBLAS runs single-threaded inside an OpenMP
 * region). Backward does dw, db and dx in the same pass over a block, so col
 * is built once and read from cache; each thread owns whole images (their dx
 * never overlap) and its own dw/db partial sums, added up in thread order
 * afterwards, so results are bit-identical for a given thread count.
 *
 * 3x3 kernels on 8+ channels take another road for y and dx: Winograd's
 * minimal filtering (nn/winograd.h), 2.25x to 4x fewer multiplies; dw stays
 * im2col + GEMM (a GEMM per kernel tap straight on x, without im2col,
 * measured 10% slower: its 64x64 outputs are too small for OpenBLAS).
 */
#include <string.h>

#include <omp.h>

#include "nn/blas.h"
#include "nn/graph_internal.h"
#include "nn/winograd.h"

typedef struct {
    int H, W, C, KH, KW, F, OH, OW, pad_top, pad_left;
    int K;        /* KH*KW*C: columns of col */
    size_t P;     /* OH*OW: output pixels per image */
    int block;    /* rows of col per block */
} conv_dims;

/* ~1 MiB of col per block: fits a core's L2 next to the GEMM's packed panels. */
#define COL_BLOCK_FLOATS (256 * 1024)

static conv_dims dims_of(const nn_node *n)
{
    const nn_node *x = n->inputs[0], *w = n->inputs[1];
    conv_dims d = {x->shape[1], x->shape[2], x->shape[3], w->shape[0], w->shape[1], w->shape[3],
                   n->shape[1], n->shape[2], 0, 0, 0, 0, 0};
    if (n->padding == NN_PAD_SAME) {
        d.pad_top = (d.KH - 1) / 2;
        d.pad_left = (d.KW - 1) / 2;
    }
    d.K = d.KH * d.KW * d.C;
    d.P = (size_t)d.OH * d.OW;
    int block = COL_BLOCK_FLOATS / d.K;
    d.block = block < 16 ? 16 : block > 4096 ? 4096 : block;
    return d;
}

/* 3x3 kernels use Winograd F(2x2,3x3) or F(4x4,3x3) (nn/winograd.h) for the
 * forward pass and the input gradient. With few input channels its GEMMs are
 * too thin to gain (the first layer has one). */
static int winograd_shape(const conv_dims *d) { return d->KH == 3 && d->KW == 3 && d->C >= 8; }

static int use_winograd(const nn_graph *g, const conv_dims *d)
{
    return g->winograd_max_m && winograd_shape(d);
}

static nn_winograd_dims winograd_dims(const conv_dims *d, int max_m)
{
    return nn_winograd_make_dims(d->H, d->W, d->C, d->F, d->OH, d->OW, d->pad_top, d->pad_left,
                                 max_m);
}

/* Per thread: a col block, dw and db partial sums; or Winograd's buffers for
 * either tile size (nn_graph_set_winograd may change it after allocation). */
static size_t conv_workspace(const nn_node *n, int batch)
{
    conv_dims d = dims_of(n);
    size_t need = (size_t)d.block * d.K + (size_t)d.K * d.F + (size_t)d.F;
    if (!winograd_shape(&d)) return need;
    for (int max_m = 2; max_m <= 4; max_m += 2) {
        nn_winograd_dims wd = winograd_dims(&d, max_m), adj = nn_winograd_adjoint_dims(&wd);
        size_t fwd = nn_winograd_workspace(&wd), bwd = nn_winograd_workspace(&adj);
        if (fwd > need) need = fwd;
        if (bwd > need) need = bwd;
    }
    return need;
}

/* Node scratch for Winograd, in units of C*F floats: the transformed kernel U
 * (up to 36) at 0 and the kernel it was made from (9) at 36, so U is rebuilt
 * only when weights change; then the input gradient's U (up to 36) at 45 and
 * room to build it (9) at 81. */
enum { SCRATCH_U = 0, SCRATCH_MADE_FROM = 36, SCRATCH_ADJ_U = 45, SCRATCH_ADJ_TMP = 81, SCRATCH_END = 90 };
_Static_assert(SCRATCH_MADE_FROM == NN_WINOGRAD_MAX_POINTS, "scratch layout");

static size_t conv_scratch(const nn_node *n, int batch)
{
    conv_dims d = dims_of(n);
    return winograd_shape(&d) ? (size_t)SCRATCH_END * d.C * d.F * sizeof(float) : 0;
}

static void conv_forward_winograd(nn_graph *g, nn_node *n, const conv_dims *d)
{
    const nn_winograd_dims wd = winograd_dims(d, g->winograd_max_m);
    const size_t stride = g->workspace_per_thread;
    const size_t tiles = (size_t)g->batch * nn_winograd_tiles(&wd), T = nn_winograd_block_tiles(&wd);
    const long blocks = (long)((tiles + T - 1) / T);
    float *u = (float *)n->scratch + (size_t)SCRATCH_U * d->C * d->F;
    float *made_from = (float *)n->scratch + (size_t)SCRATCH_MADE_FROM * d->C * d->F;
    const size_t kernel_bytes = (size_t)9 * d->C * d->F * sizeof(float);
    /* scratch_valid: the m that U was made for (0: none yet) */
    if (n->scratch_valid != wd.m || memcmp(made_from, n->inputs[1]->value, kernel_bytes) != 0) {
        nn_winograd_kernel_transform(&wd, n->inputs[1]->value, u);
        memcpy(made_from, n->inputs[1]->value, kernel_bytes);
        n->scratch_valid = wd.m;
    }
    const float *x = n->inputs[0]->value, *b = n->inputs[2]->value;
    const int relu = n->activation == NN_ACT_RELU;
#pragma omp parallel for num_threads(g->threads) schedule(static)
    for (long k = 0; k < blocks; k++) {
        const size_t t0 = (size_t)k * T, t1 = t0 + T < tiles ? t0 + T : tiles;
        nn_winograd_forward_tiles(&wd, x, u, b, relu, 0, t0, t1,
                                  g->workspace + stride * (size_t)omp_get_thread_num(), n->value);
    }
}

/* Rows r0..r1 of the batch's col matrix (row r = image r/P, pixel r%P);
 * zeros where the receptive field is outside the image. */
static void im2col_rows(const conv_dims *d, const float *x, size_t r0, size_t r1, float *col)
{
    const size_t img = (size_t)d->H * d->W * d->C, krow = (size_t)d->KW * d->C;
    for (size_t r = r0; r < r1; r++) {
        const size_t b = r / d->P, p = r % d->P;
        const int oy = (int)(p / d->OW), ox = (int)(p % d->OW);
        const float *xb = x + b * img;
        float *row = col + (r - r0) * d->K;
        const int ix0 = ox - d->pad_left;
        const int full_row = ix0 >= 0 && ix0 + d->KW <= d->W;
        for (int ky = 0; ky < d->KH; ky++) {
            const int iy = oy + ky - d->pad_top;
            float *dst = row + ky * krow;
            if (iy < 0 || iy >= d->H) {
                memset(dst, 0, krow * sizeof(float));
            } else if (full_row) { /* the whole kernel row is inside: one copy */
                memcpy(dst, xb + ((size_t)iy * d->W + ix0) * d->C, krow * sizeof(float));
            } else {
                for (int kx = 0; kx < d->KW; kx++) {
                    const int ix = ix0 + kx;
                    if (ix < 0 || ix >= d->W)
                        memset(dst + (size_t)kx * d->C, 0, (size_t)d->C * sizeof(float));
                    else
                        memcpy(dst + (size_t)kx * d->C, xb + ((size_t)iy * d->W + ix) * d->C,
                               (size_t)d->C * sizeof(float));
                }
            }
        }
    }
}

/* Adds col rows r0..r1 back into dx: the adjoint of im2col_rows. */
static void col2im_rows_add(const conv_dims *d, const float *col, size_t r0, size_t r1, float *dx)
{
    const size_t img = (size_t)d->H * d->W * d->C;
    for (size_t r = r0; r < r1; r++) {
        const size_t b = r / d->P, p = r % d->P;
        const int oy = (int)(p / d->OW), ox = (int)(p % d->OW);
        float *db = dx + b * img;
        const float *row = col + (r - r0) * d->K;
        for (int ky = 0; ky < d->KH; ky++) {
            const int iy = oy + ky - d->pad_top;
            if (iy < 0 || iy >= d->H) continue;
            for (int kx = 0; kx < d->KW; kx++) {
                const int ix = ox + kx - d->pad_left;
                if (ix < 0 || ix >= d->W) continue;
                const float *src = row + ((size_t)ky * d->KW + kx) * d->C;
                float *dst = db + ((size_t)iy * d->W + ix) * d->C;
                for (int c = 0; c < d->C; c++) dst[c] += src[c];
            }
        }
    }
}

/* The loops below are written with unconditional stores and restrict
 * pointers so the compiler vectorises them: a conditional store or possible
 * aliasing keeps them scalar, and they then cost as much as the GEMMs. */
static void relu_inplace(float *restrict y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* dy = 0 where the ReLU output y is 0: the gradient of the pre-activation. */
static void relu_mask(const float *restrict y, float *restrict dy, size_t n)
{
    for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

static void column_sums_add(const float *restrict m, int rows, int cols, float *restrict sums)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) sums[c] += m[(size_t)r * cols + c];
}

static size_t thread_stride(const nn_graph *g)
{
    return g->workspace_per_thread;
}

static void conv_forward(nn_graph *g, nn_node *n)
{
    const conv_dims d = dims_of(n);
    if (use_winograd(g, &d)) {
        conv_forward_winograd(g, n, &d);
        return;
    }
    const size_t R = (size_t)g->batch * d.P;
    const long blocks = (long)((R + d.block - 1) / d.block);
    const float *x = n->inputs[0]->value, *w = n->inputs[1]->value, *b = n->inputs[2]->value;
    float *y = n->value;
    const int relu = n->activation == NN_ACT_RELU;
    const size_t stride = thread_stride(g);

#pragma omp parallel num_threads(g->threads)
    {
        float *col = g->workspace + stride * (size_t)omp_get_thread_num();
#pragma omp for schedule(static)
        for (long k = 0; k < blocks; k++) {
            const size_t r0 = (size_t)k * d.block, r1 = r0 + d.block < R ? r0 + d.block : R;
            const int rows = (int)(r1 - r0);
            im2col_rows(&d, x, r0, r1, col);
            float *yb = y + r0 * d.F;
            for (int r = 0; r < rows; r++) memcpy(yb + (size_t)r * d.F, b, (size_t)d.F * sizeof(float));
            nn_gemm(0, 0, rows, d.F, d.K, 1.0f, col, d.K, w, d.F, 1.0f, yb, d.F);
            if (relu) relu_inplace(yb, (size_t)rows * d.F);
        }
    }
}

/* dx (+)= conv(dy, rotated kernel) by Winograd: the input gradient of a 3x3
 * convolution is itself one (nn/winograd.h). Overwrites dx unless accumulate. */
static void conv_input_grad_winograd(nn_graph *g, nn_node *n, const conv_dims *d, int accumulate)
{
    const nn_winograd_dims wd = winograd_dims(d, g->winograd_max_m), adj = nn_winograd_adjoint_dims(&wd);
    float *u = (float *)n->scratch + (size_t)SCRATCH_ADJ_U * d->C * d->F;
    float *tmp = (float *)n->scratch + (size_t)SCRATCH_ADJ_TMP * d->C * d->F;
    nn_winograd_kernel_transform_adjoint(&wd, n->inputs[1]->value, tmp, u);
    const size_t stride = g->workspace_per_thread;
    const size_t tiles = (size_t)g->batch * nn_winograd_tiles(&adj), T = nn_winograd_block_tiles(&adj);
    const long blocks = (long)((tiles + T - 1) / T);
    const float *dy = n->grad;
    float *dx = n->inputs[0]->grad;
#pragma omp parallel for num_threads(g->threads) schedule(static)
    for (long k = 0; k < blocks; k++) {
        const size_t t0 = (size_t)k * T, t1 = t0 + T < tiles ? t0 + T : tiles;
        nn_winograd_forward_tiles(&adj, dy, u, NULL, 0, accumulate, t0, t1,
                                  g->workspace + stride * (size_t)omp_get_thread_num(), dx);
    }
}

static void conv_backward(nn_graph *g, nn_node *n)
{
    const conv_dims d = dims_of(n);
    nn_node *xn = n->inputs[0], *wn = n->inputs[1], *bn = n->inputs[2];
    const int B = g->batch, relu = n->activation == NN_ACT_RELU;
    const size_t stride = thread_stride(g);
    float *dy = n->grad;
    const float *x = xn->value, *y = n->value;
    const int want_dw = wn->grad != NULL, want_db = bn->grad != NULL, want_dx = xn->grad != NULL;
    /* 3x3 kernels get dx from Winograd after dw and db; others from col2im, in the same pass. */
    const int dx_by_winograd = want_dx && use_winograd(g, &d);
    const int dx_by_col2im = want_dx && !dx_by_winograd;
    if (dx_by_col2im && !nn_grad_accumulate(xn)) memset(xn->grad, 0, xn->size * sizeof(float));
    const int T = g->threads;

#pragma omp parallel num_threads(T)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *col = g->workspace + stride * (size_t)t;
        float *dw = col + (size_t)d.block * d.K, *dbias = dw + (size_t)d.K * d.F;
        memset(dw, 0, ((size_t)d.K * d.F + d.F) * sizeof(float));
        /* whole images per thread, so no two threads add into the same dx */
        const int b0 = (int)((long)B * t / nt), b1 = (int)((long)B * (t + 1) / nt);
        const size_t R0 = (size_t)b0 * d.P, R1 = (size_t)b1 * d.P;
        for (size_t r0 = R0; r0 < R1; r0 += d.block) {
            const size_t r1 = r0 + d.block < R1 ? r0 + d.block : R1;
            const int rows = (int)(r1 - r0);
            float *dyb = dy + r0 * d.F;
            if (relu) relu_mask(y + r0 * d.F, dyb, (size_t)rows * d.F);
            if (want_db) column_sums_add(dyb, rows, d.F, dbias);
            if (want_dw) {
                im2col_rows(&d, x, r0, r1, col);
                nn_gemm(1, 0, d.K, d.F, rows, 1.0f, col, d.K, dyb, d.F, 1.0f, dw, d.F);
            }
            if (dx_by_col2im) {
                nn_gemm(0, 1, rows, d.K, d.F, 1.0f, dyb, d.F, wn->value, d.F, 0.0f, col, d.K);
                col2im_rows_add(&d, col, r0, r1, xn->grad);
            }
        }
    }
    /* Partial sums in thread order: deterministic for a given thread count. */
    for (int t = 0; t < T; t++) {
        const float *dw = g->workspace + stride * (size_t)t + (size_t)d.block * d.K;
        const float *dbias = dw + (size_t)d.K * d.F;
        if (want_dw)
            for (size_t i = 0; i < (size_t)d.K * d.F; i++) wn->grad[i] += dw[i];
        if (want_db)
            for (int f = 0; f < d.F; f++) bn->grad[f] += dbias[f];
    }
    if (want_dw) nn_grad_accumulate(wn);
    if (want_db) nn_grad_accumulate(bn);
    /* dy now holds the pre-activation gradient (ReLU mask applied above). */
    if (dx_by_winograd) conv_input_grad_winograd(g, n, &d, nn_grad_accumulate(xn));
}

const nn_op_def nn_op_conv2d_def = {
    .name = "conv2d",
    .scratch_bytes = conv_scratch,
    .workspace_floats = conv_workspace,
    .forward = conv_forward,
    .backward = conv_backward,
};

nn_node *nn_conv2d(nn_graph *g, nn_node *x, nn_node *w, nn_node *b, nn_padding pad,
                   nn_activation act)
{
    nn_node *in[3] = {x, w, b};
    nn_node *n = nn_graph_new_node(g, NN_OP_CONV2D, 3, in);
    if (!n) return NULL;
    if (x->ndim != 4 || !x->batched)
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "conv2d: input %s must be (B,H,W,C), has rank %d",
                                   x->name, x->ndim);
    if (w->ndim != 4 || w->batched || w->shape[2] != x->shape[3])
        return nn_graph_build_fail(g, NN_ERR_SHAPE,
                                   "conv2d: kernel %s must be (KH,KW,%d,F) for input %s", w->name,
                                   x->shape[3], x->name);
    if (b->ndim != 1 || b->batched || b->shape[0] != w->shape[3])
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "conv2d: bias %s must have %d elements",
                                   b->name, w->shape[3]);
    int oh = x->shape[1], ow = x->shape[2];
    if (pad == NN_PAD_VALID) {
        oh -= w->shape[0] - 1;
        ow -= w->shape[1] - 1;
    }
    if (oh < 1 || ow < 1)
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "conv2d: %dx%d kernel does not fit %dx%d input %s",
                                   w->shape[0], w->shape[1], x->shape[1], x->shape[2], x->name);
    n->ndim = 4;
    n->shape[1] = oh;
    n->shape[2] = ow;
    n->shape[3] = w->shape[3];
    n->padding = pad;
    n->activation = act;
    return n;
}
