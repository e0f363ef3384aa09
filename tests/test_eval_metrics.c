/* Metrics against values computed by hand (eval/metrics.h). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "eval/metrics.h"

#define TOL 1e-12

/* Five classes; d and e never occur, c is never predicted, e neither:
 *   true a -> a a b,  true b -> b a d,  true c -> a b b.
 * Confusion (rows true a..e, columns predicted a..e):
 *   a: 2 1 0 0 0   b: 1 1 0 1 0   c: 1 2 0 0 0   d: 0   e: 0
 * predicted: a 4, b 4, c 0, d 1, e 0; support: a 3, b 3, c 3, d 0, e 0. */
static const char *const names5[5] = {"a", "b", "c", "d", "e"};
static const int labels9[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2};
static const int preds9[9] = {0, 0, 1, 1, 0, 3, 0, 1, 1};

/* A probability vector whose argmax is `pred`. */
static void one_hotish(float *p, int k, int pred)
{
    for (int i = 0; i < k; i++) p[i] = 0.4f / (float)(k - 1);
    p[pred] = 0.6f;
}

static void fill9(fer_metrics *m)
{
    nn_error err;
    float p[5];
    cr_assert_eq(fer_metrics_init(m, 5, names5, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < 9; i++) {
        one_hotish(p, 5, preds9[i]);
        int pred = -1;
        cr_assert_eq(fer_metrics_add(m, labels9[i], p, &pred, &err), NN_OK, "%s", err.msg);
        cr_assert_eq(pred, preds9[i]);
    }
    cr_assert_eq(fer_metrics_finish(m, &err), NN_OK, "%s", err.msg);
}

Test(eval_metrics, confusion_matrix_counts)
{
    fer_metrics m;
    fill9(&m);
    static const int64_t want[5][5] = {
        {2, 1, 0, 0, 0}, {1, 1, 0, 1, 0}, {1, 2, 0, 0, 0}, {0}, {0},
    };
    for (int t = 0; t < 5; t++)
        for (int p = 0; p < 5; p++)
            cr_expect_eq(fer_metrics_count(&m, t, p), want[t][p], "C[%d][%d]", t, p);
    cr_expect_eq(m.n, 9);
    cr_expect_eq(m.n_correct, 3);
    cr_expect_float_eq(m.accuracy, 1.0 / 3, TOL);
    cr_expect_float_eq(fer_metrics_row_fraction(&m, 1, 3), 1.0 / 3, TOL);
    cr_expect_float_eq(fer_metrics_row_fraction(&m, 2, 2), 0.0, TOL);
    cr_expect(isnan(fer_metrics_row_fraction(&m, 3, 3)), "row of a class with no samples is NAN");
    fer_metrics_free(&m);
}

Test(eval_metrics, per_class_by_hand_with_zero_division)
{
    fer_metrics m;
    fill9(&m);
    const fer_class_metrics *c = m.per_class;
    /* a: P 2/4, R 2/3, F1 2*2/(3+4) */
    cr_expect_float_eq(c[0].precision, 0.5, TOL);
    cr_expect_float_eq(c[0].recall, 2.0 / 3, TOL);
    cr_expect_float_eq(c[0].f1, 4.0 / 7, TOL);
    cr_expect_eq(c[0].support, 3);
    cr_expect_eq(c[0].predicted, 4);
    cr_expect_eq(c[0].zero_div, 0u);
    /* b: P 1/4, R 1/3, F1 2/7 */
    cr_expect_float_eq(c[1].precision, 0.25, TOL);
    cr_expect_float_eq(c[1].recall, 1.0 / 3, TOL);
    cr_expect_float_eq(c[1].f1, 2.0 / 7, TOL);
    cr_expect_eq(c[1].zero_div, 0u);
    /* c: never predicted -> precision 0/0 -> 0, flagged; recall 0/3 and F1
     * 0/3 are real zeros. */
    cr_expect_eq(c[2].precision, 0.0);
    cr_expect_eq(c[2].recall, 0.0);
    cr_expect_eq(c[2].f1, 0.0);
    cr_expect_eq(c[2].predicted, 0);
    cr_expect_eq(c[2].zero_div, (unsigned)FER_ZERO_DIV_PRECISION);
    /* d: no support, predicted once -> precision 0/1 real, recall 0/0 flagged. */
    cr_expect_eq(c[3].support, 0);
    cr_expect_eq(c[3].predicted, 1);
    cr_expect_eq(c[3].recall, 0.0);
    cr_expect_eq(c[3].zero_div, (unsigned)FER_ZERO_DIV_RECALL);
    /* e: neither -> all three 0/0. */
    cr_expect_eq(c[4].zero_div,
                 (unsigned)(FER_ZERO_DIV_PRECISION | FER_ZERO_DIV_RECALL | FER_ZERO_DIV_F1));
    cr_expect_eq(c[4].precision + c[4].recall + c[4].f1, 0.0);
    cr_expect_eq(m.zero_div_any,
                 (unsigned)(FER_ZERO_DIV_PRECISION | FER_ZERO_DIV_RECALL | FER_ZERO_DIV_F1));
    fer_metrics_free(&m);
}

Test(eval_metrics, macro_and_weighted_averages_by_hand)
{
    fer_metrics m;
    fill9(&m);
    /* macro over all 5 classes, zeros included (sklearn with labels given). */
    cr_expect_float_eq(m.macro.precision, (0.5 + 0.25) / 5, TOL);
    cr_expect_float_eq(m.macro.recall, (2.0 / 3 + 1.0 / 3) / 5, TOL);
    cr_expect_float_eq(m.macro.f1, (4.0 / 7 + 2.0 / 7) / 5, TOL);
    cr_expect_eq(m.macro.support, 9);
    /* weighted by support 3,3,3,0,0 */
    cr_expect_float_eq(m.weighted.precision, (3 * 0.5 + 3 * 0.25) / 9, TOL);
    cr_expect_float_eq(m.weighted.recall, 3.0 / 9, TOL); /* = accuracy, always */
    cr_expect_float_eq(m.weighted.f1, (3 * 4.0 / 7 + 3 * 2.0 / 7) / 9, TOL);
    cr_expect_eq(m.weighted.support, 9);
    fer_metrics_free(&m);
}

/* The example of sklearn's classification_report documentation:
 * y_true [0 1 2 2 2], y_pred [0 0 2 2 1] -> precision .50 .00 1.00,
 * recall 1.00 .00 .67, f1 .67 .00 .80; macro .50 .56 .49; weighted .70 .60 .61. */
Test(eval_metrics, sklearn_documentation_example)
{
    static const int yt[5] = {0, 1, 2, 2, 2}, yp[5] = {0, 0, 2, 2, 1};
    static const char *const nm[3] = {"class 0", "class 1", "class 2"};
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_init(&m, 3, nm, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < 5; i++) cr_assert_eq(fer_metrics_add_prediction(&m, yt[i], yp[i], &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    cr_expect_float_eq(m.per_class[0].precision, 0.5, TOL);
    cr_expect_float_eq(m.per_class[0].f1, 2.0 / 3, TOL);
    cr_expect_float_eq(m.per_class[1].precision, 0.0, TOL);
    cr_expect_eq(m.per_class[1].zero_div, 0u, "class 1 was predicted once: 0/1 is no 0/0");
    cr_expect_float_eq(m.per_class[2].recall, 2.0 / 3, TOL);
    cr_expect_float_eq(m.per_class[2].f1, 0.8, TOL);
    cr_expect_float_eq(m.macro.recall, (1 + 0 + 2.0 / 3) / 3, TOL);
    cr_expect_float_eq(m.macro.f1, (2.0 / 3 + 0 + 0.8) / 3, TOL);
    cr_expect_float_eq(m.weighted.precision, (0.5 + 0 + 3) / 5, TOL);
    cr_expect_float_eq(m.weighted.f1, (2.0 / 3 + 0 + 3 * 0.8) / 5, TOL);
    cr_expect_float_eq(m.accuracy, 0.6, TOL);
    cr_expect(isnan(m.top2_accuracy) && isnan(m.log_loss), "no probabilities -> NAN");
    fer_metrics_free(&m);
}

Test(eval_metrics, top2_log_loss_and_ties)
{
    static const char *const nm[3] = {"x", "y", "z"};
    const float p[5][3] = {
        {0.7f, 0.2f, 0.1f}, /* label 0: right, top-2 */
        {0.5f, 0.3f, 0.2f}, /* label 1: wrong, second -> top-2 */
        {0.5f, 0.3f, 0.2f}, /* label 2: wrong, third */
        {0.4f, 0.2f, 0.4f}, /* label 2: tie with 0 -> argmax 0 (lowest), label second -> top-2 */
        {0.0f, 1.0f, 0.0f}, /* label 0: p = 0 -> clipped to eps; tie with z, so second -> top-2 */
    };
    const int lab[5] = {0, 1, 2, 2, 0};
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_compute(&m, 3, nm, 5, lab, &p[0][0], &err), NN_OK, "%s", err.msg);
    cr_expect_eq(m.n_correct, 1);
    cr_expect_eq(fer_metrics_count(&m, 2, 0), 2, "the tie went to the lowest index");
    cr_expect_eq(m.n_top2, 4);
    cr_expect_float_eq(m.top2_accuracy, 0.8, TOL);
    const double eps = FLT_EPSILON;
    double want = -(log((double)0.7f) + log((double)0.3f) + log((double)0.2f) + log((double)0.4f) +
                    log(eps / (eps + (1 - eps) + eps))) / 5;
    cr_expect_float_eq(m.log_loss, want, 1e-6, "log_loss %.9f want %.9f", m.log_loss, want);
    cr_expect(m.log_loss < 5, "one confident mistake is bounded (~16/5), not inf");
    fer_metrics_free(&m);
}

Test(eval_metrics, argmax_first_of_ties)
{
    const float p[4] = {0.1f, 0.4f, 0.4f, 0.1f};
    cr_expect_eq(fer_argmax(p, 4), 1);
    cr_expect_eq(fer_argmax(p, 1), 0);
}

Test(eval_metrics, streaming_matches_compute_and_finish_recomputes)
{
    float probs[9 * 5];
    for (int i = 0; i < 9; i++) one_hotish(probs + 5 * i, 5, preds9[i]);
    fer_metrics a, b;
    nn_error err;
    cr_assert_eq(fer_metrics_compute(&a, 5, names5, 9, labels9, probs, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_metrics_init(&b, 5, names5, &err), NN_OK);
    for (int i = 0; i < 4; i++) cr_assert_eq(fer_metrics_add(&b, labels9[i], probs + 5 * i, NULL, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&b, &err), NN_OK);
    cr_expect_float_eq(b.accuracy, 3.0 / 4, TOL);
    for (int i = 4; i < 9; i++) cr_assert_eq(fer_metrics_add(&b, labels9[i], probs + 5 * i, NULL, &err), NN_OK);
    cr_expect_eq(b.finished, 0, "an add makes the derived fields stale");
    cr_assert_eq(fer_metrics_finish(&b, &err), NN_OK);
    cr_expect_eq(memcmp(a.confusion, b.confusion, 25 * sizeof *a.confusion), 0);
    cr_expect_float_eq(a.accuracy, b.accuracy, TOL);
    cr_expect_float_eq(a.macro.f1, b.macro.f1, TOL);
    cr_expect_float_eq(a.log_loss, b.log_loss, TOL);
    fer_metrics_free(&a);
    fer_metrics_free(&b);
}

Test(eval_metrics, default_names_are_fer2013)
{
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_init(&m, 7, NULL, &err), NN_OK, "%s", err.msg);
    static const char *const want[7] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
    for (int i = 0; i < 7; i++) {
        cr_expect_str_eq(m.names[i], want[i]);
        cr_expect_str_eq(fer_metrics_fer2013_name(i), want[i]);
    }
    cr_expect_null(fer_metrics_fer2013_name(7));
    fer_metrics_free(&m);
    fer_metrics_free(&m); /* zeroed: harmless */
    fer_metrics_free(NULL);
}

Test(eval_metrics, bad_arguments_are_refused)
{
    fer_metrics m;
    nn_error err;
    cr_expect_eq(fer_metrics_init(&m, 0, names5, &err), NN_ERR_ARG);
    cr_expect_eq(fer_metrics_init(&m, FER_METRICS_MAX_CLASSES + 1, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_metrics_init(&m, 5, NULL, &err), NN_ERR_ARG, "no default names for k=5");
    static const char *const dup[3] = {"a", "b", "a"};
    cr_expect_eq(fer_metrics_init(&m, 3, dup, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "'a'") != NULL, "%s", err.msg);
    static const char *const ctl[2] = {"a", "b\nc"};
    cr_expect_eq(fer_metrics_init(&m, 2, ctl, &err), NN_ERR_ARG);
    static const char *const empty[2] = {"a", ""};
    cr_expect_eq(fer_metrics_init(&m, 2, empty, &err), NN_ERR_ARG);
    cr_expect_null(m.names, "failed init leaves m zeroed");

    cr_assert_eq(fer_metrics_init(&m, 3, (const char *const[]){"x", "y", "z"}, &err), NN_OK);
    cr_expect_eq(fer_metrics_finish(&m, &err), NN_ERR_ARG, "no samples");
    const float ok[3] = {0.2f, 0.3f, 0.5f};
    const float logits[3] = {2.0f, -1.0f, 0.5f};
    const float nan3[3] = {NAN, 0.5f, 0.5f};
    const float neg[3] = {-0.25f, 0.75f, 0.5f};
    const float sum09[3] = {0.3f, 0.3f, 0.3f};
    cr_assert_eq(fer_metrics_add(&m, 0, ok, NULL, &err), NN_OK);
    cr_expect_eq(fer_metrics_add(&m, 3, ok, NULL, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "sample 1") && strstr(err.msg, "label 3"), "%s", err.msg);
    cr_expect_eq(fer_metrics_add(&m, -1, ok, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_metrics_add(&m, 0, logits, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_metrics_add(&m, 0, nan3, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_metrics_add(&m, 0, neg, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_metrics_add(&m, 0, sum09, NULL, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "logits") != NULL, "%s", err.msg);
    cr_expect_eq(fer_metrics_add(&m, 0, NULL, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_metrics_add_prediction(&m, 0, 3, &err), NN_ERR_ARG);
    cr_expect_eq(m.n, 1, "refused samples leave the counts alone");
    cr_expect_eq(m.n_probs, 1);
    /* One sample without probabilities makes top-2 and log-loss undefined. */
    cr_assert_eq(fer_metrics_add_prediction(&m, 1, 1, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    cr_expect(isnan(m.log_loss) && isnan(m.top2_accuracy));
    cr_expect_float_eq(m.accuracy, 0.5, TOL);
    fer_metrics_free(&m);

    const int lab[2] = {0, 5};
    const float pr[6] = {1, 0, 0, 0, 1, 0};
    cr_expect_eq(fer_metrics_compute(&m, 3, (const char *const[]){"x", "y", "z"}, 2, lab, pr, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "sample 1") != NULL, "%s", err.msg);
    cr_expect_null(m.confusion, "failed compute frees m");
}
