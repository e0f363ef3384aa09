/* standardize.c: per-pixel mean / standard deviation (contract in standardize.h). */
#include "data/standardize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nn_status fer_standardizer_alloc(fer_standardizer *st, int h, int w, nn_error *err)
{
    if (!st) return nn_fail(err, NN_ERR_ARG, "fer_standardizer_alloc: NULL argument");
    memset(st, 0, sizeof *st);
    if (h <= 0 || w <= 0 || (long)h * w > (1L << 24))
        return nn_fail(err, NN_ERR_ARG, "fer_standardizer_alloc: bad size %dx%d", h, w);
    size_t hw = (size_t)h * (size_t)w;
    st->mean = malloc(hw * sizeof *st->mean);
    st->std = malloc(hw * sizeof *st->std);
    if (!st->mean || !st->std) {
        fer_standardizer_free(st);
        return nn_fail(err, NN_ERR_NOMEM, "fer_standardizer_alloc: out of memory for %dx%d", h, w);
    }
    for (size_t p = 0; p < hw; p++) {
        st->mean[p] = 0.0f;
        st->std[p] = 1.0f;
    }
    st->h = h;
    st->w = w;
    return NN_OK;
}

void fer_standardizer_free(fer_standardizer *st)
{
    if (!st) return;
    free(st->mean);
    free(st->std);
    memset(st, 0, sizeof *st);
}

nn_status fer_standardizer_fit(fer_standardizer *st, const fer_dataset *ds, const uint32_t *idx, uint32_t n,
                               nn_error *err)
{
    if (!st || !ds) return nn_fail(err, NN_ERR_ARG, "fer_standardizer_fit: NULL argument");
    memset(st, 0, sizeof *st);
    if (!idx && n > (uint32_t)ds->n)
        return nn_fail(err, NN_ERR_ARG, "fer_standardizer_fit: %u rows asked, data set has %d", n, ds->n);
    if (n == 0) return nn_fail(err, NN_ERR_ARG, "fer_standardizer_fit: no training rows");
    for (uint32_t i = 0; idx && i < n; i++)
        if (idx[i] >= (uint32_t)ds->n)
            return nn_fail(err, NN_ERR_ARG, "fer_standardizer_fit: row %u out of range (data set has %d)",
                           idx[i], ds->n);
    nn_status rc = fer_standardizer_alloc(st, ds->h, ds->w, err);
    if (rc) return rc;
    size_t hw = (size_t)ds->h * (size_t)ds->w;
    /* n * 255^2 < 2^63 for any n below 2^32: exact integer sums. */
    uint64_t *sum = calloc(2 * hw, sizeof *sum);
    if (!sum) {
        fer_standardizer_free(st);
        return nn_fail(err, NN_ERR_NOMEM, "fer_standardizer_fit: out of memory");
    }
    uint64_t *sq = sum + hw;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *px = fer_dataset_image(ds, idx ? (int)idx[i] : (int)i);
        for (size_t p = 0; p < hw; p++) {
            uint32_t v = px[p];
            sum[p] += v;
            sq[p] += v * v;
        }
    }
    for (size_t p = 0; p < hw; p++) {
        /* n^2 var = n*sq - sum^2, exact in 128 bits; both terms < 2^96 here. */
        unsigned __int128 num = (unsigned __int128)n * sq[p] - (unsigned __int128)sum[p] * sum[p];
        double var = (double)num / ((double)n * (double)n);
        double sd = sqrt(var);
        st->mean[p] = (float)((double)sum[p] / n);
        st->std[p] = sd > FER_STD_FLOOR ? (float)sd : FER_STD_FLOOR;
    }
    free(sum);
    return NN_OK;
}

nn_status fer_standardizer_check(const fer_standardizer *st, nn_error *err)
{
    if (!st || !st->mean || !st->std || st->h <= 0 || st->w <= 0)
        return nn_fail(err, NN_ERR_FORMAT, "standardiser is empty or has a bad size");
    size_t hw = (size_t)st->h * (size_t)st->w;
    for (size_t p = 0; p < hw; p++) {
        if (!isfinite(st->mean[p]) || !isfinite(st->std[p]) || !(st->std[p] > 0.0f))
            return nn_fail(err, NN_ERR_FORMAT, "standardiser: pixel %zu (row %zu, column %zu) has mean %g, std %g",
                           p, p / (size_t)st->w, p % (size_t)st->w, (double)st->mean[p], (double)st->std[p]);
    }
    return NN_OK;
}

void fer_standardize_u8(const fer_standardizer *st, const uint8_t *px, float *out)
{
    size_t hw = (size_t)st->h * (size_t)st->w;
    for (size_t p = 0; p < hw; p++) out[p] = ((float)px[p] - st->mean[p]) / st->std[p];
}

void fer_standardize_f32(const fer_standardizer *st, float *img)
{
    size_t hw = (size_t)st->h * (size_t)st->w;
    for (size_t p = 0; p < hw; p++) img[p] = (img[p] - st->mean[p]) / st->std[p];
}
