/* graph_internal.h: what the graph runtime and the op files share.
 * Not part of the public API: include nn/graph.h instead.
 *
 * Each op lives in its own file (nn/op_*.c) with forward and backward side by
 * side and registers itself through an nn_op_def. Backward ACCUMULATES into
 * the gradients of its inputs, except that the first writer of a gradient
 * buffer in a backward pass overwrites it (nn_grad_accumulate tells which), so
 * no pass has to zero every gradient buffer first.
 */
#ifndef NN_GRAPH_INTERNAL_H
#define NN_GRAPH_INTERNAL_H

#include "nn/graph.h"

struct nn_graph {
    nn_node **nodes;
    int n_nodes, cap_nodes;
    nn_error build_error; /* first error while building (sticky) */

    float *params, *param_grads;
    size_t n_params;

    int batch, max_batch;  /* current and allocated batch */
    nn_grad_mode grads;
    int training;
    int masks_frozen;
    int threads;
    int winograd_max_m; /* 3x3 convolutions: 0 im2col, 2 F(2x2), 4 F(4x4) where cheaper */
    nn_rng rng;
    const int32_t *labels;

    /* scratch for im2col and partial sums: workspace_threads equal slices,
     * one per OpenMP thread, sized by nn_graph_alloc / nn_graph_set_threads */
    float *workspace;
    size_t workspace_floats;
    size_t workspace_per_thread;
    int workspace_threads;
    float *ones; /* a vector of ones for bias gradients via GEMV */
    size_t ones_len;
};

typedef struct {
    const char *name;
    /* Bytes of per-node scratch at batch size `batch` (may be NULL: none). */
    size_t (*scratch_bytes)(const nn_node *n, int batch);
    /* Floats of workspace each thread needs at batch size `batch` (may be NULL). */
    size_t (*workspace_floats)(const nn_node *n, int batch);
    void (*forward)(nn_graph *g, nn_node *n);
    /* Called only when n->grad_written; writes gradients of inputs that
     * need them. NULL for leaves. */
    void (*backward)(nn_graph *g, nn_node *n);
} nn_op_def;

extern const nn_op_def nn_op_conv2d_def, nn_op_maxpool2_def, nn_op_relu_def,
    nn_op_dropout_def, nn_op_flatten_def, nn_op_dense_def, nn_op_add_def,
    nn_op_softmax_xent_def;

/* Returns 1 if backward must add into in->grad, 0 if it must overwrite it
 * (and marks it written). Call exactly once per input per backward call. */
static inline int nn_grad_accumulate(nn_node *in)
{
    if (in->grad_written) return 1;
    in->grad_written = 1;
    return 0;
}

/* Records a build error (first one wins) and returns NULL. */
nn_node *nn_graph_build_fail(nn_graph *g, nn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a node of the given op with inputs; shape filled by the caller. */
nn_node *nn_graph_new_node(nn_graph *g, nn_op op, int n_inputs, nn_node **inputs);

/* Rows of a batched activation: batch * product of all dims but the last. */
static inline size_t nn_rows(const nn_node *n)
{
    size_t r = 1;
    for (int i = 0; i < n->ndim - 1; i++) r *= (size_t)n->shape[i];
    return r;
}

#endif
