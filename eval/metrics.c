#include "eval/metrics.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const fer2013_names[FER_METRICS_FER2013_CLASSES] = {
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

const char *fer_metrics_fer2013_name(int i)
{
    return i >= 0 && i < FER_METRICS_FER2013_CLASSES ? fer2013_names[i] : NULL;
}

void fer_metrics_free(fer_metrics *m)
{
    if (!m) return;
    if (m->names)
        for (int i = 0; i < m->k; i++) free(m->names[i]);
    free(m->names);
    free(m->confusion);
    free(m->per_class);
    memset(m, 0, sizeof *m);
}

static nn_status check_name(const char *name, int i, nn_error *err)
{
    if (!name || !*name) return nn_fail(err, NN_ERR_ARG, "metrics: class %d has an empty name", i);
    size_t len = strlen(name);
    if (len > FER_METRICS_MAX_NAME)
        return nn_fail(err, NN_ERR_ARG, "metrics: class %d name '%.40s...' is %zu bytes, more than %d",
                       i, name, len, FER_METRICS_MAX_NAME);
    for (size_t j = 0; j < len; j++) {
        unsigned char ch = (unsigned char)name[j];
        /* Names go into aligned text columns, CSV cells and plot labels. */
        if (ch < 0x20 || ch == 0x7f)
            return nn_fail(err, NN_ERR_ARG, "metrics: class %d name has control character 0x%02x", i, ch);
    }
    return NN_OK;
}

nn_status fer_metrics_init(fer_metrics *m, int k, const char *const *names, nn_error *err)
{
    memset(m, 0, sizeof *m);
    if (k < 1 || k > FER_METRICS_MAX_CLASSES)
        return nn_fail(err, NN_ERR_ARG, "metrics: %d classes; need 1..%d", k, FER_METRICS_MAX_CLASSES);
    if (!names) {
        if (k != FER_METRICS_FER2013_CLASSES)
            return nn_fail(err, NN_ERR_ARG,
                           "metrics: %d classes but no class names (defaults exist only for the 7 FER2013 classes)", k);
        names = fer2013_names;
    }
    for (int i = 0; i < k; i++) {
        nn_status st = check_name(names[i], i, err);
        if (st) return st;
        for (int j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return nn_fail(err, NN_ERR_ARG, "metrics: classes %d and %d are both named '%s'", j, i, names[i]);
    }
    m->k = k;
    m->names = calloc((size_t)k, sizeof *m->names);
    m->confusion = calloc((size_t)k * (size_t)k, sizeof *m->confusion);
    m->per_class = calloc((size_t)k, sizeof *m->per_class);
    if (!m->names || !m->confusion || !m->per_class) goto nomem;
    for (int i = 0; i < k; i++)
        if (!(m->names[i] = strdup(names[i]))) goto nomem;
    m->accuracy = m->top2_accuracy = m->log_loss = NAN;
    return NN_OK;
nomem:
    fer_metrics_free(m);
    return nn_fail(err, NN_ERR_NOMEM, "metrics: out of memory for %d classes", k);
}

int fer_argmax(const float *p, int k)
{
    int best = 0;
    for (int i = 1; i < k; i++)
        if (p[i] > p[best]) best = i;
    return best;
}

static void count(fer_metrics *m, int label, int pred)
{
    m->confusion[(size_t)label * (size_t)m->k + (size_t)pred]++;
    m->n++;
    m->n_correct += label == pred;
    m->finished = 0;
}

nn_status fer_metrics_add(fer_metrics *m, int label, const float *probs, int *pred_out,
                          nn_error *err)
{
    const int k = m->k;
    if (label < 0 || label >= k)
        return nn_fail(err, NN_ERR_ARG, "sample %lld: label %d outside 0..%d", (long long)m->n, label, k - 1);
    if (!probs) return nn_fail(err, NN_ERR_ARG, "sample %lld: no probabilities", (long long)m->n);
    double sum = 0;
    for (int i = 0; i < k; i++) {
        float p = probs[i];
        if (!isfinite(p) || p < 0.0f || p > 1.0f)
            return nn_fail(err, NN_ERR_ARG, "sample %lld: probability of class %d is %g, not in [0, 1]",
                           (long long)m->n, i, (double)p);
        sum += p;
    }
    if (fabs(sum - 1.0) > 1e-3)
        return nn_fail(err, NN_ERR_ARG,
                       "sample %lld: probabilities sum to %.6g, not 1 (logits instead of softmax output?)",
                       (long long)m->n, sum);

    /* Rank of the true class, ties broken towards the lower index exactly as
     * fer_argmax does, so rank 0 <=> argmax == label. */
    const float pl = probs[label];
    int rank = 0;
    for (int i = 0; i < k; i++)
        rank += probs[i] > pl || (probs[i] == pl && i < label);
    m->n_top2 += rank < 2;

    /* sklearn's log_loss: clip to [eps, 1-eps], renormalise, -ln. */
    const double eps = FLT_EPSILON;
    double csum = 0;
    for (int i = 0; i < k; i++) csum += fmin(fmax((double)probs[i], eps), 1.0 - eps);
    m->loss_sum -= log(fmin(fmax((double)pl, eps), 1.0 - eps) / csum);
    m->n_probs++;

    int pred = fer_argmax(probs, k);
    count(m, label, pred);
    if (pred_out) *pred_out = pred;
    return NN_OK;
}

nn_status fer_metrics_add_prediction(fer_metrics *m, int label, int pred, nn_error *err)
{
    const int k = m->k;
    if (label < 0 || label >= k)
        return nn_fail(err, NN_ERR_ARG, "sample %lld: label %d outside 0..%d", (long long)m->n, label, k - 1);
    if (pred < 0 || pred >= k)
        return nn_fail(err, NN_ERR_ARG, "sample %lld: prediction %d outside 0..%d", (long long)m->n, pred, k - 1);
    count(m, label, pred);
    return NN_OK;
}

nn_status fer_metrics_finish(fer_metrics *m, nn_error *err)
{
    if (m->n == 0) return nn_fail(err, NN_ERR_ARG, "metrics: no samples to score");
    const int k = m->k;
    const double n = (double)m->n;
    m->zero_div_any = 0;
    fer_avg_metrics mac = {0}, wtd = {0};
    for (int c = 0; c < k; c++) {
        fer_class_metrics *cm = &m->per_class[c];
        int64_t support = 0, predicted = 0;
        for (int j = 0; j < k; j++) {
            support += fer_metrics_count(m, c, j);
            predicted += fer_metrics_count(m, j, c);
        }
        const double tp = (double)fer_metrics_count(m, c, c);
        cm->support = support;
        cm->predicted = predicted;
        cm->zero_div = 0;
        /* 0/0 -> 0, flagged (sklearn zero_division=0); see the header. */
        if (predicted) cm->precision = tp / (double)predicted;
        else cm->precision = 0, cm->zero_div |= FER_ZERO_DIV_PRECISION;
        if (support) cm->recall = tp / (double)support;
        else cm->recall = 0, cm->zero_div |= FER_ZERO_DIV_RECALL;
        if (support + predicted) cm->f1 = 2 * tp / (double)(support + predicted);
        else cm->f1 = 0, cm->zero_div |= FER_ZERO_DIV_F1;
        m->zero_div_any |= cm->zero_div;

        mac.precision += cm->precision;
        mac.recall += cm->recall;
        mac.f1 += cm->f1;
        wtd.precision += cm->precision * (double)support;
        wtd.recall += cm->recall * (double)support;
        wtd.f1 += cm->f1 * (double)support;
    }
    mac.precision /= k, mac.recall /= k, mac.f1 /= k;
    wtd.precision /= n, wtd.recall /= n, wtd.f1 /= n;
    mac.support = wtd.support = m->n;
    m->macro = mac;
    m->weighted = wtd;
    m->accuracy = (double)m->n_correct / n;
    if (m->n_probs == m->n) {
        m->top2_accuracy = (double)m->n_top2 / n;
        m->log_loss = m->loss_sum / n;
    } else {
        m->top2_accuracy = m->log_loss = NAN;
    }
    m->finished = 1;
    return NN_OK;
}

nn_status fer_metrics_compute(fer_metrics *m, int k, const char *const *names, size_t n,
                              const int *labels, const float *probs, nn_error *err)
{
    nn_status st = fer_metrics_init(m, k, names, err);
    if (st) return st;
    if (n && (!labels || !probs)) {
        fer_metrics_free(m);
        return nn_fail(err, NN_ERR_ARG, "metrics: %zu samples but no %s", n, labels ? "probabilities" : "labels");
    }
    for (size_t i = 0; i < n && !st; i++)
        st = fer_metrics_add(m, labels[i], probs + i * (size_t)k, NULL, err);
    if (!st) st = fer_metrics_finish(m, err);
    if (st) fer_metrics_free(m);
    return st;
}

double fer_metrics_row_fraction(const fer_metrics *m, int t, int p)
{
    int64_t support = 0;
    for (int j = 0; j < m->k; j++) support += fer_metrics_count(m, t, j);
    return support ? (double)fer_metrics_count(m, t, p) / (double)support : NAN;
}
