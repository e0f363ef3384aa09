/* model.h: sequential networks built from a short text description, the way
 * the paper's Keras code stacks layers. The description is also what a model
 * file stores, so a file rebuilds its own network.
 *
 * Description grammar (whitespace-separated layers, case-sensitive):
 *   input(H,W,C)                 first, exactly once
 *   conv(F,K[,opt...])           F filters, K = "3" or "3x5"; opts: valid (default) | same,
 *                                relu | linear (default); stride 1, with bias
 *   maxpool(2)                   2x2, stride 2, floor
 *   dropout(R)                   0 <= R < 1, active in training only
 *   flatten
 *   dense(N[,relu|linear])       with bias
 * The last layer must be dense: its outputs are the class logits; softmax
 * and cross-entropy are added by the builder.
 */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include <stdio.h>

#include "nn/graph.h"

/* The paper's DCNN (Iyer & Vojjala, Fig. 1): 1,914,951 parameters. */
#define NN_ARCH_FER_DCNN                                                                     \
    "input(48,48,1) "                                                                        \
    "conv(64,3,relu) conv(64,3,relu) maxpool(2) dropout(0.5) "                               \
    "conv(64,3,relu) conv(64,3,relu) maxpool(2) dropout(0.5) "                               \
    "conv(128,3,relu) conv(128,3,relu) maxpool(2) "                                          \
    "flatten dense(1024,relu) dropout(0.2) dense(1024,relu) dropout(0.2) dense(7)"

#define NN_MAX_LAYERS 64

typedef enum {
    NN_LAYER_CONV,
    NN_LAYER_MAXPOOL,
    NN_LAYER_DROPOUT,
    NN_LAYER_FLATTEN,
    NN_LAYER_DENSE,
} nn_layer_kind;

typedef struct {
    nn_layer_kind kind;
    int filters, kh, kw;      /* conv */
    nn_padding padding;       /* conv */
    nn_activation activation; /* conv, dense */
    int units;                /* dense */
    float rate;               /* dropout */
} nn_layer_spec;

typedef struct {
    int in_h, in_w, in_c;
    int n_layers;
    nn_layer_spec layers[NN_MAX_LAYERS];
} nn_arch;

/* Parses a description; on error names the offending layer (1-based) and
 * what is wrong. */
nn_status nn_arch_parse(const char *text, nn_arch *arch, nn_error *err);
/* Canonical description (parses back to the same arch). Returns the length
 * it needed, like snprintf. */
size_t nn_arch_format(const nn_arch *arch, char *buf, size_t size);

/* Sizes of the network a description builds, from its shapes alone, with
 * nothing allocated: *params (what nn_model_param_count will say) and
 * *values, the values one example flows through (the input and every
 * layer's output). A loader checks these against a file before building, so
 * a corrupt description cannot make it allocate gigabytes. NN_ERR_SHAPE when
 * the layers do not fit together or a size overflows. */
nn_status nn_arch_sizes(const nn_arch *arch, size_t *params, size_t *values, nn_error *err);

typedef struct {
    nn_arch arch;
    nn_graph *graph;
    nn_node *input;  /* (B, H, W, C) */
    nn_node *logits; /* (B, classes) */
    nn_node *loss;   /* scalar mean cross-entropy, labels via nn_graph_set_labels */
    int n_classes;
    /* Per layer, in arch order: its output node, its kernel and bias (NULL for
     * weightless layers), and a Keras-style name (conv2d_1, max_pooling2d_1,
     * dropout_1, flatten_1, dense_1, ...), used by summaries and Keras export. */
    nn_node *layer_out[NN_MAX_LAYERS];
    nn_node *layer_kernel[NN_MAX_LAYERS];
    nn_node *layer_bias[NN_MAX_LAYERS];
    char layer_name[NN_MAX_LAYERS][32];
} nn_model;

/* Builds the network and allocates it for batches of up to max_batch.
 * Weights are zero until nn_model_init_glorot or loaded. Returns NULL (with
 * err filled) on a bad description or allocation failure. */
nn_model *nn_model_create(const nn_arch *arch, int max_batch, nn_grad_mode grads, nn_error *err);
void nn_model_free(nn_model *m);

/* Keras' defaults: Glorot-uniform kernels, limit sqrt(6 / (fan_in + fan_out))
 * with fan = kh*kw*channels for convolutions; zero biases. Draws kernels in
 * layer order and storage order, so a seed fixes the weights. */
void nn_model_init_glorot(nn_model *m, nn_rng *rng);

size_t nn_model_param_count(const nn_model *m);
/* Parameters of layer i (kernel + bias; 0 for weightless layers). */
size_t nn_model_layer_params(const nn_model *m, int i);
/* Writes "46x46x64"-style output shape of layer i (per example). */
void nn_model_layer_shape(const nn_model *m, int i, char *buf, size_t size);
/* Multiply-add FLOPs (2 per MAC) per example of the convolutions and dense
 * layers: one forward pass, and one training step (forward + backward, where
 * the first layer needs no input gradient). Elementwise work is not counted. */
void nn_model_flops(const nn_model *m, double *forward, double *training);
/* A Keras-like table: layer, type, output shape, parameters; then the total. */
void nn_model_summary(const nn_model *m, FILE *out);

/* Class probabilities for n examples (each H*W*C floats, already
 * standardised) into probs (n * classes), in batches of the allocated size,
 * inference mode (dropout off). */
nn_status nn_model_predict(nn_model *m, const float *x, int n, float *probs, nn_error *err);

#endif
