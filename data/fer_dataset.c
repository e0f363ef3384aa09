/* fer_dataset.c: the in-memory data set, its splits and hold-out. The CSV
 * reader is in fer_csv.c. */
#include "data/fer_dataset.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const fer_class_names[FER_NUM_CLASSES] = {
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

static const char *const split_names[FER_NUM_SPLITS] = {
    "Training", "PublicTest", "PrivateTest",
};

const char *fer_class_name(int label)
{
    return label >= 0 && label < FER_NUM_CLASSES ? fer_class_names[label] : "?";
}

const char *fer_split_name(fer_split s)
{
    return (int)s >= 0 && (int)s < FER_NUM_SPLITS ? split_names[s] : "?";
}

nn_status fer_split_parse(const char *name, fer_split *out, nn_error *err)
{
    if (!name || !out) return nn_fail(err, NN_ERR_ARG, "fer_split_parse: NULL argument");
    for (int s = 0; s < FER_NUM_SPLITS; s++) {
        if (strcasecmp(name, split_names[s]) == 0) {
            *out = (fer_split)s;
            return NN_OK;
        }
    }
    return nn_fail(err, NN_ERR_ARG, "unknown split '%s' (expected Training, PublicTest or PrivateTest)",
                   name);
}

nn_status fer_dataset_alloc(fer_dataset *ds, int n, int h, int w, nn_error *err)
{
    if (!ds) return nn_fail(err, NN_ERR_ARG, "fer_dataset_alloc: NULL dataset");
    memset(ds, 0, sizeof *ds);
    if (n < 0 || h <= 0 || w <= 0 || (size_t)h * (size_t)w > (1u << 24))
        return nn_fail(err, NN_ERR_ARG, "fer_dataset_alloc: bad size n=%d h=%d w=%d", n, h, w);
    size_t rows = n ? (size_t)n : 1; /* calloc(0) may return NULL */
    ds->pixels = calloc(rows * (size_t)h * (size_t)w, 1);
    ds->labels = calloc(rows, 1);
    ds->splits = calloc(rows, 1);
    ds->lines = calloc(rows, sizeof *ds->lines);
    if (!ds->pixels || !ds->labels || !ds->splits || !ds->lines) {
        fer_dataset_free(ds);
        return nn_fail(err, NN_ERR_NOMEM, "fer_dataset_alloc: out of memory for %d images of %dx%d", n, h,
                       w);
    }
    ds->n = n;
    ds->h = h;
    ds->w = w;
    return NN_OK;
}

void fer_dataset_free(fer_dataset *ds)
{
    if (!ds) return;
    free(ds->pixels);
    free(ds->labels);
    free(ds->splits);
    free(ds->lines);
    memset(ds, 0, sizeof *ds);
}

void fer_indices_free(fer_indices *ix)
{
    if (!ix) return;
    free(ix->idx);
    ix->idx = NULL;
    ix->n = 0;
}

/* Rows whose split matches (s < 0: every row). */
static nn_status collect(const fer_dataset *ds, int s, fer_indices *out, nn_error *err)
{
    if (!ds || !out) return nn_fail(err, NN_ERR_ARG, "fer_split_indices: NULL argument");
    out->idx = NULL;
    out->n = 0;
    uint32_t n = 0;
    for (int i = 0; i < ds->n; i++) n += s < 0 || ds->splits[i] == s;
    if (n == 0) return NN_OK;
    out->idx = malloc((size_t)n * sizeof *out->idx);
    if (!out->idx) return nn_fail(err, NN_ERR_NOMEM, "out of memory for %u row indices", n);
    for (int i = 0; i < ds->n; i++)
        if (s < 0 || ds->splits[i] == s) out->idx[out->n++] = (uint32_t)i;
    return NN_OK;
}

nn_status fer_split_indices(const fer_dataset *ds, fer_split s, fer_indices *out, nn_error *err)
{
    if ((int)s < 0 || (int)s >= FER_NUM_SPLITS)
        return nn_fail(err, NN_ERR_ARG, "fer_split_indices: bad split %d", (int)s);
    return collect(ds, (int)s, out, err);
}

nn_status fer_all_indices(const fer_dataset *ds, fer_indices *out, nn_error *err)
{
    return collect(ds, -1, out, err);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

nn_status fer_holdout(const fer_dataset *ds, const fer_indices *from, float fraction, nn_rng *rng,
                      fer_indices *train, fer_indices *val, nn_error *err)
{
    if (!ds || !from || !rng || !train || !val)
        return nn_fail(err, NN_ERR_ARG, "fer_holdout: NULL argument");
    train->idx = val->idx = NULL;
    train->n = val->n = 0;
    if (!(fraction > 0.0f && fraction < 1.0f))
        return nn_fail(err, NN_ERR_ARG, "fer_holdout: fraction %g is not in (0, 1)", (double)fraction);
    if (from->n < 2) return nn_fail(err, NN_ERR_ARG, "fer_holdout: need at least 2 rows, got %u", from->n);

    /* Group the rows by class (stable, so the shuffle below alone decides). */
    uint32_t count[FER_NUM_CLASSES] = {0}, start[FER_NUM_CLASSES + 1] = {0};
    for (uint32_t i = 0; i < from->n; i++) {
        uint32_t r = from->idx[i];
        if (r >= (uint32_t)ds->n || ds->labels[r] >= FER_NUM_CLASSES)
            return nn_fail(err, NN_ERR_ARG, "fer_holdout: row %u out of range (data set has %d)", r, ds->n);
        count[ds->labels[r]]++;
    }
    for (int c = 0; c < FER_NUM_CLASSES; c++) start[c + 1] = start[c] + count[c];
    uint32_t *by_class = malloc((size_t)from->n * sizeof *by_class);
    if (!by_class) return nn_fail(err, NN_ERR_NOMEM, "fer_holdout: out of memory");
    uint32_t fill[FER_NUM_CLASSES];
    memcpy(fill, start, sizeof fill);
    for (uint32_t i = 0; i < from->n; i++) by_class[fill[ds->labels[from->idx[i]]]++] = from->idx[i];

    uint32_t take[FER_NUM_CLASSES], n_val = 0;
    for (int c = 0; c < FER_NUM_CLASSES; c++) {
        uint32_t k = (uint32_t)((double)fraction * count[c] + 0.5);
        if (count[c] >= 2) {
            if (k < 1) k = 1;
            if (k > count[c] - 1) k = count[c] - 1;
        } else {
            k = 0; /* a lone example is worth more for training */
        }
        take[c] = k;
        n_val += k;
    }
    if (n_val == 0 || n_val == from->n) {
        free(by_class);
        return nn_fail(err, NN_ERR_ARG, "fer_holdout: fraction %g of %u rows leaves one side empty",
                       (double)fraction, from->n);
    }
    train->idx = malloc((size_t)(from->n - n_val) * sizeof *train->idx);
    val->idx = malloc((size_t)n_val * sizeof *val->idx);
    if (!train->idx || !val->idx) {
        free(by_class);
        fer_indices_free(train);
        fer_indices_free(val);
        return nn_fail(err, NN_ERR_NOMEM, "fer_holdout: out of memory");
    }
    for (int c = 0; c < FER_NUM_CLASSES; c++) {
        uint32_t *rows = by_class + start[c];
        nn_rng_shuffle(rng, rows, count[c]);
        for (uint32_t j = 0; j < count[c]; j++) {
            if (j < take[c]) val->idx[val->n++] = rows[j];
            else train->idx[train->n++] = rows[j];
        }
    }
    free(by_class);
    qsort(train->idx, train->n, sizeof *train->idx, cmp_u32);
    qsort(val->idx, val->n, sizeof *val->idx, cmp_u32);
    return NN_OK;
}

void fer_class_counts(const fer_dataset *ds, const uint32_t *idx, uint32_t n, long counts[FER_NUM_CLASSES])
{
    for (int c = 0; c < FER_NUM_CLASSES; c++) counts[c] = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = idx ? idx[i] : i;
        if (r < (uint32_t)ds->n && ds->labels[r] < FER_NUM_CLASSES) counts[ds->labels[r]]++;
    }
}
