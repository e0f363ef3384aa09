/* keras_json.h: the Keras model description, fer.json -- what Keras 2.x's
 * model.to_json() writes and keras.models.model_from_json() reads:
 *
 *   {"class_name": "Sequential",
 *    "config": {"name": "fer", "layers": [{"class_name": "Conv2D",
 *                                          "config": {"name": "conv2d_1", ...}}, ...]},
 *    "keras_version": "2.7.0", "backend": "tensorflow"}
 *
 * Reading accepts what Keras 2.x writes for the layers of keras_model.h: the
 * config as an object or (Keras < 2.2) a bare layer list, an InputLayer
 * first, input shape as batch_input_shape, batch_shape or input_shape, and
 * refuses anything it cannot run exactly (strides, dilation, channels_first,
 * other activations, other layer types) with a message naming the layer.
 */
#ifndef EXPORT_KERAS_JSON_H
#define EXPORT_KERAS_JSON_H

#include <stddef.h>

#include "export/keras_model.h"
#include "nn/error.h"

/* The Keras version written into fer.json and fer.h5 (Keras reads it only to
 * convert Keras 1 files): a release whose Normalization layer and
 * load_weights the export is written against (docs/model-format.md). */
#define FER_KERAS_VERSION "2.7.0"

/* Formats km as a Keras Sequential named model_name; *text is malloc'd
 * (caller frees), NUL-terminated. */
nn_status fer_keras_json_format(const fer_keras_model *km, const char *model_name, char **text,
                                nn_error *err);

/* Parses a Keras model description of len bytes; label names the source in
 * messages ("fer.json: layer 3 'conv2d_2' (Conv2D): strides (2, 2) ..."). On
 * success km describes the layers and km->arch is a valid nn_arch. */
nn_status fer_keras_json_parse(const char *text, size_t len, const char *label,
                               fer_keras_model *km, nn_error *err);

/* Reads and parses the file at path (up to 64 MiB). */
nn_status fer_keras_json_load(const char *path, fer_keras_model *km, nn_error *err);

#endif
