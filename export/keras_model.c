#include "export/keras_model.h"

#include <stdio.h>
#include <string.h>

static fer_keras_layer *add_layer(fer_keras_model *km, fer_keras_kind kind, const char *name,
                                  int arch_layer)
{
    fer_keras_layer *L = &km->layers[km->n_layers++];
    memset(L, 0, sizeof *L);
    L->kind = kind;
    L->arch_layer = arch_layer;
    snprintf(L->name, sizeof L->name, "%s", name);
    return L;
}

void fer_keras_model_from_net(const nn_model *net, int with_normalization, fer_keras_model *km)
{
    memset(km, 0, sizeof *km);
    km->arch = net->arch;
    km->softmax_output = 1;
    if (with_normalization) add_layer(km, FER_KL_NORMALIZATION, "normalization_1", -1);
    static const fer_keras_kind kinds[] = {
        [NN_LAYER_CONV] = FER_KL_CONV2D,     [NN_LAYER_MAXPOOL] = FER_KL_MAXPOOL2D,
        [NN_LAYER_DROPOUT] = FER_KL_DROPOUT, [NN_LAYER_FLATTEN] = FER_KL_FLATTEN,
        [NN_LAYER_DENSE] = FER_KL_DENSE,
    };
    const int last = net->arch.n_layers - 1;
    for (int i = 0; i <= last; i++) {
        const nn_layer_spec *s = &net->arch.layers[i];
        fer_keras_layer *L = add_layer(km, kinds[s->kind], net->layer_name[i], i);
        L->use_bias = s->kind == NN_LAYER_CONV || s->kind == NN_LAYER_DENSE;
        if (i == last && s->activation == NN_ACT_NONE) L->softmax = 1;
    }
    /* A final dense(N,relu) keeps its relu; the softmax our models put on
     * top then needs a layer of its own. */
    if (net->arch.layers[last].activation == NN_ACT_RELU) {
        fer_keras_layer *A = add_layer(km, FER_KL_ACTIVATION, "activation_1", last);
        A->softmax = 1;
    }
}

int fer_keras_layer_weights(const fer_keras_layer *L)
{
    switch (L->kind) {
    case FER_KL_CONV2D:
    case FER_KL_DENSE: return 1 + (L->use_bias != 0);
    case FER_KL_NORMALIZATION: return L->inline_stats ? 0 : 3;
    default: return 0;
    }
}

const char *fer_keras_class_name(fer_keras_kind kind)
{
    static const char *const names[] = {
        [FER_KL_NORMALIZATION] = "Normalization", [FER_KL_RESCALING] = "Rescaling",
        [FER_KL_CONV2D] = "Conv2D",               [FER_KL_MAXPOOL2D] = "MaxPooling2D",
        [FER_KL_DROPOUT] = "Dropout",             [FER_KL_FLATTEN] = "Flatten",
        [FER_KL_DENSE] = "Dense",                 [FER_KL_ACTIVATION] = "Activation",
    };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

int fer_keras_find(const fer_keras_model *km, fer_keras_kind kind)
{
    for (int i = 0; i < km->n_layers; i++)
        if (km->layers[i].kind == kind) return i;
    return -1;
}
