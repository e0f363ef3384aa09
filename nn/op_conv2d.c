/* 2-D convolution, stride 1, 'valid' or 'same' padding, bias, optional fused
 * ReLU, as im2col + GEMM over channels-last tensors.
 *
 *   x (B,H,W,C)  w (KH,KW,C,F)  b (F)  ->  y (B,OH,OW,F)
 *   valid: OH = H-KH+1;  same: OH = H, padding (KH-1)/2 on top, rest at bottom
 *   (TensorFlow's rule, so even kernels match Keras).
 *
 * im2col turns a chunk of images into col (rows = chunk*OH*OW, K = KH*KW*C),
 * each row the receptive field of one output pixel in (ky, kx, c) order. That
 * order is w's row order, so y = col * w is one GEMM with w as stored, and the
 * same holds for the gradients:
 *   dw += col^T dy,   db += dy^T 1,   dcol = dy w^T -> col2im -> dx.
 * Images are processed in chunks so col stays a few MB, not B times that.
 */
#include <string.h>

#include "nn/blas.h"
#include "nn/graph_internal.h"

typedef struct {
    int H, W, C, KH, KW, F, OH, OW, pad_top, pad_left;
} conv_dims;

static conv_dims dims_of(const nn_node *n)
{
    const nn_node *x = n->inputs[0], *w = n->inputs[1];
    conv_dims d = {x->shape[1], x->shape[2], x->shape[3], w->shape[0], w->shape[1], w->shape[3],
                   n->shape[1], n->shape[2], 0, 0};
    if (n->padding == NN_PAD_SAME) {
        d.pad_top = (d.KH - 1) / 2;
        d.pad_left = (d.KW - 1) / 2;
    }
    return d;
}

/* Floats of col per image, and images per chunk (col of a chunk <= ~4M floats). */
static size_t col_per_image(const conv_dims *d)
{
    return (size_t)d->OH * d->OW * d->KH * d->KW * d->C;
}

static int chunk_images(const conv_dims *d, int batch)
{
    size_t per = col_per_image(d);
    size_t chunk = per ? (size_t)(4u << 20) / per : 1;
    if (chunk < 1) chunk = 1;
    if (chunk > (size_t)batch) chunk = (size_t)batch;
    return (int)chunk;
}

static size_t conv_workspace(const nn_node *n, int batch)
{
    conv_dims d = dims_of(n);
    return col_per_image(&d) * (size_t)chunk_images(&d, batch);
}

/* One image x (H,W,C) -> col (OH*OW, KH*KW*C); zeros where the field is outside. */
static void im2col(const conv_dims *d, const float *x, float *col)
{
    const size_t K = (size_t)d->KH * d->KW * d->C;
    for (int oy = 0; oy < d->OH; oy++) {
        for (int ox = 0; ox < d->OW; ox++) {
            float *row = col + ((size_t)oy * d->OW + ox) * K;
            for (int ky = 0; ky < d->KH; ky++) {
                int iy = oy + ky - d->pad_top;
                float *dst = row + (size_t)ky * d->KW * d->C;
                if (iy < 0 || iy >= d->H) {
                    memset(dst, 0, (size_t)d->KW * d->C * sizeof(float));
                    continue;
                }
                int ix0 = ox - d->pad_left;
                if (ix0 >= 0 && ix0 + d->KW <= d->W) { /* whole kernel row inside: one copy */
                    memcpy(dst, x + ((size_t)iy * d->W + ix0) * d->C,
                           (size_t)d->KW * d->C * sizeof(float));
                    continue;
                }
                for (int kx = 0; kx < d->KW; kx++) {
                    int ix = ix0 + kx;
                    if (ix < 0 || ix >= d->W)
                        memset(dst + (size_t)kx * d->C, 0, (size_t)d->C * sizeof(float));
                    else
                        memcpy(dst + (size_t)kx * d->C, x + ((size_t)iy * d->W + ix) * d->C,
                               (size_t)d->C * sizeof(float));
                }
            }
        }
    }
}

/* Adds col (OH*OW, KH*KW*C) back into dx (H,W,C): the adjoint of im2col. */
static void col2im_add(const conv_dims *d, const float *col, float *dx)
{
    const size_t K = (size_t)d->KH * d->KW * d->C;
    for (int oy = 0; oy < d->OH; oy++) {
        for (int ox = 0; ox < d->OW; ox++) {
            const float *row = col + ((size_t)oy * d->OW + ox) * K;
            for (int ky = 0; ky < d->KH; ky++) {
                int iy = oy + ky - d->pad_top;
                if (iy < 0 || iy >= d->H) continue;
                for (int kx = 0; kx < d->KW; kx++) {
                    int ix = ox + kx - d->pad_left;
                    if (ix < 0 || ix >= d->W) continue;
                    const float *src = row + ((size_t)ky * d->KW + kx) * d->C;
                    float *dst = dx + ((size_t)iy * d->W + ix) * d->C;
                    for (int c = 0; c < d->C; c++) dst[c] += src[c];
                }
            }
        }
    }
}

static void conv_forward(nn_graph *g, nn_node *n)
{
    const conv_dims d = dims_of(n);
    const int B = g->batch, chunk = chunk_images(&d, B);
    const int K = d.KH * d.KW * d.C;
    const size_t in_img = (size_t)d.H * d.W * d.C, out_pix = (size_t)d.OH * d.OW;
    const float *x = n->inputs[0]->value, *w = n->inputs[1]->value, *b = n->inputs[2]->value;
    float *y = n->value, *col = g->workspace;

    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
#pragma omp parallel for num_threads(g->threads) schedule(static)
        for (int i = 0; i < nb; i++)
            im2col(&d, x + (size_t)(b0 + i) * in_img, col + (size_t)i * out_pix * K);
        float *yc = y + (size_t)b0 * out_pix * d.F;
        const size_t rows = (size_t)nb * out_pix;
        for (size_t r = 0; r < rows; r++) memcpy(yc + r * d.F, b, (size_t)d.F * sizeof(float));
        nn_gemm(0, 0, (int)rows, d.F, K, 1.0f, col, K, w, d.F, 1.0f, yc, d.F);
    }
    if (n->activation == NN_ACT_RELU) {
        const size_t size = n->size;
#pragma omp parallel for num_threads(g->threads) schedule(static)
        for (size_t i = 0; i < size; i++)
            if (y[i] < 0.0f) y[i] = 0.0f;
    }
}

static void conv_backward(nn_graph *g, nn_node *n)
{
    const conv_dims d = dims_of(n);
    const int B = g->batch, chunk = chunk_images(&d, B);
    const int K = d.KH * d.KW * d.C;
    const size_t in_img = (size_t)d.H * d.W * d.C, out_pix = (size_t)d.OH * d.OW;
    nn_node *xn = n->inputs[0], *wn = n->inputs[1], *bn = n->inputs[2];
    float *dy = n->grad, *col = g->workspace;

    if (n->activation == NN_ACT_RELU) { /* dy of the pre-activation, in place */
        const float *y = n->value;
        const size_t size = n->size;
#pragma omp parallel for num_threads(g->threads) schedule(static)
        for (size_t i = 0; i < size; i++)
            if (y[i] <= 0.0f) dy[i] = 0.0f;
    }
    if (bn->grad) {
        nn_gemv_t((int)((size_t)B * out_pix), d.F, 1.0f, dy, d.F, g->ones, 1.0f, bn->grad);
        nn_grad_accumulate(bn);
    }
    int want_dx = xn->grad != NULL;
    if (want_dx && !nn_grad_accumulate(xn)) memset(xn->grad, 0, xn->size * sizeof(float));

    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
        const float *dyc = dy + (size_t)b0 * out_pix * d.F;
        const int rows = (int)((size_t)nb * out_pix);
        if (wn->grad) {
#pragma omp parallel for num_threads(g->threads) schedule(static)
            for (int i = 0; i < nb; i++)
                im2col(&d, xn->value + (size_t)(b0 + i) * in_img, col + (size_t)i * out_pix * K);
            nn_gemm(1, 0, K, d.F, rows, 1.0f, col, K, dyc, d.F, 1.0f, wn->grad, d.F);
        }
        if (want_dx) {
            nn_gemm(0, 1, rows, K, d.F, 1.0f, dyc, d.F, wn->value, d.F, 0.0f, col, K);
#pragma omp parallel for num_threads(g->threads) schedule(static)
            for (int i = 0; i < nb; i++)
                col2im_add(&d, col + (size_t)i * out_pix * K, xn->grad + (size_t)(b0 + i) * in_img);
        }
    }
    if (wn->grad) nn_grad_accumulate(wn);
}

const nn_op_def nn_op_conv2d_def = {
    .name = "conv2d",
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
