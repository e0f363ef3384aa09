/* graph.h: tensors as graph nodes and reverse-mode automatic differentiation.
 *
 * A network is a DAG of nodes built with the op constructors below. Each node
 * is created after its inputs, so creation order is a topological order:
 * forward runs the node list front to back, backward runs it back to front.
 *
 *   nn_graph *g = nn_graph_create();
 *   nn_node *x = nn_input(g, "x", 28, 28, 1, 0);            (batch, 28, 28, 1)
 *   nn_node *w = nn_param(g, "w", 4, (int[]){3, 3, 1, 8});
 *   nn_node *b = nn_param(g, "b", 1, (int[]){8});
 *   nn_node *y = nn_conv2d(g, x, w, b, NN_PAD_VALID, NN_ACT_RELU);
 *   ...
 *   nn_node *loss = nn_softmax_xent(g, logits);
 *   nn_graph_alloc(g, 64, NN_WITH_GRADS, &err);   (checks every shape first)
 *   fill nn_value(x), nn_graph_set_labels(g, labels); nn_graph_forward(g);
 *   nn_graph_backward(g, loss); then nn_graph_param_grads(g) holds dL/dparams.
 *
 * Layout: activations are channels-last (NHWC: batch, height, width,
 * channels), the layout of Keras/TensorFlow, so convolution over a batch is
 * one im2col + GEMM and flattening matches Keras' order. Conv kernels are
 * (kh, kw, in, out), dense kernels (in, out): Keras' layouts.
 *
 * Errors while building are sticky: a constructor given a NULL input or
 * incompatible shapes returns NULL and records the first error in the graph;
 * nn_graph_alloc then returns it. So a builder checks once, at the end.
 *
 * Ownership: the graph owns every node and every buffer. Nothing allocates
 * during forward or backward; all memory is sized by nn_graph_alloc.
 * A graph is used by one thread at a time (ops use OpenMP/BLAS threads
 * internally, nn_graph_set_threads).
 */
#ifndef NN_GRAPH_H
#define NN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "nn/error.h"
#include "nn/rng.h"

#define NN_MAX_DIMS 4
#define NN_MAX_INPUTS 3

typedef enum {
    NN_OP_INPUT,        /* caller-fed data, (batch, ...) */
    NN_OP_PARAM,        /* trainable tensor in the graph's flat parameter block */
    NN_OP_CONV2D,       /* x (B,H,W,C), w (kh,kw,C,F), b (F) -> (B,OH,OW,F); stride 1 */
    NN_OP_MAXPOOL2,     /* x (B,H,W,C) -> (B,H/2,W/2,C); 2x2 window, stride 2, floor */
    NN_OP_RELU,         /* elementwise max(x, 0) */
    NN_OP_DROPOUT,      /* inverted dropout: training x*mask/(1-rate), else x */
    NN_OP_FLATTEN,      /* (B, ...) -> (B, prod(...)), row-major (h, w, c) order */
    NN_OP_DENSE,        /* x (B,N), w (N,M), b (M) -> (B,M) */
    NN_OP_ADD,          /* a + b, same shapes (residual connections) */
    NN_OP_SOFTMAX_XENT, /* logits (B,K) + integer labels -> scalar mean cross-entropy */
    NN_OP_COUNT
} nn_op;

typedef enum { NN_PAD_VALID, NN_PAD_SAME } nn_padding;
typedef enum { NN_ACT_NONE, NN_ACT_RELU } nn_activation;
typedef enum { NN_NO_GRADS, NN_WITH_GRADS } nn_grad_mode;

typedef struct nn_node {
    nn_op op;
    int id;             /* position in creation (= topological) order */
    char name[48];
    int n_inputs;
    struct nn_node *inputs[NN_MAX_INPUTS];

    int ndim;
    int shape[NN_MAX_DIMS]; /* shape[0] is the current batch for batched nodes */
    int batched;            /* 1: activations (first dim = batch); 0: params */
    size_t size;            /* elements at the current batch */

    float *value;
    float *grad;            /* NULL when no gradient flows here */
    int needs_grad;         /* a parameter or requires-grad input is upstream */
    int grad_written;       /* backward bookkeeping: grad holds data (else zero) */

    /* op attributes */
    nn_padding padding;       /* conv2d */
    nn_activation activation; /* conv2d, dense: fused activation on the output */
    float rate;               /* dropout; softmax_xent: label smoothing */

    /* what backward needs from forward (max-pool argmax, dropout mask,
     * softmax probabilities), sized once by nn_graph_alloc */
    void *scratch;
    size_t scratch_bytes;
    int scratch_valid;      /* op-defined: scratch holds a reusable result */

    size_t param_offset;    /* params: offset in the flat block */
    float *owned;           /* storage this node owns (value [+ grad]) */
} nn_node;

typedef struct nn_graph nn_graph;

/* ---- building ---------------------------------------------------------- */

nn_graph *nn_graph_create(void); /* NULL on allocation failure */
void nn_graph_free(nn_graph *g);

/* A batched input of per-example shape (h, w, c); pass w = c = 0 for a
 * vector input of length h. requires_grad = 1 lets gradient checks read
 * dL/dinput. */
nn_node *nn_input(nn_graph *g, const char *name, int h, int w, int c, int requires_grad);
/* A trainable parameter of fixed shape (no batch dimension). */
nn_node *nn_param(nn_graph *g, const char *name, int ndim, const int *shape);

nn_node *nn_conv2d(nn_graph *g, nn_node *x, nn_node *w, nn_node *b, nn_padding pad,
                   nn_activation act);
nn_node *nn_maxpool2(nn_graph *g, nn_node *x);
nn_node *nn_relu(nn_graph *g, nn_node *x);
nn_node *nn_dropout(nn_graph *g, nn_node *x, float rate);
nn_node *nn_flatten(nn_graph *g, nn_node *x);
nn_node *nn_dense(nn_graph *g, nn_node *x, nn_node *w, nn_node *b, nn_activation act);
nn_node *nn_add(nn_graph *g, nn_node *a, nn_node *b);
nn_node *nn_softmax_xent(nn_graph *g, nn_node *logits);
/* Label smoothing for a softmax_xent node: the target puts 1 - eps + eps/K on
 * the label and eps/K on every other class (default 0: one-hot).
 * NN_ERR_ARG unless 0 <= eps < 1. */
nn_status nn_softmax_xent_set_smoothing(nn_node *loss, float eps, nn_error *err);

/* Renames a node (names label summaries and saved files). */
void nn_node_set_name(nn_node *n, const char *name);

/* ---- running ----------------------------------------------------------- */

/* Validates the graph, allocates parameters (once: values are kept across
 * calls) and every activation buffer for up to max_batch examples, and sets
 * the current batch to max_batch. May be called again with another size.
 * Returns the first build error, NN_ERR_NOMEM, or NN_ERR_ARG. */
nn_status nn_graph_alloc(nn_graph *g, int max_batch, nn_grad_mode grads, nn_error *err);
/* Current batch size, 1..max_batch (e.g. a smaller last batch). */
nn_status nn_graph_set_batch(nn_graph *g, int batch, nn_error *err);
int nn_graph_batch(const nn_graph *g);
int nn_graph_max_batch(const nn_graph *g); /* allocated batch (0 before alloc) */

/* Training mode turns dropout on. Default: off (inference). */
void nn_graph_set_training(nn_graph *g, int training);
/* Dropout masks come from this generator (copied in; read back for checkpoints). */
void nn_graph_set_rng(nn_graph *g, const nn_rng *rng);
nn_rng nn_graph_rng(const nn_graph *g);
/* Gradient checks: reuse the last dropout masks instead of drawing new ones. */
void nn_graph_freeze_masks(nn_graph *g, int frozen);
/* Threads for OpenMP loops and BLAS (>= 1). Results are bit-identical for a
 * given thread count. May grow the per-thread workspace (NN_ERR_NOMEM). */
nn_status nn_graph_set_threads(nn_graph *g, int threads, nn_error *err);
/* How 3x3 convolutions with 8+ input channels run their forward pass and
 * input gradient: 4 (default) Winograd F(4x4,3x3) where it needs fewer
 * multiplies than F(2x2,3x3), else F(2x2); 2: F(2x2) only; 0: im2col + GEMM
 * (exact up to the GEMM's summation order; slower). F(4x4) rounds a few
 * times more than F(2x2) (about 1e-6 relative; nn/winograd.h). May be
 * changed at any time. NN_ERR_ARG for other values. */
nn_status nn_graph_set_winograd(nn_graph *g, int max_m, nn_error *err);
/* Integer class labels (batch of them) read by softmax_xent; not copied. */
void nn_graph_set_labels(nn_graph *g, const int32_t *labels);

/* Runs every op; inputs must have been written into nn_value(input). */
void nn_graph_forward(nn_graph *g);
/* Gradients of the scalar node `loss` w.r.t. every parameter (written into
 * the flat gradient block, overwriting) and every requires-grad input. */
nn_status nn_graph_backward(nn_graph *g, nn_node *loss, nn_error *err);
/* Backward from any node with a caller-given upstream gradient (same size as
 * the node's value): the gradient of sum(seed * node) — used to check one op. */
nn_status nn_graph_backward_seeded(nn_graph *g, nn_node *from, const float *seed, nn_error *err);

/* ---- access ------------------------------------------------------------ */

float *nn_value(nn_node *n);
float *nn_grad(nn_node *n);
size_t nn_node_size(const nn_node *n);      /* elements at the current batch */
size_t nn_node_example_size(const nn_node *n); /* elements per example */
/* Softmax probabilities (batch, K) computed by the last forward of a
 * softmax_xent node. */
const float *nn_softmax_xent_probs(const nn_node *n);

int nn_graph_node_count(const nn_graph *g);
nn_node *nn_graph_node(nn_graph *g, int i);

/* All parameters, in creation order, as one contiguous block (valid after
 * nn_graph_alloc); likewise their gradients. */
float *nn_graph_params(nn_graph *g);
float *nn_graph_param_grads(nn_graph *g);
size_t nn_graph_param_count(const nn_graph *g);

const char *nn_op_name(nn_op op);

/* Row-wise softmax in place (rows x cols), numerically stable. */
void nn_softmax_rows(float *x, int rows, int cols);

#endif
