/* batch.c: fer_batch_fill (contract in batch.h). */
#include "data/batch.h"

#include <stddef.h>

/* Parameters are drawn for this many images at a time, so there is no
 * allocation and the draw order is the image order. */
#define CHUNK 256

nn_status fer_batch_fill(const fer_dataset *ds, const uint32_t *indices, int n, const fer_standardizer *st,
                         const fer_augment_opts *aug, nn_rng *rng, float *out_images, int32_t *out_labels,
                         nn_error *err)
{
    if (!ds || n < 0 || (n > 0 && (!indices || !out_images)))
        return nn_fail(err, NN_ERR_ARG, "fer_batch_fill: NULL argument or negative count %d", n);
    if (st && (st->h != ds->h || st->w != ds->w || !st->mean || !st->std))
        return nn_fail(err, NN_ERR_ARG, "fer_batch_fill: standardiser is %dx%d, images are %dx%d", st->h, st->w,
                       ds->h, ds->w);
    if (aug) {
        nn_status rc = fer_augment_check(aug, err);
        if (rc) return rc;
        if (!rng) return nn_fail(err, NN_ERR_ARG, "fer_batch_fill: augmentation needs an rng");
    }
    for (int i = 0; i < n; i++)
        if (indices[i] >= (uint32_t)ds->n)
            return nn_fail(err, NN_ERR_ARG, "fer_batch_fill: row %u (batch position %d) out of range (data set has %d)",
                           indices[i], i, ds->n);

    const int h = ds->h, w = ds->w;
    const int threads = aug && aug->threads > 1 ? aug->threads : 1;
    const size_t hw = (size_t)h * (size_t)w;
    fer_augment_params params[CHUNK];
    for (int base = 0; base < n; base += CHUNK) {
        int count = n - base < CHUNK ? n - base : CHUNK;
        for (int k = 0; k < count; k++) {
            if (aug) fer_augment_draw(aug, rng, &params[k]);
            else params[k] = (fer_augment_params){0};
        }
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && count > 1)
        for (int k = 0; k < count; k++) {
            int i = base + k;
            const uint8_t *src = fer_dataset_image(ds, (int)indices[i]);
            float *dst = out_images + (size_t)i * hw;
            if (aug) {
                fer_augment_u8(src, h, w, &params[k], dst);
                if (st) fer_standardize_f32(st, dst);
            } else if (st) {
                fer_standardize_u8(st, src, dst);
            } else {
                for (size_t p = 0; p < hw; p++) dst[p] = (float)src[p];
            }
        }
    }
    if (out_labels)
        for (int i = 0; i < n; i++) out_labels[i] = ds->labels[indices[i]];
    return NN_OK;
}
