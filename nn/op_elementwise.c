/* Elementwise ops: ReLU, inverted dropout, flatten (a copy with a new shape),
 * and addition. Shapes: y has x's shape (flatten: (B, prod of the rest)). */
#include <limits.h>
#include <string.h>

#include "nn/graph_internal.h"

static void copy_shape(nn_node *n, const nn_node *x)
{
    n->ndim = x->ndim;
    memcpy(n->shape, x->shape, sizeof n->shape);
}

/* Writes or adds v into a gradient buffer according to the pass's bookkeeping. */
static void grad_put(nn_graph *g, nn_node *in, const float *v, size_t size)
{
    float *d = in->grad;
    if (nn_grad_accumulate(in)) {
#pragma omp parallel for num_threads(g->threads) schedule(static)
        for (size_t i = 0; i < size; i++) d[i] += v[i];
    } else {
        memcpy(d, v, size * sizeof(float));
    }
}

/* ---- ReLU: y = max(x, 0); dx = dy where y > 0 (the kink at 0 gets 0) ---- */

static void relu_forward(nn_graph *g, nn_node *n)
{
    const float *x = n->inputs[0]->value;
    float *y = n->value;
    const size_t size = n->size;
#pragma omp parallel for num_threads(g->threads) schedule(static)
    for (size_t i = 0; i < size; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void relu_backward(nn_graph *g, nn_node *n)
{
    nn_node *xn = n->inputs[0];
    if (!xn->grad) return;
    const float *y = n->value, *dy = n->grad;
    float *dx = xn->grad;
    const size_t size = n->size;
    if (nn_grad_accumulate(xn)) {
#pragma omp parallel for num_threads(g->threads) schedule(static)
        for (size_t i = 0; i < size; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
    } else {
#pragma omp parallel for num_threads(g->threads) schedule(static)
        for (size_t i = 0; i < size; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    }
}

const nn_op_def nn_op_relu_def = {
    .name = "relu", .forward = relu_forward, .backward = relu_backward};

nn_node *nn_relu(nn_graph *g, nn_node *x)
{
    nn_node *in[1] = {x};
    nn_node *n = nn_graph_new_node(g, NN_OP_RELU, 1, in);
    if (!n) return NULL;
    copy_shape(n, x);
    n->batched = x->batched;
    if (!n->batched) n->size = x->size;
    return n;
}

/* ---- Dropout (inverted): training y = x * keep / (1 - rate), keep ~ Bernoulli(1 - rate);
 * inference y = x. The mask (one byte per element) is drawn from the graph's rng
 * in element order, so results do not depend on the thread count. ---- */

static size_t dropout_scratch(const nn_node *n, int batch)
{
    return (size_t)batch * nn_node_example_size(n);
}

static void dropout_forward(nn_graph *g, nn_node *n)
{
    const float *x = n->inputs[0]->value;
    float *y = n->value;
    const size_t size = n->size;
    if (!g->training || n->rate <= 0.0f) {
        memcpy(y, x, size * sizeof(float));
        return;
    }
    uint8_t *keep = n->scratch;
    if (!g->masks_frozen) {
        /* Each 64-bit draw decides 4 elements: 16-bit uniforms against the rate
         * (8 bits would quantise the rate too coarsely, 64 per element is waste). */
        const uint32_t threshold = (uint32_t)(n->rate * 65536.0f + 0.5f);
        size_t i = 0;
        for (; i + 4 <= size; i += 4) {
            uint64_t r = nn_rng_u64(&g->rng);
            for (int k = 0; k < 4; k++) keep[i + k] = ((r >> (16 * k)) & 0xffff) >= threshold;
        }
        for (; i < size; i++) keep[i] = (nn_rng_u32(&g->rng) >> 16) >= threshold;
    }
    const float scale = 1.0f / (1.0f - n->rate);
#pragma omp parallel for num_threads(g->threads) schedule(static)
    for (size_t i = 0; i < size; i++) y[i] = keep[i] ? x[i] * scale : 0.0f;
}

static void dropout_backward(nn_graph *g, nn_node *n)
{
    nn_node *xn = n->inputs[0];
    if (!xn->grad) return;
    const size_t size = n->size;
    if (!g->training || n->rate <= 0.0f) {
        grad_put(g, xn, n->grad, size);
        return;
    }
    const uint8_t *keep = n->scratch;
    const float scale = 1.0f / (1.0f - n->rate), *dy = n->grad;
    float *dx = xn->grad;
    if (nn_grad_accumulate(xn)) {
#pragma omp parallel for num_threads(g->threads) schedule(static)
        for (size_t i = 0; i < size; i++) dx[i] += keep[i] ? dy[i] * scale : 0.0f;
    } else {
#pragma omp parallel for num_threads(g->threads) schedule(static)
        for (size_t i = 0; i < size; i++) dx[i] = keep[i] ? dy[i] * scale : 0.0f;
    }
}

const nn_op_def nn_op_dropout_def = {.name = "dropout",
                                     .scratch_bytes = dropout_scratch,
                                     .forward = dropout_forward,
                                     .backward = dropout_backward};

nn_node *nn_dropout(nn_graph *g, nn_node *x, float rate)
{
    nn_node *in[1] = {x};
    nn_node *n = nn_graph_new_node(g, NN_OP_DROPOUT, 1, in);
    if (!n) return NULL;
    if (!(rate >= 0.0f && rate < 1.0f))
        return nn_graph_build_fail(g, NN_ERR_ARG, "dropout: rate %g outside [0, 1)", rate);
    if (!x->batched)
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "dropout: input %s is not batched", x->name);
    copy_shape(n, x);
    n->rate = rate;
    return n;
}

/* ---- Flatten: (B, d1, ..., dk) -> (B, d1*...*dk), same memory order ---- */

static void flatten_forward(nn_graph *g, nn_node *n)
{
    memcpy(n->value, n->inputs[0]->value, n->size * sizeof(float));
}

static void flatten_backward(nn_graph *g, nn_node *n)
{
    if (n->inputs[0]->grad) grad_put(g, n->inputs[0], n->grad, n->size);
}

const nn_op_def nn_op_flatten_def = {
    .name = "flatten", .forward = flatten_forward, .backward = flatten_backward};

nn_node *nn_flatten(nn_graph *g, nn_node *x)
{
    nn_node *in[1] = {x};
    nn_node *n = nn_graph_new_node(g, NN_OP_FLATTEN, 1, in);
    if (!n) return NULL;
    if (!x->batched)
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "flatten: input %s is not batched", x->name);
    size_t features = nn_node_example_size(x);
    if (features > INT_MAX) /* a shape is int: it would wrap (a corrupt model file) */
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "flatten: %s has %zu values per example, "
                                   "more than %d", x->name, features, INT_MAX);
    n->ndim = 2;
    n->shape[1] = (int)features;
    return n;
}

/* ---- Add: y = a + b; da = dy, db = dy ---- */

static void add_forward(nn_graph *g, nn_node *n)
{
    const float *a = n->inputs[0]->value, *b = n->inputs[1]->value;
    float *y = n->value;
    const size_t size = n->size;
#pragma omp parallel for num_threads(g->threads) schedule(static)
    for (size_t i = 0; i < size; i++) y[i] = a[i] + b[i];
}

static void add_backward(nn_graph *g, nn_node *n)
{
    for (int k = 0; k < 2; k++)
        if (n->inputs[k]->grad) grad_put(g, n->inputs[k], n->grad, n->size);
}

const nn_op_def nn_op_add_def = {.name = "add", .forward = add_forward, .backward = add_backward};

nn_node *nn_add(nn_graph *g, nn_node *a, nn_node *b)
{
    nn_node *in[2] = {a, b};
    nn_node *n = nn_graph_new_node(g, NN_OP_ADD, 2, in);
    if (!n) return NULL;
    if (a->ndim != b->ndim || a->batched != b->batched ||
        memcmp(a->shape + 1, b->shape + 1, (size_t)(a->ndim - 1) * sizeof(int)) != 0 ||
        (!a->batched && a->shape[0] != b->shape[0]))
        return nn_graph_build_fail(g, NN_ERR_SHAPE, "add: shapes of %s and %s differ", a->name,
                                   b->name);
    copy_shape(n, a);
    n->batched = a->batched;
    if (!n->batched) n->size = a->size;
    return n;
}
