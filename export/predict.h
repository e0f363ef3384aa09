/* predict.h: class probabilities for rows of a data set, the one routine
 * behind validation in training and fer-eval, so both measure the same way. */
#ifndef EXPORT_PREDICT_H
#define EXPORT_PREDICT_H

#include "data/fer_dataset.h"
#include "data/standardize.h"
#include "nn/model.h"

/* Test-time augmentation: the probabilities of several views of a face,
 * averaged. */
typedef enum {
    FER_TTA_NONE = 0,   /* the image alone */
    FER_TTA_MIRROR = 1, /* the image and its mirror: 2 views */
    FER_TTA_SHIFTS = 2, /* each of those as is and moved by FER_TTA_SHIFT_PX
                           pixels left, right, up and down (edges replicated,
                           as in training's augmentation): 10 views */
} fer_tta;

#define FER_TTA_SHIFT_PX 2.0f

/* Mode from an option value: NULL or "mirror" -> FER_TTA_MIRROR, "shifts" ->
 * FER_TTA_SHIFTS, "none" -> FER_TTA_NONE; -1 for anything else. */
int fer_tta_parse(const char *name);

/* Views of a mode (1, 2 or 10); 0 for a value that is no mode. */
int fer_tta_views(fer_tta tta);

/* "none", "mirror", "mirror+shifts"; "?" for a value that is no mode. */
const char *fer_tta_name(fer_tta tta);

/* probs (n * net->n_classes) for rows idx[0..n) of ds: each image (each of
 * its TTA views) standardised with norm, run through net in inference mode
 * in batches of its allocated size. Allocates its own scratch. */
nn_status fer_predict_rows(nn_model *net, const fer_standardizer *norm, const fer_dataset *ds,
                           const uint32_t *idx, uint32_t n, fer_tta tta, float *probs,
                           nn_error *err);

#endif
