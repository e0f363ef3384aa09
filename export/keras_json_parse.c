/* Reading fer.json: Keras layer configs -> fer_keras_model. Every refusal
 * names the file, the layer (position, name, class) and what is wrong. */
#include "export/keras_json.h"
#include "nn/read_file.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define MAX_JSON_BYTES ((size_t)64 << 20)

/* The layer being parsed, for messages. */
typedef struct {
    const char *label;
    int index; /* 1-based position in the layer list */
    const char *name, *cls;
    nn_error *err;
} where;

#define REFUSE(w, ...) layer_fail(w, NN_ERR_UNSUPPORTED, __VA_ARGS__)
#define MALFORMED(w, ...) layer_fail(w, NN_ERR_FORMAT, __VA_ARGS__)

static nn_status layer_fail(const where *w, nn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static nn_status layer_fail(const where *w, nn_status code, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nn_fail(w->err, code, "%s: layer %d '%s' (%s): %s", w->label, w->index, w->name, w->cls,
                   what);
}

/* ---- typed lookups: absent keys give the default, wrong types an error -- */

static const cJSON *item(const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static int is_int(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e9;
}

static nn_status get_int(const where *w, const cJSON *cfg, const char *key, int def, int *out)
{
    const cJSON *v = item(cfg, key);
    *out = def;
    if (!v) return NN_OK;
    if (!is_int(v)) return MALFORMED(w, "\"%s\" must be an integer", key);
    *out = (int)v->valuedouble;
    return NN_OK;
}

static nn_status get_num(const where *w, const cJSON *cfg, const char *key, double def, double *out)
{
    const cJSON *v = item(cfg, key);
    *out = def;
    if (!v) return NN_OK;
    if (!cJSON_IsNumber(v)) return MALFORMED(w, "\"%s\" must be a number", key);
    *out = v->valuedouble;
    return NN_OK;
}

/* A Keras pair: [a, b] or a single integer meaning (a, a). */
static nn_status get_pair(const where *w, const cJSON *cfg, const char *key, int def, int p[2])
{
    const cJSON *v = item(cfg, key);
    p[0] = p[1] = def;
    if (!v) return NN_OK;
    if (is_int(v)) {
        p[0] = p[1] = (int)v->valuedouble;
        return NN_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !is_int(cJSON_GetArrayItem(v, 0)) ||
        !is_int(cJSON_GetArrayItem(v, 1)))
        return MALFORMED(w, "\"%s\" must be two integers", key);
    p[0] = (int)cJSON_GetArrayItem(v, 0)->valuedouble;
    p[1] = (int)cJSON_GetArrayItem(v, 1)->valuedouble;
    return NN_OK;
}

static nn_status get_str(const where *w, const cJSON *cfg, const char *key, const char *def,
                         const char **out)
{
    const cJSON *v = item(cfg, key);
    *out = def;
    if (!v) return NN_OK;
    if (!cJSON_IsString(v)) return MALFORMED(w, "\"%s\" must be a string", key);
    *out = v->valuestring;
    return NN_OK;
}

static nn_status get_bool(const where *w, const cJSON *cfg, const char *key, int def, int *out)
{
    const cJSON *v = item(cfg, key);
    *out = def;
    if (!v) return NN_OK;
    if (!cJSON_IsBool(v)) return MALFORMED(w, "\"%s\" must be true or false", key);
    *out = cJSON_IsTrue(v);
    return NN_OK;
}

static nn_status check_channels_last(const where *w, const cJSON *cfg)
{
    const char *df;
    nn_status st = get_str(w, cfg, "data_format", "channels_last", &df);
    if (st) return st;
    if (strcmp(df, "channels_last"))
        return REFUSE(w, "data_format \"%s\" is not supported: the toolkit is channels-last, "
                         "like Keras' default", df);
    return NN_OK;
}

/* The input shape a first layer declares: batch_input_shape [null,H,W,C]
 * (Keras 2), batch_shape (Keras 3), input_shape [H,W,C], or Keras 3's
 * build_config. Returns 1 if found, 0 if none, -1 on a malformed one. */
static int input_shape(const cJSON *layer, const cJSON *cfg, int hwc[3])
{
    const cJSON *v = NULL;
    int skip = 1;
    if ((v = item(cfg, "batch_input_shape")) || (v = item(cfg, "batch_shape"))) {
    } else if ((v = item(cfg, "input_shape"))) {
        skip = 0;
    } else {
        const cJSON *bc = item(layer, "build_config");
        if (!bc || !(v = item(bc, "input_shape"))) return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3 + skip) return -1;
    for (int i = 0; i < 3; i++) {
        const cJSON *d = cJSON_GetArrayItem(v, i + skip);
        if (!is_int(d) || d->valuedouble < 1) return -1;
        hwc[i] = (int)d->valuedouble;
    }
    return 1;
}

/* ---- the parse ------------------------------------------------------------ */

typedef struct {
    int h, w, c, flat;   /* tensor shape after the layers so far */
    int have_input;
    int net_started;     /* a network layer was seen: no more preprocessing */
    int last_weighted;   /* arch index of the latest conv/dense, -1 none */
} state;

static nn_status activation_of(const where *w, const cJSON *cfg, const char **act)
{
    nn_status st = get_str(w, cfg, "activation", "linear", act);
    if (st) return st;
    if (strcmp(*act, "linear") && strcmp(*act, "relu") && strcmp(*act, "softmax"))
        return REFUSE(w, "activation \"%s\" is not supported (relu, linear, softmax)", *act);
    return NN_OK;
}

static nn_status parse_conv(const where *w, const cJSON *cfg, state *s, nn_layer_spec *L,
                            fer_keras_layer *K)
{
    int k[2], strides[2], dil[2], groups;
    const char *pad, *act;
    nn_status st;
    if ((st = get_int(w, cfg, "filters", 0, &L->filters)) || (st = get_pair(w, cfg, "kernel_size", 0, k)) ||
        (st = get_pair(w, cfg, "strides", 1, strides)) || (st = get_pair(w, cfg, "dilation_rate", 1, dil)) ||
        (st = get_int(w, cfg, "groups", 1, &groups)) || (st = get_str(w, cfg, "padding", "valid", &pad)) ||
        (st = get_bool(w, cfg, "use_bias", 1, &K->use_bias)) || (st = activation_of(w, cfg, &act)) ||
        (st = check_channels_last(w, cfg)))
        return st;
    if (L->filters < 1 || k[0] < 1 || k[1] < 1 || k[0] > 64 || k[1] > 64)
        return MALFORMED(w, "needs filters >= 1 and kernel_size in 1..64");
    if (strides[0] != 1 || strides[1] != 1)
        return REFUSE(w, "strides (%d, %d) are not supported (only 1)", strides[0], strides[1]);
    if (dil[0] != 1 || dil[1] != 1)
        return REFUSE(w, "dilation_rate (%d, %d) is not supported (only 1)", dil[0], dil[1]);
    if (groups != 1) return REFUSE(w, "groups %d is not supported (only 1)", groups);
    if (!strcmp(act, "softmax")) return REFUSE(w, "softmax is only supported on the last Dense layer");
    if (strcmp(pad, "valid") && strcmp(pad, "same"))
        return REFUSE(w, "padding \"%s\" is not supported (valid, same)", pad);
    if (s->flat) return REFUSE(w, "Conv2D after Flatten is not supported");
    L->kind = NN_LAYER_CONV;
    L->kh = k[0];
    L->kw = k[1];
    L->padding = strcmp(pad, "same") ? NN_PAD_VALID : NN_PAD_SAME;
    L->activation = strcmp(act, "relu") ? NN_ACT_NONE : NN_ACT_RELU;
    if (L->padding == NN_PAD_VALID) {
        if (s->h < L->kh || s->w < L->kw)
            return MALFORMED(w, "a %dx%d kernel does not fit the %dx%d input", L->kh, L->kw, s->h, s->w);
        s->h -= L->kh - 1;
        s->w -= L->kw - 1;
    }
    s->c = L->filters;
    return NN_OK;
}

static nn_status parse_pool(const where *w, const cJSON *cfg, state *s, nn_layer_spec *L)
{
    int pool[2], strides[2];
    const char *pad;
    nn_status st;
    if ((st = get_pair(w, cfg, "pool_size", 2, pool)) || (st = get_str(w, cfg, "padding", "valid", &pad)) ||
        (st = check_channels_last(w, cfg)))
        return st;
    if ((st = get_pair(w, cfg, "strides", pool[0], strides))) return st;
    if (!item(cfg, "strides")) strides[1] = pool[1]; /* Keras: strides default to pool_size */
    if (pool[0] != 2 || pool[1] != 2 || strides[0] != 2 || strides[1] != 2)
        return REFUSE(w, "pool_size (%d, %d) with strides (%d, %d) is not supported (only 2x2, stride 2)",
                      pool[0], pool[1], strides[0], strides[1]);
    if (s->flat) return REFUSE(w, "pooling after Flatten is not supported");
    /* 'same' pads only when a side is odd; on even sides it equals 'valid'. */
    if (strcmp(pad, "valid") && !(strcmp(pad, "same") == 0 && s->h % 2 == 0 && s->w % 2 == 0))
        return REFUSE(w, "padding \"%s\" on a %dx%d input is not supported (valid, or same on even sides)",
                      pad, s->h, s->w);
    if (s->h < 2 || s->w < 2) return MALFORMED(w, "a 2x2 pool does not fit the %dx%d input", s->h, s->w);
    L->kind = NN_LAYER_MAXPOOL;
    s->h /= 2;
    s->w /= 2;
    return NN_OK;
}

static nn_status parse_dense(const where *w, const cJSON *cfg, state *s, nn_layer_spec *L,
                             fer_keras_layer *K, int is_last)
{
    const char *act;
    nn_status st;
    if ((st = get_int(w, cfg, "units", 0, &L->units)) || (st = get_bool(w, cfg, "use_bias", 1, &K->use_bias)) ||
        (st = activation_of(w, cfg, &act)))
        return st;
    if (L->units < 1) return MALFORMED(w, "needs units >= 1");
    if (!s->flat)
        return REFUSE(w, "Dense on a %dx%dx%d tensor (Keras applies it per pixel) is not supported: "
                         "put a Flatten before it", s->h, s->w, s->c);
    if (!strcmp(act, "softmax")) {
        if (!is_last) return REFUSE(w, "softmax is only supported on the last layer");
        K->softmax = 1;
    }
    L->kind = NN_LAYER_DENSE;
    L->activation = strcmp(act, "relu") ? NN_ACT_NONE : NN_ACT_RELU;
    s->c = L->units;
    return NN_OK;
}

/* Activation / ReLU layers: relu folds into the latest conv or dense (exact
 * even across pooling, dropout and flatten, which commute with a monotone
 * non-negative function); softmax must end the model. */
static nn_status parse_activation(const where *w, const cJSON *cfg, int is_relu_layer, state *s,
                                  fer_keras_model *km, fer_keras_layer *K, int is_last)
{
    const char *act = "relu";
    nn_status st;
    if (is_relu_layer) {
        double max_value, slope, threshold;
        const cJSON *mv = item(cfg, "max_value");
        if ((st = get_num(w, cfg, "negative_slope", 0, &slope)) ||
            (st = get_num(w, cfg, "threshold", 0, &threshold)) ||
            (st = get_num(w, cfg, "max_value", 0, &max_value)))
            return st;
        if (mv || slope != 0 || threshold != 0)
            return REFUSE(w, "only the plain ReLU is supported (no max_value, negative_slope, threshold)");
    } else if ((st = activation_of(w, cfg, &act))) {
        return st;
    }
    K->arch_layer = s->last_weighted;
    if (!strcmp(act, "linear")) return NN_OK;
    if (s->last_weighted < 0) return REFUSE(w, "%s before any Conv2D or Dense layer", act);
    nn_layer_spec *L = &km->arch.layers[s->last_weighted];
    if (!strcmp(act, "softmax")) {
        if (!is_last || L->kind != NN_LAYER_DENSE || s->last_weighted != km->arch.n_layers - 1)
            return REFUSE(w, "softmax is only supported as the last layer, after the last Dense");
        for (int i = 0; i < km->n_layers; i++)
            if (km->layers[i].softmax) return REFUSE(w, "softmax applied twice");
        K->softmax = 1;
        return NN_OK;
    }
    if (L->activation == NN_ACT_RELU) return NN_OK; /* relu(relu(x)) = relu(x) */
    L->activation = NN_ACT_RELU;
    return NN_OK;
}

static nn_status parse_normalization(const where *w, const cJSON *cfg, const fer_keras_model *km,
                                     fer_keras_layer *K)
{
    int invert;
    nn_status st = get_bool(w, cfg, "invert", 0, &invert);
    if (st) return st;
    if (invert) return REFUSE(w, "invert=true is not supported");
    if (fer_keras_find(km, FER_KL_NORMALIZATION) >= 0)
        return REFUSE(w, "only one Normalization layer is supported");
    const cJSON *axis = item(cfg, "axis");
    if (axis && !is_int(axis) && !cJSON_IsArray(axis)) return MALFORMED(w, "\"axis\" must be integers");
    for (int i = 0; axis && cJSON_IsArray(axis) && i < cJSON_GetArraySize(axis); i++)
        if (!is_int(cJSON_GetArrayItem(axis, i)) || cJSON_GetArrayItem(axis, i)->valuedouble == 0)
            return MALFORMED(w, "\"axis\" must be non-batch axes");
    const cJSON *mean = item(cfg, "mean"), *var = item(cfg, "variance");
    if (!mean && !var) return NN_OK; /* statistics are weights (adapt()) */
    if (!cJSON_IsNumber(mean) || !cJSON_IsNumber(var))
        return REFUSE(w, "mean and variance given in the config are only supported as two numbers");
    K->inline_stats = 1;
    K->mean = (float)mean->valuedouble;
    K->variance = (float)var->valuedouble;
    return NN_OK;
}

static nn_status parse_layer(const where *w, const cJSON *cfg, int is_last,
                             state *s, fer_keras_model *km)
{
    const char *cls = w->cls;
    fer_keras_layer *K = &km->layers[km->n_layers];
    memset(K, 0, sizeof *K);
    K->arch_layer = -1;
    if (strlen(w->name) >= sizeof K->name) return MALFORMED(w, "name too long");
    snprintf(K->name, sizeof K->name, "%s", w->name);
    for (int i = 0; i < km->n_layers; i++)
        if (!strcmp(km->layers[i].name, K->name)) return MALFORMED(w, "a second layer of that name");

    if (!strcmp(cls, "Normalization") || !strcmp(cls, "Rescaling")) {
        if (s->net_started)
            return REFUSE(w, "%s is only supported before the network (as preprocessing)", cls);
        nn_status st;
        if (cls[0] == 'N') {
            K->kind = FER_KL_NORMALIZATION;
            if ((st = parse_normalization(w, cfg, km, K))) return st;
        } else {
            double scale, offset;
            K->kind = FER_KL_RESCALING;
            if (fer_keras_find(km, FER_KL_RESCALING) >= 0)
                return REFUSE(w, "only one Rescaling layer is supported");
            if ((st = get_num(w, cfg, "scale", 1, &scale)) || (st = get_num(w, cfg, "offset", 0, &offset)))
                return st;
            if (!(scale > 0) || !isfinite(scale) || !isfinite(offset))
                return REFUSE(w, "scale must be positive and finite");
            K->scale = (float)scale;
            K->offset = (float)offset;
        }
        km->n_layers++;
        return NN_OK;
    }
    if (!strcmp(cls, "Activation") || !strcmp(cls, "ReLU")) {
        K->kind = FER_KL_ACTIVATION;
        nn_status st = parse_activation(w, cfg, cls[0] == 'R', s, km, K, is_last);
        if (!st) km->n_layers++;
        return st;
    }

    static const char *const net_classes[] = {"Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense"};
    int which = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(cls, net_classes[i])) which = i;
    if (which < 0)
        return REFUSE(w, "this layer type is not supported (supported: InputLayer, Normalization, "
                         "Rescaling, Conv2D, MaxPooling2D, Dropout, Flatten, Dense, Activation, ReLU)");
    if (km->arch.n_layers == NN_MAX_LAYERS) return REFUSE(w, "more than %d layers", NN_MAX_LAYERS);
    nn_layer_spec *L = &km->arch.layers[km->arch.n_layers];
    memset(L, 0, sizeof *L);
    K->arch_layer = km->arch.n_layers;
    s->net_started = 1;
    nn_status st = NN_OK;
    double rate;
    switch (which) {
    case 0:
        K->kind = FER_KL_CONV2D;
        st = parse_conv(w, cfg, s, L, K);
        s->last_weighted = K->arch_layer;
        break;
    case 1:
        K->kind = FER_KL_MAXPOOL2D;
        st = parse_pool(w, cfg, s, L);
        break;
    case 2:
        K->kind = FER_KL_DROPOUT;
        L->kind = NN_LAYER_DROPOUT;
        if ((st = get_num(w, cfg, "rate", -1, &rate))) break;
        L->rate = (float)rate;
        if (!(L->rate >= 0.0f && L->rate < 1.0f)) st = MALFORMED(w, "\"rate\" must be in [0, 1)");
        break;
    case 3:
        K->kind = FER_KL_FLATTEN;
        L->kind = NN_LAYER_FLATTEN;
        if ((st = check_channels_last(w, cfg))) break;
        if (s->flat) st = REFUSE(w, "Flatten of a tensor that is already flat");
        s->c *= s->h * s->w;
        s->h = s->w = 1;
        s->flat = 1;
        break;
    case 4:
        K->kind = FER_KL_DENSE;
        st = parse_dense(w, cfg, s, L, K, is_last);
        s->last_weighted = K->arch_layer;
        break;
    }
    if (st) return st;
    km->arch.n_layers++;
    km->n_layers++;
    return NN_OK;
}

static nn_status parse_root(const cJSON *root, const char *label, fer_keras_model *km, nn_error *err)
{
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "class_name");
    if (!cJSON_IsObject(root) || !cJSON_IsString(cls))
        return nn_fail(err, NN_ERR_FORMAT, "%s: not a Keras model description (no \"class_name\")", label);
    if (strcmp(cls->valuestring, "Sequential"))
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: a Keras \"%s\" model; only Sequential models are supported",
                       label, cls->valuestring);
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    const cJSON *layers = cJSON_IsArray(config) ? config /* Keras < 2.2: the bare list */
                                                : cJSON_GetObjectItemCaseSensitive(config, "layers");
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) == 0)
        return nn_fail(err, NN_ERR_FORMAT, "%s: the Sequential model has no \"layers\" list", label);

    state s = {.last_weighted = -1};
    const int n = cJSON_GetArraySize(layers);
    for (int i = 0; i < n; i++) {
        const cJSON *layer = cJSON_GetArrayItem(layers, i);
        const cJSON *lcls = cJSON_GetObjectItemCaseSensitive(layer, "class_name");
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(layer, "config");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(cfg, "name");
        where w = {label, i + 1, cJSON_IsString(name) ? name->valuestring : "?",
                   cJSON_IsString(lcls) ? lcls->valuestring : "?", err};
        if (!cJSON_IsString(lcls) || !cJSON_IsObject(cfg) || !cJSON_IsString(name))
            return MALFORMED(&w, "a layer needs \"class_name\" and a \"config\" with a \"name\"");
        if (!s.have_input) {
            int hwc[3], r = input_shape(layer, cfg, hwc);
            if (r < 0) return MALFORMED(&w, "malformed input shape (expected [null, H, W, C])");
            if (r > 0) {
                if (hwc[2] != 1)
                    return REFUSE(&w, "input of %d channels; the toolkit's models take grey images (1 channel)",
                                  hwc[2]);
                km->arch.in_h = s.h = hwc[0];
                km->arch.in_w = s.w = hwc[1];
                km->arch.in_c = s.c = hwc[2];
                s.have_input = 1;
            }
        }
        if (!strcmp(lcls->valuestring, "InputLayer")) {
            if (i != 0) return REFUSE(&w, "an InputLayer is only supported first");
            continue; /* Keras keeps no weights and no layer_names entry for it */
        }
        if (!s.have_input)
            return nn_fail(err, NN_ERR_FORMAT, "%s: the first layer declares no input shape "
                           "(batch_input_shape)", label);
        if (km->n_layers == FER_KERAS_MAX_LAYERS) return REFUSE(&w, "too many layers");
        nn_status st = parse_layer(&w, cfg, i == n - 1, &s, km);
        if (st) return st;
    }
    if (km->arch.n_layers == 0 || km->arch.layers[km->arch.n_layers - 1].kind != NN_LAYER_DENSE)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: the model must end in a Dense layer (the class scores)",
                       label);
    for (int i = 0; i < km->n_layers; i++)
        if (km->layers[i].softmax) km->softmax_output = 1;
    if (!km->softmax_output && km->arch.layers[km->arch.n_layers - 1].activation == NN_ACT_RELU)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: the last Dense layer ends in relu; expected softmax "
                       "or linear class scores", label);
    /* The model file stores the description as text: it must read back (sizes
     * within the grammar's limits, text short enough). */
    char text[4096];
    nn_arch check;
    if (nn_arch_format(&km->arch, text, sizeof text) >= sizeof text)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: the network is too large to describe", label);
    if (nn_arch_parse(text, &check, err)) return nn_error_prefix(err, "%s: unsupported network", label);
    return NN_OK;
}

nn_status fer_keras_json_parse(const char *text, size_t len, const char *label,
                               fer_keras_model *km, nn_error *err)
{
    memset(km, 0, sizeof *km);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        const char *at = end ? end : cJSON_GetErrorPtr();
        if (!at || at < text || at > text + len) at = text;
        int line = 1;
        for (const char *p = text; p < at; p++) line += *p == '\n';
        char near[24] = {0};
        size_t k = 0;
        for (const char *p = at; p < text + len && k < sizeof near - 1 && *p != '\n'; p++) near[k++] = *p;
        return nn_fail(err, NN_ERR_FORMAT, "%s:%d: not valid JSON (near '%s')", label, line, near);
    }
    nn_status st = parse_root(root, label, km, err);
    cJSON_Delete(root);
    if (st) memset(km, 0, sizeof *km);
    return st;
}

nn_status fer_keras_json_load(const char *path, fer_keras_model *km, nn_error *err)
{
    memset(km, 0, sizeof *km);
    uint8_t *bytes = NULL;
    size_t len = 0;
    nn_status st = nn_read_file(path, MAX_JSON_BYTES, "model description", &bytes, &len, err);
    char *text = (char *)bytes;
    if (!st && len >= 4 && !memcmp(text, "\x89HDF", 4))
        st = nn_fail(err, NN_ERR_FORMAT, "%s: an HDF5 file, not the JSON model description "
                     "(are the JSON and HDF5 arguments swapped?)", path);
    if (!st) st = fer_keras_json_parse(text, len, path, km, err);
    free(text);
    return st;
}
