/* keras.h: model files to and from Keras 2.x (docs/model-format.md).
 *
 * Export writes the pair the paper's Keras code uses: fer.json (the
 * Sequential model, keras_json.h) and fer.h5 (its weights, keras_h5.h).
 * Standardisation is not part of the paper's Keras model; to make the pair
 * self-contained, a Normalization layer placed first carries the per-pixel
 * mean and variance (std squared), so the Keras model takes raw grey levels
 * 0..255 just as fer_model_classify_u8 does. Class names and the free-text
 * meta travel as extra HDF5 attributes Keras ignores. Export then import
 * gives back the same model file, byte for byte.
 *
 * Import reads any Keras Sequential of the supported layers (keras_model.h),
 * from our export or from Keras itself.
 */
#ifndef EXPORT_KERAS_H
#define EXPORT_KERAS_H

#include "export/model_file.h"

typedef struct {
    /* 0 (default): a Normalization layer first carries the statistics (for
     * tf.keras >= 2.7). 1: the paper's layer list alone, for older Keras;
     * the statistics then travel in /fer_standardization of fer.h5 (ignored
     * by Keras, so Keras callers must standardise inputs themselves). */
    int no_normalization_layer;
    const char *model_name; /* the Sequential's name; NULL: "fer" */
} fer_keras_export_opts;

/* Writes json_path and h5_path from a model (c->adam and c->train, if any,
 * are not exported: Keras gets a deployable model). Each file is written to
 * a temporary name and renamed into place only after both are complete, so
 * a failure never leaves a half-written file under either final name and
 * leaves previous files there intact. opts may be NULL (defaults). */
nn_status fer_keras_export(const fer_model_contents *c, const char *json_path, const char *h5_path,
                           const fer_keras_export_opts *opts, nn_error *err);

typedef enum {
    FER_KERAS_STATS_NONE,   /* none found: identity (mean 0, std 1), i.e. raw 0..255 input */
    FER_KERAS_STATS_LAYERS, /* from the model's Normalization and/or Rescaling layers */
    FER_KERAS_STATS_EXTRA,  /* from fer.h5's /fer_standardization */
} fer_keras_stats;

typedef struct {
    fer_keras_stats stats;
    int class_names_stored; /* 1: from fer.h5; 0: defaults (the seven FER2013
                               names for 7 outputs, else class_0, class_1, ...) */
    int softmax_output;     /* 0: the Keras model outputs logits; ours adds the
                               softmax, so probabilities differ, rankings do not */
    int meta_stored;        /* 1: meta from fer.h5; 0: none (a file of ours
                               without meta) or a note of the source */
} fer_keras_import_info;

/* Builds a deployable model (kind FER_FILE_MODEL, network for batches of up
 * to max_batch, no gradients) from a Keras description and weights. With
 * json_path NULL, h5_path must be a full-model file (model.save()) whose
 * model_config attribute is the description. out is owned by the caller
 * (fer_model_file_free); on failure it is zeroed and owns nothing. info may
 * be NULL. */
nn_status fer_keras_import(const char *json_path, const char *h5_path, int max_batch,
                           fer_model_file *out, fer_keras_import_info *info, nn_error *err);

#endif
