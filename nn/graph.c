#include "nn/graph_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/blas.h"

/* Indexed by nn_op; leaves (input, param) have no definition. */
static const nn_op_def *op_def(nn_op op)
{
    switch (op) {
    case NN_OP_CONV2D: return &nn_op_conv2d_def;
    case NN_OP_MAXPOOL2: return &nn_op_maxpool2_def;
    case NN_OP_RELU: return &nn_op_relu_def;
    case NN_OP_DROPOUT: return &nn_op_dropout_def;
    case NN_OP_FLATTEN: return &nn_op_flatten_def;
    case NN_OP_DENSE: return &nn_op_dense_def;
    case NN_OP_ADD: return &nn_op_add_def;
    case NN_OP_SOFTMAX_XENT: return &nn_op_softmax_xent_def;
    case NN_OP_INPUT:
    case NN_OP_PARAM:
    case NN_OP_COUNT: break;
    }
    return NULL;
}

const char *nn_op_name(nn_op op)
{
    if (op == NN_OP_INPUT) return "input";
    if (op == NN_OP_PARAM) return "param";
    const nn_op_def *d = op_def(op);
    return d ? d->name : "?";
}

nn_graph *nn_graph_create(void)
{
    nn_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->threads = 1;
    g->winograd_max_m = 4;
    nn_rng_seed(&g->rng, 0);
    return g;
}

static void free_activations(nn_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        nn_node *n = g->nodes[i];
        if (n->op == NN_OP_PARAM) continue;
        free(n->owned);
        free(n->scratch);
        n->owned = NULL;
        n->value = n->grad = NULL;
        n->scratch = NULL;
        n->scratch_bytes = 0;
        n->scratch_valid = 0;
    }
    free(g->workspace);
    free(g->ones);
    g->workspace = g->ones = NULL;
    g->workspace_floats = g->ones_len = g->workspace_per_thread = 0;
    g->workspace_threads = 0;
    g->max_batch = g->batch = 0;
}

void nn_graph_free(nn_graph *g)
{
    if (!g) return;
    free_activations(g);
    for (int i = 0; i < g->n_nodes; i++) free(g->nodes[i]);
    free(g->nodes);
    free(g->params);
    free(g->param_grads);
    free(g);
}

nn_node *nn_graph_build_fail(nn_graph *g, nn_status code, const char *fmt, ...)
{
    if (g && g->build_error.code == NN_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->build_error.msg, sizeof g->build_error.msg, fmt, ap);
        va_end(ap);
        g->build_error.code = code;
    }
    return NULL;
}

nn_node *nn_graph_new_node(nn_graph *g, nn_op op, int n_inputs, nn_node **inputs)
{
    if (!g) return NULL;
    if (g->params)
        return nn_graph_build_fail(g, NN_ERR_ARG, "cannot add a %s node after nn_graph_alloc",
                                   nn_op_name(op));
    for (int i = 0; i < n_inputs; i++)
        if (!inputs[i]) /* an earlier constructor failed; its error is recorded */
            return nn_graph_build_fail(g, NN_ERR_ARG, "%s: input %d is NULL", nn_op_name(op), i);
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 32;
        nn_node **p = realloc(g->nodes, (size_t)cap * sizeof *p);
        if (!p) return nn_graph_build_fail(g, NN_ERR_NOMEM, "out of memory adding a node");
        g->nodes = p;
        g->cap_nodes = cap;
    }
    nn_node *n = calloc(1, sizeof *n);
    if (!n) return nn_graph_build_fail(g, NN_ERR_NOMEM, "out of memory adding a node");
    n->op = op;
    n->id = g->n_nodes;
    n->n_inputs = n_inputs;
    for (int i = 0; i < n_inputs; i++) {
        n->inputs[i] = inputs[i];
        if (inputs[i]->needs_grad) n->needs_grad = 1;
    }
    n->batched = 1;
    snprintf(n->name, sizeof n->name, "%s_%d", nn_op_name(op), n->id);
    g->nodes[g->n_nodes++] = n;
    return n;
}

void nn_node_set_name(nn_node *n, const char *name)
{
    if (n && name) snprintf(n->name, sizeof n->name, "%s", name);
}

nn_node *nn_input(nn_graph *g, const char *name, int h, int w, int c, int requires_grad)
{
    if (!g) return NULL;
    if (h <= 0 || w < 0 || c < 0 || (w == 0) != (c == 0))
        return nn_graph_build_fail(g, NN_ERR_ARG, "input %s: bad shape %dx%dx%d", name ? name : "",
                                   h, w, c);
    nn_node *n = nn_graph_new_node(g, NN_OP_INPUT, 0, NULL);
    if (!n) return NULL;
    if (w == 0) {
        n->ndim = 2;
        n->shape[1] = h;
    } else {
        n->ndim = 4;
        n->shape[1] = h;
        n->shape[2] = w;
        n->shape[3] = c;
    }
    n->needs_grad = requires_grad != 0;
    if (name) nn_node_set_name(n, name);
    return n;
}

nn_node *nn_param(nn_graph *g, const char *name, int ndim, const int *shape)
{
    if (!g) return NULL;
    if (ndim < 1 || ndim > NN_MAX_DIMS || !shape)
        return nn_graph_build_fail(g, NN_ERR_ARG, "param %s: bad rank %d", name ? name : "", ndim);
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0)
            return nn_graph_build_fail(g, NN_ERR_ARG, "param %s: dimension %d is %d",
                                       name ? name : "", i, shape[i]);
        size *= (size_t)shape[i];
    }
    nn_node *n = nn_graph_new_node(g, NN_OP_PARAM, 0, NULL);
    if (!n) return NULL;
    n->batched = 0;
    n->ndim = ndim;
    memcpy(n->shape, shape, (size_t)ndim * sizeof *shape);
    n->size = size;
    n->needs_grad = 1;
    n->param_offset = g->n_params;
    g->n_params += size;
    if (name) nn_node_set_name(n, name);
    return n;
}

static size_t example_size(const nn_node *n)
{
    size_t s = 1;
    for (int i = n->batched ? 1 : 0; i < n->ndim; i++) s *= (size_t)n->shape[i];
    return s;
}

static void set_batch_dims(nn_graph *g, int batch)
{
    g->batch = batch;
    for (int i = 0; i < g->n_nodes; i++) {
        nn_node *n = g->nodes[i];
        if (!n->batched) continue;
        n->shape[0] = batch;
        n->size = (size_t)batch * example_size(n);
    }
}

nn_status nn_graph_alloc(nn_graph *g, int max_batch, nn_grad_mode grads, nn_error *err)
{
    if (!g) return nn_fail(err, NN_ERR_ARG, "nn_graph_alloc: NULL graph");
    if (g->build_error.code) {
        if (err) *err = g->build_error;
        return g->build_error.code;
    }
    if (g->n_nodes == 0) return nn_fail(err, NN_ERR_ARG, "nn_graph_alloc: empty graph");
    if (max_batch < 1) return nn_fail(err, NN_ERR_ARG, "nn_graph_alloc: batch %d < 1", max_batch);

    if (!g->params && g->n_params > 0) {
        g->params = calloc(g->n_params, sizeof(float));
        g->param_grads = calloc(g->n_params, sizeof(float));
        if (!g->params || !g->param_grads) {
            free(g->params);
            free(g->param_grads);
            g->params = g->param_grads = NULL;
            return nn_fail(err, NN_ERR_NOMEM, "cannot allocate %zu parameters", g->n_params);
        }
        for (int i = 0; i < g->n_nodes; i++) {
            nn_node *n = g->nodes[i];
            if (n->op != NN_OP_PARAM) continue;
            n->value = g->params + n->param_offset;
            n->grad = g->param_grads + n->param_offset;
        }
    }

    free_activations(g);
    g->grads = grads;
    set_batch_dims(g, max_batch);

    size_t workspace = 0, ones = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        nn_node *n = g->nodes[i];
        if (n->op == NN_OP_PARAM) continue;
        int with_grad = grads == NN_WITH_GRADS && n->needs_grad;
        size_t count = n->size * (with_grad ? 2 : 1);
        n->owned = malloc(count * sizeof(float));
        if (!n->owned) goto nomem;
        n->value = n->owned;
        n->grad = with_grad ? n->owned + n->size : NULL;
        const nn_op_def *d = op_def(n->op);
        if (d && d->scratch_bytes) {
            n->scratch_bytes = d->scratch_bytes(n, max_batch);
            if (n->scratch_bytes && !(n->scratch = malloc(n->scratch_bytes))) goto nomem;
        }
        if (d && d->workspace_floats) {
            size_t w = d->workspace_floats(n, max_batch);
            if (w > workspace) workspace = w;
        }
        if (nn_rows(n) > ones) ones = nn_rows(n);
    }
    g->workspace_per_thread = workspace;
    if (workspace) {
        if (!(g->workspace = malloc(workspace * g->threads * sizeof(float)))) goto nomem;
        g->workspace_floats = workspace * g->threads;
        g->workspace_threads = g->threads;
    }
    if (!(g->ones = malloc(ones * sizeof(float)))) goto nomem;
    for (size_t i = 0; i < ones; i++) g->ones[i] = 1.0f;
    g->ones_len = ones;
    g->max_batch = max_batch;
    return NN_OK;
nomem:
    free_activations(g);
    return nn_fail(err, NN_ERR_NOMEM, "out of memory allocating activations for batch %d",
                   max_batch);
}

nn_status nn_graph_set_batch(nn_graph *g, int batch, nn_error *err)
{
    if (!g || !g->max_batch) return nn_fail(err, NN_ERR_ARG, "set_batch before nn_graph_alloc");
    if (batch < 1 || batch > g->max_batch)
        return nn_fail(err, NN_ERR_ARG, "batch %d outside 1..%d", batch, g->max_batch);
    set_batch_dims(g, batch);
    return NN_OK;
}

int nn_graph_batch(const nn_graph *g) { return g->batch; }
int nn_graph_max_batch(const nn_graph *g) { return g->max_batch; }
void nn_graph_set_training(nn_graph *g, int training) { g->training = training != 0; }
void nn_graph_set_rng(nn_graph *g, const nn_rng *rng) { g->rng = *rng; }
nn_rng nn_graph_rng(const nn_graph *g) { return g->rng; }
void nn_graph_freeze_masks(nn_graph *g, int frozen) { g->masks_frozen = frozen != 0; }
void nn_graph_set_labels(nn_graph *g, const int32_t *labels) { g->labels = labels; }

nn_status nn_graph_set_winograd(nn_graph *g, int max_m, nn_error *err)
{
    if (!g || (max_m != 0 && max_m != 2 && max_m != 4))
        return nn_fail(err, NN_ERR_ARG, "winograd tile size %d is not 0, 2 or 4", max_m);
    g->winograd_max_m = max_m;
    return NN_OK;
}

nn_status nn_graph_set_threads(nn_graph *g, int threads, nn_error *err)
{
    if (!g || threads < 1) return nn_fail(err, NN_ERR_ARG, "set_threads: need a graph and threads >= 1");
    if (g->workspace_per_thread && threads > g->workspace_threads) {
        float *w = realloc(g->workspace, g->workspace_per_thread * threads * sizeof(float));
        if (!w)
            return nn_fail(err, NN_ERR_NOMEM, "out of memory for the workspace of %d threads", threads);
        g->workspace = w;
        g->workspace_threads = threads;
        g->workspace_floats = g->workspace_per_thread * threads;
    }
    g->threads = threads;
    nn_blas_set_threads(threads);
    return NN_OK;
}

void nn_graph_forward(nn_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        nn_node *n = g->nodes[i];
        const nn_op_def *d = op_def(n->op);
        if (d) d->forward(g, n);
    }
}

static nn_status backward_from(nn_graph *g, nn_node *from, const float *seed, nn_error *err)
{
    if (!g || !from) return nn_fail(err, NN_ERR_ARG, "backward: NULL graph or node");
    if (g->grads != NN_WITH_GRADS)
        return nn_fail(err, NN_ERR_ARG, "backward: graph was allocated without gradients");
    if (!from->grad)
        return nn_fail(err, NN_ERR_ARG, "backward: node %s does not depend on any parameter",
                       from->name);
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i]->grad_written = 0;
    /* Parameter gradients are zeroed once, so every op simply adds into them. */
    if (g->n_params) memset(g->param_grads, 0, g->n_params * sizeof(float));
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->op == NN_OP_PARAM) g->nodes[i]->grad_written = 1;

    if (seed) {
        memcpy(from->grad, seed, from->size * sizeof(float));
    } else {
        for (size_t i = 0; i < from->size; i++) from->grad[i] = 1.0f;
    }
    from->grad_written = 1;
    for (int i = from->id; i >= 0; i--) {
        nn_node *n = g->nodes[i];
        const nn_op_def *d = op_def(n->op);
        if (d && d->backward && n->grad_written) d->backward(g, n);
    }
    /* Inputs no op wrote to have a zero gradient. */
    for (int i = 0; i < g->n_nodes; i++) {
        nn_node *n = g->nodes[i];
        if (n->op == NN_OP_INPUT && n->grad && !n->grad_written)
            memset(n->grad, 0, n->size * sizeof(float));
    }
    return NN_OK;
}

nn_status nn_graph_backward(nn_graph *g, nn_node *loss, nn_error *err)
{
    if (loss && loss->size != 1)
        return nn_fail(err, NN_ERR_SHAPE, "backward: loss %s has %zu elements, expected 1",
                       loss->name, loss->size);
    return backward_from(g, loss, NULL, err);
}

nn_status nn_graph_backward_seeded(nn_graph *g, nn_node *from, const float *seed, nn_error *err)
{
    if (!seed) return nn_fail(err, NN_ERR_ARG, "backward: NULL seed");
    return backward_from(g, from, seed, err);
}

float *nn_value(nn_node *n) { return n ? n->value : NULL; }
float *nn_grad(nn_node *n) { return n ? n->grad : NULL; }
size_t nn_node_size(const nn_node *n) { return n->size; }
size_t nn_node_example_size(const nn_node *n) { return example_size(n); }
int nn_graph_node_count(const nn_graph *g) { return g->n_nodes; }
nn_node *nn_graph_node(nn_graph *g, int i) { return (i >= 0 && i < g->n_nodes) ? g->nodes[i] : NULL; }
float *nn_graph_params(nn_graph *g) { return g->params; }
float *nn_graph_param_grads(nn_graph *g) { return g->param_grads; }
size_t nn_graph_param_count(const nn_graph *g) { return g->n_params; }

void nn_softmax_rows(float *x, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * cols;
        float max = row[0];
        for (int c = 1; c < cols; c++)
            if (row[c] > max) max = row[c];
        double sum = 0;
        for (int c = 0; c < cols; c++) {
            row[c] = expf(row[c] - max);
            sum += row[c];
        }
        float inv = (float)(1.0 / sum);
        for (int c = 0; c < cols; c++) row[c] *= inv;
    }
}
