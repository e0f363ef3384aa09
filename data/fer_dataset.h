/* fer_dataset.h: FER2013-style face data in memory, read from the Kaggle CSV.
 *
 * File layout (Kaggle "fer2013.csv"): a header line naming the columns, then
 * one face a row:
 *
 *     emotion,pixels,Usage
 *     0,70 80 82 72 58 ... (2304 grey levels 0-255, 48x48 row-major),Training
 *
 * Columns are found by name (case-insensitive, any order; other columns are
 * ignored): `emotion` (label 0..6, see fer_class_name) and `pixels` are
 * required; `Usage` (Training / PublicTest / PrivateTest) is optional -- a
 * file without it is one split, fer_load_opts.default_split. The file may be
 * plain or gzip-compressed (zlib reads both; the name does not matter).
 *
 * Image size: every row must have the same number of pixels. Unless
 * fer_load_opts.side forces it, the side is inferred from the first data row
 * (its pixel count must be a perfect square: 2304 -> 48x48, 64 -> 8x8).
 *
 * Images are kept as bytes (the whole of FER2013 is ~83 MB), converted to
 * floats only when a batch is assembled (data/batch.h).
 *
 * Errors. Every problem is reported through nn_error as "FILE:LINE: reason"
 * (LINE is the 1-based physical line where the record starts; file-level
 * problems such as an unreadable or empty file have no line). Row problems:
 * wrong pixel count, a pixel that is not an integer or not in 0..255, a label
 * that is not an integer in 0..6, an unknown Usage value, too few or too many
 * fields, broken quoting. By default the first bad row stops the load with
 * NN_ERR_FORMAT. With fer_load_opts.skip_bad_rows the bad rows are left out
 * and counted in fer_load_report (with the first few messages). Problems with
 * the file itself always stop the load, skip mode or not: cannot open
 * (NN_ERR_IO), read error or corrupt / truncated gzip data (NN_ERR_FORMAT),
 * empty file, header without `emotion` or `pixels`, a column named twice, no
 * usable row at all.
 */
#ifndef FER_DATASET_H
#define FER_DATASET_H

#include <stdint.h>
#include "nn/error.h"
#include "nn/rng.h"

#define FER_NUM_CLASSES 7
#define FER_DEFAULT_SIDE 48 /* FER2013: 48x48 */

/* Splits as named in the Usage column. The values are stored per row. */
typedef enum {
    FER_SPLIT_TRAINING = 0,     /* "Training"    (28,709 rows in FER2013) */
    FER_SPLIT_PUBLIC_TEST = 1,  /* "PublicTest"  (3,589): validation */
    FER_SPLIT_PRIVATE_TEST = 2, /* "PrivateTest" (3,589): final test only */
} fer_split;
#define FER_NUM_SPLITS 3

/* The data set. All arrays are owned by the struct and released by
 * fer_dataset_free; a struct filled by fer_dataset_load/_alloc may be read
 * from many threads at once. Row i has image pixels[i*h*w .. (i+1)*h*w),
 * row-major, 0 = black. */
typedef struct {
    int n;             /* number of rows */
    int h, w;          /* image size (rows, columns) */
    uint8_t *pixels;   /* n*h*w grey levels */
    uint8_t *labels;   /* n labels, 0..FER_NUM_CLASSES-1 */
    uint8_t *splits;   /* n fer_split values */
    uint32_t *lines;   /* n source lines (1-based); 0 for rows made in memory */
    int has_usage;     /* the file had a Usage column */
} fer_dataset;

/* Load options. A zeroed struct (or a NULL pointer) gives the defaults. */
typedef struct {
    int skip_bad_rows;       /* 0: stop at the first bad row (default);
                                1: leave bad rows out, count them in the report */
    int side;                /* 0: infer from the first row; >0: require side x side */
    fer_split default_split; /* split of every row when there is no Usage column
                                (default Training, so fer_holdout can make a
                                validation set from it) */
    long max_rows;           /* 0: all; >0: stop after this many good rows */
} fer_load_opts;

#define FER_LOAD_MAX_REASONS 8

/* What a load saw. Filled (when non-NULL) on success and on failure. */
typedef struct {
    long rows_loaded;   /* rows now in the data set */
    long rows_skipped;  /* bad rows left out (skip mode only) */
    int n_reasons;      /* messages kept: min(rows_skipped, FER_LOAD_MAX_REASONS) */
    char reasons[FER_LOAD_MAX_REASONS][256]; /* "FILE:LINE: reason" of the first skips */
    long lines;         /* physical lines read */
    uint64_t bytes;     /* uncompressed bytes read */
} fer_load_report;

/* Reads a FER CSV (plain or .gz) into ds. ds is overwritten (it need not be
 * initialised); on success the caller owns it and frees it with
 * fer_dataset_free. On failure ds is left empty (all zero, nothing to free)
 * and err says FILE:LINE: reason. opts and report may be NULL. */
nn_status fer_dataset_load(fer_dataset *ds, const char *path, const fer_load_opts *opts,
                           fer_load_report *report, nn_error *err);

/* Allocates a zero-filled data set of n rows of h x w (labels 0, split
 * Training, lines 0) for data made in memory. n may be 0. */
nn_status fer_dataset_alloc(fer_dataset *ds, int n, int h, int w, nn_error *err);

/* Releases the arrays and zeroes ds. Safe on a zeroed or already freed ds. */
void fer_dataset_free(fer_dataset *ds);

/* Image of row i (no bounds check). */
static inline const uint8_t *fer_dataset_image(const fer_dataset *ds, int i)
{
    return ds->pixels + (size_t)i * (size_t)ds->h * (size_t)ds->w;
}

/* FER2013's class names by label, the order models store them in. */
extern const char *const fer_class_names[FER_NUM_CLASSES];

/* "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral";
 * "?" outside 0..6. */
const char *fer_class_name(int label);

/* "Training", "PublicTest", "PrivateTest"; "?" for other values. */
const char *fer_split_name(fer_split s);

/* Split from its Usage name (case-insensitive). NN_ERR_ARG naming the valid
 * names when unknown. */
nn_status fer_split_parse(const char *name, fer_split *out, nn_error *err);

/* A list of row numbers, owned by the struct; free with fer_indices_free. */
typedef struct {
    uint32_t *idx;
    uint32_t n;
} fer_indices;

void fer_indices_free(fer_indices *ix); /* safe on zeroed; zeroes it */

/* Rows of split s, in file order. An empty split is not an error (n = 0,
 * idx NULL). */
nn_status fer_split_indices(const fer_dataset *ds, fer_split s, fer_indices *out, nn_error *err);

/* Every row 0..n-1. */
nn_status fer_all_indices(const fer_dataset *ds, fer_indices *out, nn_error *err);

/* Random hold-out, for files without a PublicTest split: moves a fraction
 * (0 < fraction < 1) of the rows in `from` to `val`, the rest to `train`.
 * Stratified: each class gives round(fraction * its count) rows, so rare
 * classes (FER2013's "disgust" is 1.5%) are represented in both parts; a
 * class with 2 or more rows keeps at least one on each side, a class with a
 * single row keeps it for training. Draws come from
 * rng only (same seed, same split); both outputs are sorted ascending. The
 * caller owns train and val. NN_ERR_ARG on a bad fraction, a row number out
 * of range or when a side would be empty. */
nn_status fer_holdout(const fer_dataset *ds, const fer_indices *from, float fraction,
                      nn_rng *rng, fer_indices *train, fer_indices *val, nn_error *err);

/* Counts the labels of rows idx[0..n) (idx NULL: rows 0..n-1, so
 * (NULL, ds->n) counts every row) into counts[FER_NUM_CLASSES]. Rows out of
 * range are not counted. */
void fer_class_counts(const fer_dataset *ds, const uint32_t *idx, uint32_t n,
                      long counts[FER_NUM_CLASSES]);

#endif
