#include "export/keras.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/fer_dataset.h"
#include "export/keras_h5.h"
#include "export/keras_json.h"
#include "nn/atomic_file.h"

/* ---- export ------------------------------------------------------------------- */

/* Both files go to temporary names first and are renamed only when both are
 * complete: the larger HDF5 first, so the only pair a crash between the two
 * renames can leave is a new fer.h5 beside the previous fer.json. */
static nn_status write_pair(const char *json_path, const char *json, const char *h5_path,
                            const uint8_t *h5, size_t h5_len, nn_error *err)
{
    nn_atomic_file aj, ah;
    nn_status st = nn_atomic_open(&ah, h5_path, err);
    if (st) return st;
    if ((st = nn_atomic_open(&aj, json_path, err))) {
        nn_atomic_abort(&ah);
        return st;
    }
    st = nn_atomic_write(&ah, h5, h5_len, err);
    if (!st) st = nn_atomic_write(&aj, json, strlen(json), err);
    if (!st) st = nn_atomic_write(&aj, "\n", 1, err);
    if (st) {
        nn_atomic_abort(&ah);
        nn_atomic_abort(&aj);
        return st;
    }
    if ((st = nn_atomic_commit(&ah, err))) {
        nn_atomic_abort(&aj);
        return st;
    }
    return nn_atomic_commit(&aj, err);
}

nn_status fer_keras_export(const fer_model_contents *c, const char *json_path, const char *h5_path,
                           const fer_keras_export_opts *opts, nn_error *err)
{
    if (!c || !c->net || !c->norm || !c->class_names || !json_path || !h5_path)
        return nn_fail(err, NN_ERR_ARG, "Keras export: network, statistics, class names and paths are required");
    const nn_model *net = c->net;
    if (c->n_classes != net->n_classes)
        return nn_fail(err, NN_ERR_ARG, "Keras export: %d class names for a %d-class network", c->n_classes,
                       net->n_classes);
    if (c->norm->h != net->arch.in_h || c->norm->w != net->arch.in_w || net->arch.in_c != 1)
        return nn_fail(err, NN_ERR_ARG, "Keras export: %dx%d statistics for a %dx%dx%d input", c->norm->h,
                       c->norm->w, net->arch.in_h, net->arch.in_w, net->arch.in_c);
    fer_keras_export_opts defaults = {0};
    if (!opts) opts = &defaults;

    fer_keras_model *km = malloc(sizeof *km);
    if (!km) return nn_fail(err, NN_ERR_NOMEM, "Keras export: out of memory");
    fer_keras_model_from_net(net, !opts->no_normalization_layer, km);
    char *json = NULL;
    uint8_t *h5 = NULL;
    size_t h5_len = 0;
    nn_status st = fer_keras_json_format(km, opts->model_name ? opts->model_name : "fer", &json, err);
    fer_keras_h5_contents hc = {km, net, c->norm, c->n_classes, c->class_names, c->meta};
    if (!st) st = fer_keras_h5_serialize(&hc, &h5, &h5_len, err);
    if (!st) st = write_pair(json_path, json, h5_path, h5, h5_len, err);
    free(json);
    free(h5);
    free(km);
    return st;
}

/* ---- import ------------------------------------------------------------------- */

/* The per-pixel affine map x -> (x - mean) / std that the preprocessing
 * layers apply, composed in their order. A lone Normalization layer gives
 * back its mean and sqrt(variance) exactly. */
static nn_status compose_stats(const fer_keras_model *km, const fer_keras_h5_extras *x,
                               fer_standardizer *norm, const char *label, nn_error *err)
{
    const size_t px = (size_t)norm->h * norm->w;
    int first = 1; /* the first map is taken as is, not composed with the identity */
    for (int i = 0; i < km->n_layers; i++) {
        const fer_keras_layer *L = &km->layers[i];
        if (L->kind != FER_KL_NORMALIZATION && L->kind != FER_KL_RESCALING) continue;
        for (size_t p = 0; p < px; p++) {
            float M = first ? 0.0f : norm->mean[p], S = first ? 1.0f : norm->std[p];
            if (L->kind == FER_KL_NORMALIZATION) {
                float m = L->inline_stats ? L->mean : x->norm_mean[p];
                float v = L->inline_stats ? L->variance : x->norm_var[p];
                float sd = fmaxf(sqrtf(v), FER_KERAS_EPSILON);
                norm->mean[p] = first ? m : M + m * S; /* (((x - M) / S) - m) / sd */
                norm->std[p] = first ? sd : S * sd;
            } else {
                norm->mean[p] = M - L->offset * S / L->scale; /* ((x - M) / S) * scale + offset */
                norm->std[p] = S / L->scale;
            }
        }
        first = 0;
    }
    if (fer_standardizer_check(norm, err)) return nn_error_prefix(err, "%s: preprocessing statistics", label);
    return NN_OK;
}

static nn_status import(const char *label, const fer_keras_model *km, const char *h5_path, int max_batch,
                        fer_model_file *out, fer_keras_import_info *info, nn_error *err)
{
    out->kind = FER_FILE_MODEL;
    if (!(out->net = nn_model_create(&km->arch, max_batch, NN_NO_GRADS, err)))
        return nn_error_prefix(err, "%s", label);
    out->n_classes = out->net->n_classes;
    if (out->n_classes > FER_MAX_CLASSES)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: %d classes; model files hold at most %d", label,
                       out->n_classes, FER_MAX_CLASSES);
    fer_keras_h5_extras x;
    nn_status st = fer_keras_h5_load(h5_path, label, km, out->net, &x, err);
    if (st) return st;
    st = fer_standardizer_alloc(&out->norm, km->arch.in_h, km->arch.in_w, err);
    const int has_layers = fer_keras_find(km, FER_KL_NORMALIZATION) >= 0 || fer_keras_find(km, FER_KL_RESCALING) >= 0;
    if (!st && has_layers) {
        st = compose_stats(km, &x, &out->norm, label, err);
        info->stats = FER_KERAS_STATS_LAYERS;
    } else if (!st && x.std_mean) {
        const size_t px = (size_t)km->arch.in_h * km->arch.in_w;
        memcpy(out->norm.mean, x.std_mean, px * sizeof(float));
        memcpy(out->norm.std, x.std_std, px * sizeof(float));
        if (fer_standardizer_check(&out->norm, err))
            st = nn_error_prefix(err, "%s: /fer_standardization", h5_path);
        info->stats = FER_KERAS_STATS_EXTRA;
    }
    for (int k = 0; !st && k < out->n_classes; k++) {
        if (x.n_classes)
            memcpy(out->class_names[k], x.class_names[k], sizeof out->class_names[k]);
        else if (out->n_classes == FER_NUM_CLASSES)
            snprintf(out->class_names[k], sizeof out->class_names[k], "%s", fer_class_name(k));
        else
            snprintf(out->class_names[k], sizeof out->class_names[k], "class_%d", k);
    }
    info->class_names_stored = x.n_classes > 0;
    info->meta_stored = x.meta != NULL;
    if (!st && x.meta) {
        out->meta = x.meta;
        x.meta = NULL;
    } else if (!st && !x.n_classes) { /* not from fer-export (which marks its files
                                          with fer_class_names): note the source */
        size_t len = strlen(label) + strlen(h5_path) + 64;
        if (!(out->meta = malloc(len))) st = nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", label);
        else snprintf(out->meta, len, "converted from Keras: %s + %s\n", label, h5_path);
    }
    fer_keras_h5_extras_free(&x);
    return st;
}

nn_status fer_keras_import(const char *json_path, const char *h5_path, int max_batch,
                           fer_model_file *out, fer_keras_import_info *info, nn_error *err)
{
    memset(out, 0, sizeof *out);
    fer_keras_import_info local_info;
    if (!info) info = &local_info;
    memset(info, 0, sizeof *info);
    if (!h5_path || max_batch < 1) return nn_fail(err, NN_ERR_ARG, "Keras import: no weights file");
    fer_keras_model *km = malloc(sizeof *km);
    if (!km) return nn_fail(err, NN_ERR_NOMEM, "Keras import: out of memory");
    char label[4200];
    nn_status st;
    if (json_path) {
        snprintf(label, sizeof label, "%s", json_path);
        st = fer_keras_json_load(json_path, km, err);
    } else {
        char *json = NULL;
        snprintf(label, sizeof label, "%s (model_config)", h5_path);
        st = fer_keras_h5_model_config(h5_path, &json, err);
        if (!st && !json)
            st = nn_fail(err, NN_ERR_FORMAT, "%s: no model_config attribute (weights only): give the JSON "
                         "model description too", h5_path);
        if (!st) st = fer_keras_json_parse(json, strlen(json), label, km, err);
        free(json);
    }
    if (!st) {
        info->softmax_output = km->softmax_output;
        st = import(label, km, h5_path, max_batch, out, info, err);
    }
    free(km);
    if (st) fer_model_file_free(out);
    return st;
}
