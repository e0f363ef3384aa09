/* predict.h: class probabilities for rows of a data set, the one routine
 * behind validation in training and fer-eval, so both measure the same way. */
#ifndef EXPORT_PREDICT_H
#define EXPORT_PREDICT_H

#include "data/fer_dataset.h"
#include "data/standardize.h"
#include "nn/model.h"

/* probs (n * net->n_classes) for rows idx[0..n) of ds: each image
 * standardised with norm, run through net in inference mode in batches of
 * its allocated size. tta: average with the probabilities of the mirrored
 * image (test-time augmentation). Allocates its own scratch. */
nn_status fer_predict_rows(nn_model *net, const fer_standardizer *norm, const fer_dataset *ds,
                           const uint32_t *idx, uint32_t n, int tta, float *probs, nn_error *err);

/* Mirrors n images of h x w floats left-right in place. */
void fer_mirror_images(float *img, int n, int h, int w);

#endif
