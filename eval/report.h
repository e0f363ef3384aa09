/* report.h: the results of an evaluation as a person reads them (text) and
 * as programs read them (JSON, CSV), from a finished fer_metrics
 * (eval/metrics.h). The picture of the confusion matrix is eval/heatmap.h.
 *
 * Every function takes a metrics object that fer_metrics_finish has
 * completed after its last add (NN_ERR_ARG otherwise). Functions writing to
 * a FILE* leave it open and report a stream error as NN_ERR_IO; functions
 * writing to a path replace the file atomically (nn/atomic_file.h): readers
 * see the old file or the new one, never a partial one. Numbers are
 * printed with a '.' decimal point whatever locale the program has set.
 *
 * The text report (fer_report_text):
 *   - the caller's metadata (model, data, split, test-time augmentation, any
 *     extra pairs, the command), then N, accuracy with the count correct,
 *     top-2 accuracy and log-loss when probabilities were given;
 *   - the classification report in scikit-learn's layout (the paper's
 *     Fig. 6): per class precision, recall, f1-score, support, then the
 *     accuracy, macro avg and weighted avg lines, class names as row labels;
 *   - the confusion matrix, rows = true class, columns = predicted class, in
 *     counts and row-normalised (percent of each true class; "-" for a class
 *     with no samples);
 *   - when some precision/recall/F1 was 0/0, a footnote naming each one and
 *     stating the convention (reported as 0, sklearn's zero_division=0).
 *
 * JSON (fer_report_json), one object:
 *   format "fer-eval-metrics", version 1, meta {model, data, split, tta
 *   (bool), extra keys..., command}, n, classes [names], accuracy,
 *   n_correct, top2_accuracy and log_loss (null without probabilities),
 *   per_class [{class, precision, recall, f1, support, predicted,
 *   zero_division: [which of "precision","recall","f1" were 0/0]}],
 *   macro_avg and weighted_avg {precision, recall, f1, support},
 *   zero_division_value 0, confusion_matrix {rows: "true", columns:
 *   "predicted", counts: k arrays of k integers}. Numbers are written with
 *   enough digits to round-trip a double.
 *
 * CSV (fer_report_confusion_csv): k+1 rows of k+1 cells; the first row is
 * "true/predicted" then the class names; each further row is a true class
 * name then its k counts, or its k row fractions (0..1, %.6f; empty cells
 * for a class with no samples) when normalised. Names are quoted as RFC 4180
 * requires (when they hold a comma, quote or edge space).
 */
#ifndef FER_EVAL_REPORT_H
#define FER_EVAL_REPORT_H

#include <stdio.h>
#include <cjson/cJSON.h>
#include "eval/metrics.h"
#include "nn/error.h"

typedef struct {
    const char *key, *value;
} fer_report_kv;

/* What was evaluated, as the caller knows it. Every string may be NULL
 * (then left out); none is kept after the call. A zeroed struct, or a NULL
 * pointer in place of it, means no metadata and tta off. */
typedef struct {
    const char *model_path;     /* model file evaluated */
    const char *data_path;      /* data file read */
    const char *split;          /* e.g. "PublicTest" */
    int tta;                    /* nonzero: test-time augmentation was used */
    const fer_report_kv *extra; /* n_extra further pairs (e.g. "tta_mode": "hflip") */
    int n_extra;
    const char *command;        /* the command line that produced the results */
} fer_report_meta;

/* The classification report alone, scikit-learn's layout exactly
 * (classification_report(..., target_names=names, digits=digits)):
 * `digits` decimals, <= 0 means sklearn's default 2. */
nn_status fer_report_classification(FILE *fp, const fer_metrics *m, int digits, nn_error *err);

/* The confusion matrix as an aligned table with class names on both axes:
 * counts, or when normalised percentages of each true class (1 decimal). */
nn_status fer_report_confusion_text(FILE *fp, const fer_metrics *m, int normalised, nn_error *err);

/* The whole text report described above; digits as for
 * fer_report_classification (the header gives accuracy exactly anyway). */
nn_status fer_report_text(FILE *fp, const fer_metrics *m, const fer_report_meta *meta,
                          int digits, nn_error *err);
nn_status fer_report_write_text(const char *path, const fer_metrics *m,
                                const fer_report_meta *meta, int digits, nn_error *err);

/* The JSON object described above, owned by the caller (cJSON_Delete), who
 * may add fields before printing it. NULL on failure with err filled
 * (NN_ERR_ARG for unfinished metrics, NN_ERR_NOMEM). */
cJSON *fer_report_json(const fer_metrics *m, const fer_report_meta *meta, nn_error *err);
/* The same, printed with indentation and a final newline, written to path. */
nn_status fer_report_write_json(const char *path, const fer_metrics *m,
                                const fer_report_meta *meta, nn_error *err);

/* The confusion matrix as CSV (counts, or row fractions when normalised). */
nn_status fer_report_confusion_csv(FILE *fp, const fer_metrics *m, int normalised, nn_error *err);
nn_status fer_report_write_confusion_csv(const char *path, const fer_metrics *m, int normalised,
                                         nn_error *err);

#endif
