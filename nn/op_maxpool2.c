/* 2x2 max-pooling, stride 2, floor (Keras 'valid'): odd trailing rows/columns
 * are dropped, and get zero gradient.
 *
 *   x (B,H,W,C) -> y (B,H/2,W/2,C)
 *
 * Forward records, per output, which of the four inputs won (0..3, ties to
 * the first in row-major order, as PyTorch and TensorFlow do); backward sends
 * dy there. Windows do not overlap, so each input gets at most one term.
 */
#include <stdint.h>
#include <string.h>

#include "nn/graph_internal.h"

static size_t pool_scratch(const nn_node *n, int batch)
{
    return (size_t)batch * n->shape[1] * n->shape[2] * n->shape[3]; /* one byte per output */
}

static void pool_forward(nn_graph *g, nn_node *n)
{
    const nn_node *xn = n->inputs[0];
    const int H = xn->shape[1], W = xn->shape[2], C = xn->shape[3];
    const int OH = n->shape[1], OW = n->shape[2];
    const int rows = g->batch * OH;
    uint8_t *arg = n->scratch;
#pragma omp parallel for num_threads(g->threads) schedule(static)
    for (int r = 0; r < rows; r++) {
        int b = r / OH, oy = r % OH;
        const float *x0 = xn->value + (((size_t)b * H + 2 * oy) * W) * C;
        const float *x1 = x0 + (size_t)W * C;
        float *y = n->value + (size_t)r * OW * C;
        uint8_t *a = arg + (size_t)r * OW * C;
        for (int ox = 0; ox < OW; ox++) {
            const float *p00 = x0 + (size_t)2 * ox * C, *p01 = p00 + C;
            const float *p10 = x1 + (size_t)2 * ox * C, *p11 = p10 + C;
            for (int c = 0; c < C; c++) {
                float m = p00[c];
                uint8_t k = 0;
                if (p01[c] > m) { m = p01[c]; k = 1; }
                if (p10[c] > m) { m = p10[c]; k = 2; }
                if (p11[c] > m) { m = p11[c]; k = 3; }
                y[(size_t)ox * C + c] = m;
                a[(size_t)ox * C + c] = k;
            }
        }
    }
}

static void pool_backward(nn_graph *g, nn_node *n)
{
    nn_node *xn = n->inputs[0];
    if (!xn->grad) return;
    const int H = xn->shape[1], W = xn->shape[2], C = xn->shape[3];
    const int OH = n->shape[1], OW = n->shape[2];
    const int rows = g->batch * OH;
    const uint8_t *arg = n->scratch;
    int acc = nn_grad_accumulate(xn);
    if (!acc) memset(xn->grad, 0, xn->size * sizeof(float));
#pragma omp parallel for num_threads(g->threads) schedule(static)
    for (int r = 0; r < rows; r++) {
        int b = r / OH, oy = r % OH;
        float *d0 = xn->grad + (((size_t)b * H + 2 * oy) * W) * C;
        const float *dy = n->grad + (size_t)r * OW * C;
        const uint8_t *a = arg + (size_t)r * OW * C;
        for (int ox = 0; ox < OW; ox++) {
            for (int c = 0; c < C; c++) {
                int k = a[(size_t)ox * C + c];
                size_t off = ((size_t)(k >> 1) * W + 2 * ox + (k & 1)) * C + c;
                d0[off] += dy[(size_t)ox * C + c];
            }
        }
    }
}

const nn_op_def nn_op_maxpool2_def = {
    .name = "maxpool2",
    .scratch_bytes = pool_scratch,
    .forward = pool_forward,
    .backward = pool_backward,
};

nn_node *nn_maxpool2(nn_graph *g, nn_node *x)
{
    nn_node *in[1] = {x};
    nn_node *n = nn_graph_new_node(g, NN_OP_MAXPOOL2, 1, in);
    if (!n) return NULL;
    if (x->ndim != 4 || !x->batched || x->shape[1] < 2 || x->shape[2] < 2)
        return nn_graph_build_fail(g, NN_ERR_SHAPE,
                                   "maxpool2: input %s must be (B,H,W,C) with H,W >= 2", x->name);
    n->ndim = 4;
    n->shape[1] = x->shape[1] / 2;
    n->shape[2] = x->shape[2] / 2;
    n->shape[3] = x->shape[3];
    return n;
}
