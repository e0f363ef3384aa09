/* keras_h5.h: the Keras 2.x weights file, fer.h5 -- the HDF5 layout that
 * model.save_weights() writes and model.load_weights() reads (libhdf5's C API):
 *
 *   /                      attributes layer_names (every layer, weightless ones
 *                          too), backend "tensorflow", keras_version
 *   /<layer>/              one group per layer, attribute weight_names, e.g.
 *                          ["conv2d_1/kernel:0", "conv2d_1/bias:0"] (empty for
 *                          pooling, dropout, flatten)
 *   /<layer>/<layer>/kernel:0   float32 (kh, kw, in, out) or (in, out)
 *   /<layer>/<layer>/bias:0     float32 (out)
 *   /normalization_1/normalization_1/{mean,variance}:0  float32 (h, w, 1),
 *                          count:0 int64 scalar (Keras keeps it; we write 0)
 *
 * and, ignored by Keras, what makes the file self-contained for the toolkit:
 *   root attribute fer_class_names   the class names, in output order
 *   root attribute fer_meta          the model file's free text
 *   /fer_standardization/{mean,std}  float32 (h, w), only when the model has
 *                                    no Normalization layer to carry them
 *
 * Reading follows Keras' own rule: the layers of layer_names that have
 * weights are matched, in order, with the layers of the description that
 * have weights, and every weight's shape must be the one the description
 * implies. A full-model file (model.save(): the same layout under
 * /model_weights) is read too.
 */
#ifndef EXPORT_KERAS_H5_H
#define EXPORT_KERAS_H5_H

#include <stddef.h>
#include <stdint.h>

#include "export/keras_model.h"
#include "export/model_file.h"

typedef struct {
    const fer_keras_model *km;
    const nn_model *net;            /* built from km->arch: the Conv2D/Dense weights */
    const fer_standardizer *norm;   /* the Normalization layer's mean and variance
                                       (std squared), or /fer_standardization */
    int n_classes;
    const char *const *class_names; /* n_classes names */
    const char *meta;               /* may be NULL (then no fer_meta) */
} fer_keras_h5_contents;

/* The complete file as bytes (built in memory through HDF5's core driver, so
 * the caller can write it atomically). *image is malloc'd; caller frees. */
nn_status fer_keras_h5_serialize(const fer_keras_h5_contents *c, uint8_t **image, size_t *len,
                                 nn_error *err);

/* What the file holds besides the layer weights. Owned: fer_keras_h5_extras_free. */
typedef struct {
    float *norm_mean, *norm_var; /* the Normalization layer's weights, h*w each
                                    (broadcast from a single value); NULL if km has
                                    none or it has its statistics inline */
    float *std_mean, *std_std;   /* /fer_standardization, h*w each; NULL if absent */
    int n_classes;               /* fer_class_names; 0 if absent */
    char class_names[FER_MAX_CLASSES][FER_CLASS_NAME_MAX];
    char *meta;                  /* fer_meta; NULL if absent */
} fer_keras_h5_extras;

/* Reads the weights of km's layers from the file at path into net (built from
 * km->arch; layers without a bias in Keras get zero bias) and the extras into
 * *x. model_label names the description in messages (e.g. "fer.json").
 * Errors name the file, the layer, the dataset and the shapes involved. On
 * failure *x owns nothing; net's weights may be partly written. */
nn_status fer_keras_h5_load(const char *path, const char *model_label, const fer_keras_model *km,
                            nn_model *net, fer_keras_h5_extras *x, nn_error *err);

void fer_keras_h5_extras_free(fer_keras_h5_extras *x);

/* The model_config attribute of a full-model file (the model's JSON), as a
 * malloc'd string, or *json = NULL when the file has none. */
nn_status fer_keras_h5_model_config(const char *path, char **json, nn_error *err);

#endif
