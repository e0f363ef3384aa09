/* FER CSV loader (data/fer_csv.c): the bytes are a whole file, plain or
 * gzip. Loaded twice -- strict and with skip_bad_rows -- since the two modes
 * take different paths through every row error. */
#include <string.h>

#include "data/fer_dataset.h"
#include "tests/fuzz/targets.h"

static int check(const char *mode, nn_status st, const nn_error *err, const fer_dataset *ds,
                 const fer_load_report *rep, const fer_load_opts *o)
{
    if (st != NN_OK) {
        if (err->code != st || !err->msg[0])
            return fer_fuzz_violation("csv", "%s: status %d without a message", mode, st);
        if (ds->n || ds->pixels || ds->labels || ds->splits || ds->lines)
            return fer_fuzz_violation("csv", "%s: failed load left data behind", mode);
        return 0;
    }
    if (ds->n <= 0 || ds->h <= 0 || ds->w != ds->h || !ds->pixels || !ds->labels || !ds->splits)
        return fer_fuzz_violation("csv", "%s: success with n=%d h=%d w=%d", mode, ds->n, ds->h, ds->w);
    if (o->max_rows > 0 && ds->n > o->max_rows)
        return fer_fuzz_violation("csv", "%s: %d rows, max_rows %ld", mode, ds->n, o->max_rows);
    if (rep->rows_loaded != ds->n)
        return fer_fuzz_violation("csv", "%s: report says %ld rows, data set has %d", mode,
                                  rep->rows_loaded, ds->n);
    if (rep->n_reasons < 0 || rep->n_reasons > FER_LOAD_MAX_REASONS ||
        (!o->skip_bad_rows && rep->rows_skipped))
        return fer_fuzz_violation("csv", "%s: bad report", mode);
    volatile unsigned sum = 0; /* touch every byte: ASan checks the sizes */
    size_t px = (size_t)ds->n * (size_t)ds->h * (size_t)ds->w;
    for (size_t i = 0; i < px; i++) sum += ds->pixels[i];
    (void)sum;
    for (int i = 0; i < ds->n; i++) {
        if (ds->labels[i] >= FER_NUM_CLASSES || ds->splits[i] >= FER_NUM_SPLITS || ds->lines[i] == 0)
            return fer_fuzz_violation("csv", "%s: row %d: label %u split %u line %u", mode, i,
                                      ds->labels[i], ds->splits[i], ds->lines[i]);
    }
    return 0;
}

int fer_fuzz_csv(const uint8_t *data, size_t n)
{
    char path[64];
    int fd = fer_fuzz_memfile(data, n, path);
    if (fd < 0) return -1;
    int rc = 0;
    /* strict, skipping, skipping with a row limit and a forced side */
    const fer_load_opts opts[3] = {
        {0},
        {.skip_bad_rows = 1},
        {.skip_bad_rows = 1, .max_rows = 2, .side = 2, .default_split = FER_SPLIT_PUBLIC_TEST},
    };
    static const char *names[3] = {"strict", "skip", "skip+limit"};
    for (int m = 0; m < 3 && !rc; m++) {
        fer_dataset ds;
        fer_load_report rep;
        nn_error err = {0};
        nn_status st = fer_dataset_load(&ds, path, &opts[m], &rep, &err);
        rc = check(names[m], st, &err, &ds, &rep, &opts[m]);
        fer_dataset_free(&ds);
    }
    fer_fuzz_memfile_close(fd);
    return rc;
}
