/* Writing fer.json: the layer configs Keras 2.x's to_json() writes, with
 * only keys that every Keras 2 release accepts (no "groups", no "invert"). */
#include "export/keras_json.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* cJSON reports allocation failure by returning NULL from every add; one
 * flag collects them so the result is checked once. */
typedef struct {
    int failed;
} ctx;

static cJSON *chk(ctx *c, cJSON *item)
{
    if (!item) c->failed = 1;
    return item;
}

static void add_str(ctx *c, cJSON *o, const char *k, const char *v) { chk(c, cJSON_AddStringToObject(o, k, v)); }
static void add_num(ctx *c, cJSON *o, const char *k, double v) { chk(c, cJSON_AddNumberToObject(o, k, v)); }
static void add_bool(ctx *c, cJSON *o, const char *k, int v) { chk(c, cJSON_AddBoolToObject(o, k, v)); }
static void add_null(ctx *c, cJSON *o, const char *k) { chk(c, cJSON_AddNullToObject(o, k)); }

static void add_pair(ctx *c, cJSON *o, const char *k, int a, int b)
{
    int v[2] = {a, b};
    cJSON *arr = chk(c, cJSON_CreateIntArray(v, 2));
    if (arr && !cJSON_AddItemToObject(o, k, arr)) {
        cJSON_Delete(arr);
        c->failed = 1;
    }
}

/* [null, H, W, C]: Keras' batch_input_shape, batch size left open. */
static void add_input_shape(ctx *c, cJSON *o, const nn_arch *a)
{
    cJSON *arr = chk(c, cJSON_AddArrayToObject(o, "batch_input_shape"));
    if (!arr) return;
    if (!cJSON_AddItemToArray(arr, chk(c, cJSON_CreateNull()))) c->failed = 1;
    int dims[3] = {a->in_h, a->in_w, a->in_c};
    for (int i = 0; i < 3; i++)
        if (!cJSON_AddItemToArray(arr, chk(c, cJSON_CreateNumber(dims[i])))) c->failed = 1;
}

/* The shortest decimal that reads back as the same float, so a dropout
 * rate of 0.2f is written 0.2 and not 0.200000002980232. */
static double float_decimal(float f)
{
    char buf[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)f);
        if (strtof(buf, NULL) == f) break;
    }
    return strtod(buf, NULL);
}

static void add_initializers(ctx *c, cJSON *o)
{
    /* glorot_uniform as every Keras 2 release spells it out. */
    cJSON *ki = chk(c, cJSON_AddObjectToObject(o, "kernel_initializer"));
    if (ki) {
        add_str(c, ki, "class_name", "VarianceScaling");
        cJSON *kc = chk(c, cJSON_AddObjectToObject(ki, "config"));
        if (kc) {
            add_num(c, kc, "scale", 1.0);
            add_str(c, kc, "mode", "fan_avg");
            add_str(c, kc, "distribution", "uniform");
            add_null(c, kc, "seed");
        }
    }
    cJSON *bi = chk(c, cJSON_AddObjectToObject(o, "bias_initializer"));
    if (bi) {
        add_str(c, bi, "class_name", "Zeros");
        chk(c, cJSON_AddObjectToObject(bi, "config"));
    }
    static const char *const nulls[] = {"kernel_regularizer", "bias_regularizer",
                                        "activity_regularizer", "kernel_constraint",
                                        "bias_constraint"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) add_null(c, o, nulls[i]);
}

static const char *activation_name(const fer_keras_layer *L, const nn_layer_spec *s)
{
    if (L->softmax) return "softmax";
    return s && s->activation == NN_ACT_RELU ? "relu" : "linear";
}

static void layer_config(ctx *c, cJSON *cfg, const fer_keras_model *km, int i)
{
    const fer_keras_layer *L = &km->layers[i];
    const nn_layer_spec *s = L->arch_layer >= 0 ? &km->arch.layers[L->arch_layer] : NULL;
    add_str(c, cfg, "name", L->name);
    add_bool(c, cfg, "trainable", 1);
    if (i == 0) add_input_shape(c, cfg, &km->arch);
    add_str(c, cfg, "dtype", "float32");
    switch (L->kind) {
    case FER_KL_NORMALIZATION: {
        int axes[3] = {1, 2, 3}; /* a mean and variance per (row, column, channel) */
        cJSON *ax = chk(c, cJSON_CreateIntArray(axes, 3));
        if (ax && !cJSON_AddItemToObject(cfg, "axis", ax)) {
            cJSON_Delete(ax);
            c->failed = 1;
        }
        add_null(c, cfg, "mean");
        add_null(c, cfg, "variance");
        break;
    }
    case FER_KL_RESCALING:
        add_num(c, cfg, "scale", L->scale);
        add_num(c, cfg, "offset", L->offset);
        break;
    case FER_KL_CONV2D:
        add_num(c, cfg, "filters", s->filters);
        add_pair(c, cfg, "kernel_size", s->kh, s->kw);
        add_pair(c, cfg, "strides", 1, 1);
        add_str(c, cfg, "padding", s->padding == NN_PAD_SAME ? "same" : "valid");
        add_str(c, cfg, "data_format", "channels_last");
        add_pair(c, cfg, "dilation_rate", 1, 1);
        add_str(c, cfg, "activation", activation_name(L, s));
        add_bool(c, cfg, "use_bias", 1);
        add_initializers(c, cfg);
        break;
    case FER_KL_MAXPOOL2D:
        add_pair(c, cfg, "pool_size", 2, 2);
        add_str(c, cfg, "padding", "valid");
        add_pair(c, cfg, "strides", 2, 2);
        add_str(c, cfg, "data_format", "channels_last");
        break;
    case FER_KL_DROPOUT:
        add_num(c, cfg, "rate", float_decimal(s->rate));
        add_null(c, cfg, "noise_shape");
        add_null(c, cfg, "seed");
        break;
    case FER_KL_FLATTEN: add_str(c, cfg, "data_format", "channels_last"); break;
    case FER_KL_DENSE:
        add_num(c, cfg, "units", s->units);
        add_str(c, cfg, "activation", activation_name(L, s));
        add_bool(c, cfg, "use_bias", 1);
        add_initializers(c, cfg);
        break;
    case FER_KL_ACTIVATION: add_str(c, cfg, "activation", L->softmax ? "softmax" : "relu"); break;
    }
}

nn_status fer_keras_json_format(const fer_keras_model *km, const char *model_name, char **text,
                                nn_error *err)
{
    *text = NULL;
    if (!km || km->n_layers < 1 || !model_name)
        return nn_fail(err, NN_ERR_ARG, "Keras JSON: empty model");
    ctx c = {0};
    cJSON *root = chk(&c, cJSON_CreateObject());
    if (!root) return nn_fail(err, NN_ERR_NOMEM, "Keras JSON: out of memory");
    add_str(&c, root, "class_name", "Sequential");
    cJSON *config = chk(&c, cJSON_AddObjectToObject(root, "config"));
    if (config) add_str(&c, config, "name", model_name);
    cJSON *layers = config ? chk(&c, cJSON_AddArrayToObject(config, "layers")) : NULL;
    for (int i = 0; layers && i < km->n_layers; i++) {
        cJSON *layer = chk(&c, cJSON_CreateObject());
        if (!layer) break;
        if (!cJSON_AddItemToArray(layers, layer)) {
            cJSON_Delete(layer);
            c.failed = 1;
            break;
        }
        add_str(&c, layer, "class_name", fer_keras_class_name(km->layers[i].kind));
        cJSON *cfg = chk(&c, cJSON_AddObjectToObject(layer, "config"));
        if (cfg) layer_config(&c, cfg, km, i);
    }
    add_str(&c, root, "keras_version", FER_KERAS_VERSION);
    add_str(&c, root, "backend", "tensorflow");
    if (!c.failed) *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*text) return nn_fail(err, NN_ERR_NOMEM, "Keras JSON: out of memory");
    return NN_OK;
}
