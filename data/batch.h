/* batch.h: turns rows of a fer_dataset into the network's input, the call
 * made once per training or evaluation step.
 *
 * For each listed row: bytes -> floats (grey levels), then the random
 * augmentation (training only; data/augment.h), then the per-pixel
 * standardisation (data/standardize.h). That order matters: the statistics
 * describe raw images, and rotating a standardised image would blend
 * values standardised by different pixels' statistics.
 *
 * Reproducibility: all random draws are taken from rng one image after the
 * other, in the order of indices, before any image is transformed; the
 * transforms then run on aug->threads OpenMP threads (default: the calling
 * thread alone) and each output depends only on its own row and parameters.
 * So the same rng state and indices give bit-identical batches whatever the
 * number of threads, and however a list is cut into batches.
 */
#ifndef FER_BATCH_H
#define FER_BATCH_H

#include <stdint.h>
#include "data/augment.h"
#include "data/fer_dataset.h"
#include "data/standardize.h"
#include "nn/error.h"
#include "nn/rng.h"

/* Fills out_images with n images, image i being row indices[i] of ds:
 * n*h*w floats, image after image, each row-major (NCHW with C = 1), and
 * out_labels (when non-NULL) with their labels.
 *
 * st:  the standardiser (h, w must match ds); NULL leaves raw grey levels
 *      0..255, e.g. to look at augmented images.
 * aug: NULL = no augmentation (evaluation); otherwise must pass
 *      fer_augment_check, and rng advances by the draws of n images.
 * rng: needed only when aug is non-NULL.
 * The caller owns every buffer; nothing is allocated. Errors (NN_ERR_ARG,
 * nothing written): NULL pointers, n < 0, a row index out of range, sizes of
 * st and ds that differ, bad aug. n = 0 does nothing. */
nn_status fer_batch_fill(const fer_dataset *ds, const uint32_t *indices, int n, const fer_standardizer *st,
                         const fer_augment_opts *aug, nn_rng *rng, float *out_images, int32_t *out_labels,
                         nn_error *err);

#endif
