/* metrics.h: classification metrics of a K-class classifier from true labels
 * and predicted probability vectors: accuracy, top-2 accuracy, mean
 * cross-entropy, the KxK confusion matrix, and per-class precision, recall,
 * F1 and support with their macro and weighted averages -- the numbers of
 * scikit-learn's classification_report and confusion_matrix (the paper's
 * Figs. 2 and 6), computed from counts so that they match sklearn exactly.
 *
 * Use: either stream samples one at a time (init, add..., finish) so the
 * evaluation loop keeps no per-sample arrays, or hand over whole arrays with
 * fer_metrics_compute. Reports and pictures of the result: eval/report.h,
 * eval/heatmap.h.
 *
 *   fer_metrics m;
 *   if (fer_metrics_compute(&m, 7, NULL, n, labels, probs, &err)) ...;
 *   ... m.accuracy, m.per_class[c].f1, fer_metrics_count(&m, t, p) ...
 *   fer_metrics_free(&m);
 *
 * Definitions (class c; C[t][p] = number of samples of true class t
 * predicted as p; prediction = argmax of the probabilities, ties to the
 * lowest index as numpy.argmax):
 *   support(c)   = sum_p C[c][p]        predicted(c) = sum_t C[t][c]
 *   precision(c) = C[c][c] / predicted(c)
 *   recall(c)    = C[c][c] / support(c)
 *   F1(c)        = 2 C[c][c] / (support(c) + predicted(c))
 *                  (= the harmonic mean of precision and recall when both
 *                  are defined; it is what sklearn >= 1.3 computes)
 *   macro avg    = unweighted mean over all K classes (classes with no
 *                  support included, as sklearn does when given the labels)
 *   weighted avg = mean over classes weighted by support
 *   accuracy     = sum_c C[c][c] / N
 *   top-2 acc.   = share of samples whose true class is among the two most
 *                  probable (ties to the lower index)
 *   log_loss     = mean over samples of -ln p[label], with p clipped to
 *                  [eps, 1 - eps], eps = FLT_EPSILON, and the clipped vector
 *                  renormalised to sum 1 (sklearn's log_loss for float32
 *                  input), so one confident mistake costs at most ~16, not inf.
 *
 * Zero division (the convention of sklearn's zero_division=0): a 0/0 is
 * reported as 0 and flagged in fer_class_metrics.zero_div, so reports can
 * say so (eval/report.c prints a footnote and writes the flags to JSON):
 *   - a class that no sample was predicted as: precision 0/0 -> 0;
 *   - a class with no sample in the data (support 0): recall 0/0 -> 0;
 *   - a class with neither: F1 0/0 -> 0 as well. (With support but no
 *     predictions F1 is 0/support = 0, a real 0, not a 0/0; likewise with
 *     predictions but no support.)
 * These zeros enter the macro and weighted averages as zeros, as in sklearn.
 *
 * A fer_metrics is plain data owned by the caller; it is not shared between
 * threads while being filled (for parallel evaluation fill one per thread
 * and add the confusion matrices, or collect arrays and use compute).
 */
#ifndef FER_EVAL_METRICS_H
#define FER_EVAL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "nn/error.h"

#define FER_METRICS_MAX_CLASSES 1000
#define FER_METRICS_MAX_NAME 63 /* bytes of a class name */

/* The FER2013 classes in label order: angry, disgust, fear, happy, sad,
 * surprise, neutral. Used when init is given names == NULL and k == 7. */
#define FER_METRICS_FER2013_CLASSES 7

/* Bits of fer_class_metrics.zero_div: which value was 0/0 and reported as 0. */
enum {
    FER_ZERO_DIV_PRECISION = 1u << 0, /* predicted(c) == 0 */
    FER_ZERO_DIV_RECALL = 1u << 1,    /* support(c) == 0 */
    FER_ZERO_DIV_F1 = 1u << 2,        /* support(c) == predicted(c) == 0 */
};

typedef struct {
    double precision, recall, f1;
    int64_t support;   /* samples whose true class is c (row sum) */
    int64_t predicted; /* samples predicted as c (column sum) */
    unsigned zero_div; /* FER_ZERO_DIV_* bits */
} fer_class_metrics;

typedef struct {
    double precision, recall, f1;
    int64_t support; /* N, as sklearn prints it */
} fer_avg_metrics;

typedef struct {
    int k;              /* number of classes */
    char **names;       /* k class names, owned */
    int64_t *confusion; /* k*k counts, owned; [t*k + p], t = true, p = predicted */
    int64_t n;          /* samples added */
    int64_t n_correct;  /* argmax == label */
    int64_t n_top2;     /* label among the two most probable (samples with probs) */
    int64_t n_probs;    /* samples added with probabilities */
    double loss_sum;    /* sum of -ln p[label] over those samples */

    /* Filled by fer_metrics_finish (0 before; stale after a later add). */
    int finished;                 /* 1 when the fields below match the counts */
    double accuracy;              /* n_correct / n */
    double top2_accuracy;         /* NAN unless every sample came with probs */
    double log_loss;              /* NAN unless every sample came with probs */
    fer_class_metrics *per_class; /* k entries, owned */
    fer_avg_metrics macro, weighted;
    unsigned zero_div_any;        /* OR of per_class[].zero_div */
} fer_metrics;

/* Prepares m for k classes with zero counts. names: k strings, copied (the
 * caller keeps its own); NULL means the FER2013 names and requires k == 7.
 * Each name must be 1..FER_METRICS_MAX_NAME bytes, without control
 * characters, and names must be distinct (they label report rows).
 * Errors: NN_ERR_ARG (k outside 1..FER_METRICS_MAX_CLASSES, bad name),
 * NN_ERR_NOMEM. On error m is left zeroed (fer_metrics_free is safe). */
nn_status fer_metrics_init(fer_metrics *m, int k, const char *const *names, nn_error *err);

/* Releases everything m owns and zeroes it. Safe on a zeroed m and on NULL. */
void fer_metrics_free(fer_metrics *m);

/* The FER2013 name of class i (0..6), NULL outside. */
const char *fer_metrics_fer2013_name(int i);

/* Index of the largest of p[0..k-1]; ties go to the lowest index. */
int fer_argmax(const float *p, int k);

/* Adds one sample: true class `label` and its k predicted probabilities
 * (read, not kept). The prediction is their argmax; *pred_out receives it
 * when pred_out is non-NULL. Probabilities must be finite, in [0, 1], and
 * sum to 1 within 1e-3 (softmax output, or an average of softmax outputs
 * as test-time augmentation makes); logits are refused rather than
 * silently scored. Errors: NN_ERR_ARG naming the sample index (0-based
 * count of samples added so far) and the problem; m is unchanged then. */
nn_status fer_metrics_add(fer_metrics *m, int label, const float *probs, int *pred_out,
                          nn_error *err);

/* Adds one sample with a hard prediction and no probabilities (then
 * top2_accuracy and log_loss come out NAN). Errors: NN_ERR_ARG for a label
 * or prediction outside 0..k-1. */
nn_status fer_metrics_add_prediction(fer_metrics *m, int label, int pred, nn_error *err);

/* Computes the derived fields (accuracy, per-class, averages, flags) from
 * the counts. May be called again after more adds. Errors: NN_ERR_ARG when
 * no sample was added (accuracy would be 0/0 and the report empty). */
nn_status fer_metrics_finish(fer_metrics *m, nn_error *err);

/* init + add for each of n samples + finish. labels: n ints; probs: n*k
 * floats, row i the probabilities of sample i. On error m is freed and
 * zeroed and err names the offending sample. */
nn_status fer_metrics_compute(fer_metrics *m, int k, const char *const *names, size_t n,
                              const int *labels, const float *probs, nn_error *err);

/* C[t][p]: samples of true class t predicted as p. */
static inline int64_t fer_metrics_count(const fer_metrics *m, int t, int p)
{
    return m->confusion[(size_t)t * (size_t)m->k + (size_t)p];
}

/* C[t][p] / support(t): the row-normalised confusion matrix (share of the
 * true class t predicted as p). NAN when class t has no samples. */
double fer_metrics_row_fraction(const fer_metrics *m, int t, int p);

#endif
