/* standardize.h: per-pixel standardisation, as in the paper's Keras code.
 *
 * Each pixel position p gets the mean and the standard deviation of its grey
 * level over the training images; an image is fed to the network as
 *
 *     x'[p] = (x[p] - mean[p]) / std[p]
 *
 * The statistics come from the training split only (never from validation or
 * test rows) and travel with the model (export/ stores this struct), so that
 * inference standardises exactly as training did -- the paper's webcam tester
 * divided by 255 instead, a mismatch we do not copy.
 *
 * std is the population standard deviation (divide by n, as numpy's np.std),
 * floored at FER_STD_FLOOR grey levels: a pixel that (nearly) never varies in
 * the training set would otherwise turn the slightest difference at test time
 * into a huge input. One grey level is the quantisation step of the data, so a
 * smaller spread is noise, and with the floor every x' stays within +-255.
 */
#ifndef FER_STANDARDIZE_H
#define FER_STANDARDIZE_H

#include <stdint.h>
#include "data/fer_dataset.h"
#include "nn/error.h"

#define FER_STD_FLOOR 1.0f /* grey levels */

/* Plain data: two float arrays of h*w (row-major) owned by the struct. */
typedef struct {
    int h, w;
    float *mean; /* h*w, grey levels 0..255 */
    float *std;  /* h*w, >= FER_STD_FLOOR */
} fer_standardizer;

/* Allocates arrays for h x w (mean 0, std 1, i.e. the identity), to be
 * filled by the caller, e.g. from a model file. st need not be initialised. */
nn_status fer_standardizer_alloc(fer_standardizer *st, int h, int w, nn_error *err);

/* Computes the statistics of the rows idx[0..n) of ds (idx NULL: rows
 * 0..n-1, so (NULL, ds->n) uses every row).
 * Exact: sums are integer, the variance is formed in 64-bit integers before
 * the one conversion to float. st need not be initialised; on success the
 * caller owns it (fer_standardizer_free). NN_ERR_ARG when n is 0 or an index
 * is out of range; st is then left empty. */
nn_status fer_standardizer_fit(fer_standardizer *st, const fer_dataset *ds, const uint32_t *idx, uint32_t n,
                               nn_error *err);

/* Checks a standardiser read from elsewhere: sizes positive, arrays present,
 * every mean finite and every std finite and > 0. */
nn_status fer_standardizer_check(const fer_standardizer *st, nn_error *err);

/* Releases the arrays and zeroes st; safe on a zeroed struct. */
void fer_standardizer_free(fer_standardizer *st);

/* out[p] = (px[p] - mean[p]) / std[p] for one h x w image of bytes (for
 * inference on a face crop). */
void fer_standardize_u8(const fer_standardizer *st, const uint8_t *px, float *out);

/* The same on grey levels already in floats, in place (img may be any
 * h x w float image, e.g. after augmentation). */
void fer_standardize_f32(const fer_standardizer *st, float *img);

#endif
