/* keras_model.h: a Keras 2.x Sequential model as the toolkit sees it -- the
 * bridge between the Keras JSON (keras_json.h), the Keras HDF5 weights
 * (keras_h5.h) and the network description nn_arch (nn/model.h).
 *
 * Keras and our nn library share one layout (channels-last tensors, conv
 * kernels (kh, kw, in, out), dense kernels (in, out), Flatten in (h, w, c)
 * order), so a layer maps to a layer and weights copy across unpermuted;
 * docs/model-format.md explains why and scripts/keras_reference.py proves it.
 *
 * What maps (anything else is refused by name when reading):
 *   Keras                               nn_arch
 *   InputLayer / batch_input_shape      input(H,W,1)
 *   Normalization, Rescaling (first)    the model file's per-pixel statistics
 *   Conv2D (stride 1, no dilation)      conv(F,KHxKW[,same][,relu])
 *   MaxPooling2D (2x2, stride 2)        maxpool(2)
 *   Dropout                             dropout(R)
 *   Flatten                             flatten
 *   Dense                               dense(N[,relu])
 *   Activation / ReLU                   folded into the conv or dense before it
 *   softmax on the last Dense           the softmax every model adds on top
 */
#ifndef EXPORT_KERAS_MODEL_H
#define EXPORT_KERAS_MODEL_H

#include "nn/model.h"

/* Room for every arch layer, an activation layer after each, preprocessing. */
#define FER_KERAS_MAX_LAYERS (2 * NN_MAX_LAYERS + 4)
#define FER_KERAS_NAME_MAX 128

/* Keras' backend.epsilon(): Normalization divides by max(sqrt(var), this). */
#define FER_KERAS_EPSILON 1e-7f

typedef enum {
    FER_KL_NORMALIZATION, /* (x - mean) / max(sqrt(variance), 1e-7), per pixel */
    FER_KL_RESCALING,     /* x * scale + offset */
    FER_KL_CONV2D,
    FER_KL_MAXPOOL2D,
    FER_KL_DROPOUT,
    FER_KL_FLATTEN,
    FER_KL_DENSE,
    FER_KL_ACTIVATION, /* Activation or ReLU layer: no weights */
} fer_keras_kind;

typedef struct {
    fer_keras_kind kind;
    char name[FER_KERAS_NAME_MAX]; /* Keras layer name: the HDF5 group of its weights */
    int arch_layer;  /* arch.layers index it builds or folds into; -1: preprocessing */
    int use_bias;    /* Conv2D, Dense: 0 means no bias weight (imported as zeros) */
    int softmax;     /* Dense, Activation: this layer applies softmax (last only) */
    float scale, offset;   /* Rescaling */
    int inline_stats;      /* Normalization with scalar mean/variance in its config */
    float mean, variance;  /* ... those scalars (then it has no weights) */
} fer_keras_layer;

typedef struct {
    nn_arch arch; /* the network, input from batch_input_shape */
    int n_layers;
    fer_keras_layer layers[FER_KERAS_MAX_LAYERS];
    int softmax_output; /* 1: ends in softmax (probabilities); 0: linear (logits) */
} fer_keras_model;

/* The Keras view of a built network: one Keras layer per arch layer, named as
 * net->layer_name names it (conv2d_1, ...), softmax on the final Dense (or an
 * Activation("softmax") layer after a final dense(N,relu)), and, when
 * with_normalization, a Normalization layer "normalization_1" first that
 * carries the per-pixel statistics. Cannot fail. */
void fer_keras_model_from_net(const nn_model *net, int with_normalization, fer_keras_model *km);

/* How many weights Keras stores for the layer, in its weight_names order:
 * Conv2D/Dense kernel[, bias]; Normalization mean, variance, count (none
 * with inline statistics); other layers none. */
int fer_keras_layer_weights(const fer_keras_layer *L);

/* Keras' class name of a kind ("Conv2D", ...). */
const char *fer_keras_class_name(fer_keras_kind kind);

/* Index of the Normalization / Rescaling layer, or -1 (at most one each). */
int fer_keras_find(const fer_keras_model *km, fer_keras_kind kind);

#endif
