/* Dense (fully connected) layer with bias and optional fused ReLU.
 *
 *   x (B,N)  w (N,M)  b (M)  ->  y (B,M) = x w + b
 *   dw += x^T dy,  db += dy^T 1,  dx = dy w^T
 */
#include <string.h>

#include "nn/blas.h"
#include "nn/graph_internal.h"

static void dense_forward(nn_graph *g, nn_node *n)
{
    const nn_node *xn = n->inputs[0], *wn = n->inputs[1], *bn = n->inputs[2];
    const int B = g->batch, N = xn->shape[1], M = n->shape[1];
    float *y = n->value;
    for (int r = 0; r < B; r++) memcpy(y + (size_t)r * M, bn->value, (size_t)M * sizeof(float));
    if (B == 1) /* one example: a GEMV streams w once; GEMM would first copy all of it */
        nn_gemv_t(N, M, 1.0f, wn->value, M, xn->value, 1.0f, y);
    else
        nn_gemm(0, 0, B, M, N, 1.0f, xn->value, N, wn->value, M, 1.0f, y, M);
    if (n->activation == NN_ACT_RELU)
        for (size_t i = 0; i < n->size; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

static void dense_backward(nn_graph *g, nn_node *n)
{
    nn_node *xn = n->inputs[0], *wn = n->inputs[1], *bn = n->inputs[2];
    const int B = g->batch, N = xn->shape[1], M = n->shape[1];
    float *dy = n->grad;
    if (n->activation == NN_ACT_RELU)
        for (size_t i = 0; i < n->size; i++) dy[i] = n->value[i] > 0.0f ? dy[i] : 0.0f;
    if (wn->grad) {
        nn_gemm(1, 0, N, M, B, 1.0f, xn->value, N, dy, M, 1.0f, wn->grad, M);
        nn_grad_accumulate(wn);
    }
    if (bn->grad) {
        nn_gemv_t(B, M, 1.0f, dy, M, g->ones, 1.0f, bn->grad);
        nn_grad_accumulate(bn);
    }
    if (xn->grad) {
        float beta = nn_grad_accumulate(xn) ? 1.0f : 0.0f;
        nn_gemm(0, 1, B, N, M, 1.0f, dy, M, wn->value, M, beta, xn->grad, N);
    }
}

const nn_op_def nn_op_dense_def = {
    .name = "dense", .forward = dense_forward, .backward = dense_backward};

nn_node *nn_dense(nn_graph *g, nn_node *x, nn_node *w, nn_node *b, nn_activation act)
{
    nn_node *in[3] = {x, w, b};
    nn_node *n = nn_graph_new_node(g, NN_OP_DENSE, 3, in);
    if (!n) return NULL;
    if (x->ndim != 2 || !x->batched)
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "dense: input %s must be (B,N); flatten it first",
                                   x->name);
    if (w->ndim != 2 || w->batched || w->shape[0] != x->shape[1])
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "dense: kernel %s must be (%d,M)", w->name,
                                   x->shape[1]);
    if (b->ndim != 1 || b->batched || b->shape[0] != w->shape[1])
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "dense: bias %s must have %d elements", b->name,
                                   w->shape[1]);
    n->ndim = 2;
    n->shape[1] = w->shape[1];
    n->activation = act;
    return n;
}
