/* Finite-difference gradient checks for every op and a composed network,
 * with respect to inputs and parameters. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/gradcheck.h"
#include "nn/graph.h"

static void fill(nn_node *n, nn_rng *rng, float lo, float hi)
{
    float *v = nn_value(n);
    for (size_t i = 0; i < nn_node_size(n); i++) v[i] = nn_rng_range(rng, lo, hi);
}

static void check_step(nn_graph *g, nn_node *out, nn_node *wrt, const char *what, double step)
{
    nn_rng rng;
    nn_rng_seed(&rng, 99);
    nn_gradcheck_opts opts = {.step = step, .abs_tol = 1e-3, .rel_tol = 1e-2};
    nn_gradcheck_result res;
    nn_error err = {0};
    cr_assert_eq(nn_gradcheck(g, out, wrt, &opts, &rng, &res, &err), NN_OK, "%s: %s", what, err.msg);
    cr_assert_gt(res.checked, 0, "%s: nothing checked", what);
    cr_assert_eq(res.failed, 0, "%s: %zu of %zu elements wrong; worst [%zu] analytic %g numeric %g",
                 what, res.failed, res.checked, res.worst_index, res.worst_analytic,
                 res.worst_numeric);
    /* At most 5% on kinks, or one: a bias feeds every output of its channel,
     * so one of a handful can sit near a ReLU kink. */
    size_t total = res.checked + res.skipped_kinks, allowed = total / 20 > 1 ? total / 20 : 1;
    cr_assert_leq(res.skipped_kinks, allowed, "%s: %zu of %zu elements on kinks", what,
                  res.skipped_kinks, total);
}

static void check(nn_graph *g, nn_node *out, nn_node *wrt, const char *what)
{
    check_step(g, out, wrt, what, 1e-2);
}

/* A gradient that is right only up to a shifted index must fail: neighbouring
 * elements of a real gradient differ by more than the tolerance. */
static void assert_tolerance_catches_shift(const float *grad, size_t n)
{
    size_t distinct = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (fabsf(grad[i] - grad[i + 1]) > 1e-3f + 1e-2f * fabsf(grad[i + 1])) distinct++;
    cr_assert_gt(distinct, (n - 1) * 8 / 10, "only %zu of %zu neighbours distinguishable", distinct,
                 n - 1);
}

static nn_graph *conv_graph(int h, int w, int c, int kh, int kw, int f, nn_padding pad,
                            nn_activation act, nn_node **x, nn_node **k, nn_node **b, nn_node **y)
{
    nn_graph *g = nn_graph_create();
    *x = nn_input(g, "x", h, w, c, 1);
    *k = nn_param(g, "k", 4, (int[]){kh, kw, c, f});
    *b = nn_param(g, "b", 1, (int[]){f});
    *y = nn_conv2d(g, *x, *k, *b, pad, act);
    nn_error err = {0};
    cr_assert_eq(nn_graph_alloc(g, 2, NN_WITH_GRADS, &err), NN_OK, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    fill(*x, &rng, -1, 1);
    fill(*k, &rng, -0.5f, 0.5f);
    fill(*b, &rng, -0.5f, 0.5f);
    return g;
}

static void check_conv_channels(int c, int f, int kh, int kw, nn_padding pad, nn_activation act,
                                const char *what)
{
    nn_node *x, *k, *b, *y;
    nn_graph *g = conv_graph(6, 7, c, kh, kw, f, pad, act, &x, &k, &b, &y);
    nn_graph_set_training(g, 1);
    /* With ReLU the step below is small, and an F(4x4) Winograd forward
     * pass's rounding (about 1e-6 of an output), divided by it, would be
     * noise of a few 1e-3 in the numeric gradient: F(2x2) here. F(4x4)'s
     * outputs and input gradients are checked against direct convolution in
     * test_nn_winograd. */
    if (act == NN_ACT_RELU) cr_assert_eq(nn_graph_set_winograd(g, 2, NULL), NN_OK);
    /* With ReLU, a smaller step crosses fewer kinks of the outputs an input feeds. */
    const double step = act == NN_ACT_RELU ? 2e-3 : 1e-2;
    char buf[128];
    snprintf(buf, sizeof buf, "%s wrt x", what);
    check_step(g, y, x, buf, step);
    snprintf(buf, sizeof buf, "%s wrt kernel", what);
    check_step(g, y, k, buf, step);
    snprintf(buf, sizeof buf, "%s wrt bias", what);
    check_step(g, y, b, buf, step);
    nn_graph_free(g);
}

static void check_conv(int kh, int kw, nn_padding pad, nn_activation act, const char *what)
{
    check_conv_channels(2, 3, kh, kw, pad, act, what);
}

/* 3x3 with 8+ input channels: the Winograd forward and input-gradient paths. */
Test(gradcheck, conv2d_valid_3x3_wide) { check_conv_channels(8, 9, 3, 3, NN_PAD_VALID, NN_ACT_NONE, "conv valid 3x3 c8"); }
Test(gradcheck, conv2d_same_3x3_wide_relu) { check_conv_channels(10, 8, 3, 3, NN_PAD_SAME, NN_ACT_RELU, "conv same 3x3 c10 relu"); }

Test(gradcheck, conv2d_valid_3x3) { check_conv(3, 3, NN_PAD_VALID, NN_ACT_NONE, "conv valid 3x3"); }
Test(gradcheck, conv2d_same_3x3) { check_conv(3, 3, NN_PAD_SAME, NN_ACT_NONE, "conv same 3x3"); }
Test(gradcheck, conv2d_same_even_2x2) { check_conv(2, 2, NN_PAD_SAME, NN_ACT_NONE, "conv same 2x2"); }
Test(gradcheck, conv2d_general_3x5) { check_conv(3, 5, NN_PAD_VALID, NN_ACT_NONE, "conv valid 3x5"); }
Test(gradcheck, conv2d_same_5x3_relu) { check_conv(5, 3, NN_PAD_SAME, NN_ACT_RELU, "conv same 5x3 relu"); }
Test(gradcheck, conv2d_valid_relu) { check_conv(3, 3, NN_PAD_VALID, NN_ACT_RELU, "conv valid relu"); }

/* Channel counts past one vector register (16 floats with AVX-512), with a
 * partial last chunk: the Winograd transforms' full-width path and its tail. */
Test(gradcheck, conv2d_valid_3x3_vector_width) { check_conv_channels(20, 24, 3, 3, NN_PAD_VALID, NN_ACT_NONE, "conv valid 3x3 c20 f24"); }
Test(gradcheck, conv2d_same_3x3_vector_width_relu) { check_conv_channels(32, 16, 3, 3, NN_PAD_SAME, NN_ACT_RELU, "conv same 3x3 c32 f16 relu"); }

/* x feeding two Winograd convolutions: the second input gradient adds to the first. */
Test(gradcheck, conv2d_winograd_input_gradient_accumulates)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 7, 6, 17, 1);
    nn_node *k1 = nn_param(g, "k1", 4, (int[]){3, 3, 17, 18});
    nn_node *k2 = nn_param(g, "k2", 4, (int[]){3, 3, 17, 18});
    nn_node *b = nn_param(g, "b", 1, (int[]){18});
    nn_node *y1 = nn_conv2d(g, x, k1, b, NN_PAD_VALID, NN_ACT_NONE);
    nn_node *y2 = nn_conv2d(g, x, k2, b, NN_PAD_VALID, NN_ACT_NONE);
    nn_node *y = nn_add(g, y1, y2);
    nn_error err = {0};
    cr_assert_eq(nn_graph_alloc(g, 2, NN_WITH_GRADS, &err), NN_OK, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    fill(x, &rng, -1, 1);
    fill(k1, &rng, -0.5f, 0.5f);
    fill(k2, &rng, -0.5f, 0.5f);
    fill(b, &rng, -0.5f, 0.5f);
    check(g, y, x, "two convs of one input, wrt x");
    nn_graph_free(g);
}

Test(gradcheck, conv2d_gradient_resolves_indices)
{
    nn_node *x, *k, *b, *y;
    nn_graph *g = conv_graph(6, 7, 2, 3, 3, 3, NN_PAD_VALID, NN_ACT_NONE, &x, &k, &b, &y);
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    float seed[2 * 4 * 5 * 3];
    cr_assert_eq(nn_node_size(y), sizeof seed / sizeof *seed);
    for (size_t i = 0; i < nn_node_size(y); i++) seed[i] = nn_rng_range(&rng, -1, 1);
    nn_graph_forward(g);
    cr_assert_eq(nn_graph_backward_seeded(g, y, seed, NULL), NN_OK);
    assert_tolerance_catches_shift(nn_grad(k), nn_node_size(k));
    assert_tolerance_catches_shift(nn_grad(x), nn_node_size(x));
    nn_graph_free(g);
}

Test(gradcheck, maxpool2_odd_size)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 5, 7, 3, 1);
    nn_node *y = nn_maxpool2(g, x);
    cr_assert_eq(nn_graph_alloc(g, 2, NN_WITH_GRADS, NULL), NN_OK);
    cr_assert_eq(y->shape[1], 2);
    cr_assert_eq(y->shape[2], 3);
    /* Distinct values, spaced wider than the step, so no tie is within reach. */
    nn_rng rng;
    nn_rng_seed(&rng, 2);
    size_t n = nn_node_size(x);
    uint32_t perm[2 * 5 * 7 * 3];
    for (uint32_t i = 0; i < n; i++) perm[i] = i;
    nn_rng_shuffle(&rng, perm, (uint32_t)n);
    for (size_t i = 0; i < n; i++) nn_value(x)[i] = 0.05f * (float)perm[i];
    check(g, y, x, "maxpool2 wrt x");
    nn_graph_free(g);
}

Test(gradcheck, relu)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 4, 5, 2, 1);
    nn_node *y = nn_relu(g, x);
    cr_assert_eq(nn_graph_alloc(g, 3, NN_WITH_GRADS, NULL), NN_OK);
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    fill(x, &rng, -1, 1);
    for (size_t i = 0; i < nn_node_size(x); i++) /* keep away from the kink at 0 */
        if (fabsf(nn_value(x)[i]) < 0.05f) nn_value(x)[i] = 0.3f;
    check(g, y, x, "relu wrt x");
    nn_graph_free(g);
}

Test(gradcheck, dropout_training_and_inference)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 4, 4, 3, 1);
    nn_node *y = nn_dropout(g, x, 0.5f);
    cr_assert_eq(nn_graph_alloc(g, 2, NN_WITH_GRADS, NULL), NN_OK);
    nn_rng rng;
    nn_rng_seed(&rng, 4);
    fill(x, &rng, -1, 1);
    nn_graph_set_rng(g, &rng);
    nn_graph_set_training(g, 1);
    nn_graph_forward(g);
    size_t dropped = 0;
    for (size_t i = 0; i < nn_node_size(y); i++) {
        float v = nn_value(y)[i], in = nn_value(x)[i];
        cr_assert(v == 0.0f || fabsf(v - 2.0f * in) < 1e-6f, "element %zu: %g from %g", i, v, in);
        dropped += v == 0.0f;
    }
    cr_assert(dropped > 20 && dropped < 76, "dropped %zu of 96 at rate 0.5", dropped);
    nn_graph_freeze_masks(g, 1);
    check(g, y, x, "dropout (training) wrt x");
    nn_graph_set_training(g, 0);
    nn_graph_forward(g);
    cr_assert_eq(memcmp(nn_value(y), nn_value(x), nn_node_size(x) * sizeof(float)), 0);
    check(g, y, x, "dropout (inference) wrt x");
    nn_graph_free(g);
}

Test(gradcheck, flatten_dense)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 3, 2, 2, 1);
    nn_node *f = nn_flatten(g, x);
    nn_node *w = nn_param(g, "w", 2, (int[]){12, 5});
    nn_node *b = nn_param(g, "b", 1, (int[]){5});
    nn_node *y = nn_dense(g, f, w, b, NN_ACT_NONE);
    cr_assert_eq(nn_graph_alloc(g, 3, NN_WITH_GRADS, NULL), NN_OK);
    cr_assert_eq(f->shape[1], 12);
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    fill(x, &rng, -1, 1);
    fill(w, &rng, -0.5f, 0.5f);
    fill(b, &rng, -0.5f, 0.5f);
    check(g, y, x, "dense wrt x (through flatten)");
    check(g, y, w, "dense wrt kernel");
    check(g, y, b, "dense wrt bias");
    nn_graph_free(g);
}

Test(gradcheck, dense_relu)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 6, 0, 0, 1);
    nn_node *w = nn_param(g, "w", 2, (int[]){6, 4});
    nn_node *b = nn_param(g, "b", 1, (int[]){4});
    nn_node *y = nn_dense(g, x, w, b, NN_ACT_RELU);
    cr_assert_eq(nn_graph_alloc(g, 4, NN_WITH_GRADS, NULL), NN_OK);
    nn_rng rng;
    nn_rng_seed(&rng, 6);
    fill(x, &rng, -1, 1);
    fill(w, &rng, -0.5f, 0.5f);
    fill(b, &rng, -0.5f, 0.5f);
    check(g, y, x, "dense relu wrt x");
    check(g, y, w, "dense relu wrt kernel");
    check(g, y, b, "dense relu wrt bias");
    nn_graph_free(g);
}

/* x feeds two consumers: backward must add both contributions. */
Test(gradcheck, add_with_fan_out)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 5, 0, 0, 1);
    nn_node *r = nn_relu(g, x);
    nn_node *y = nn_add(g, x, r);
    cr_assert_eq(nn_graph_alloc(g, 3, NN_WITH_GRADS, NULL), NN_OK);
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    fill(x, &rng, -1, 1);
    check(g, y, x, "add(x, relu(x)) wrt x");
    nn_graph_free(g);
}

Test(gradcheck, softmax_xent)
{
    nn_graph *g = nn_graph_create();
    nn_node *z = nn_input(g, "z", 7, 0, 0, 1);
    nn_node *loss = nn_softmax_xent(g, z);
    cr_assert_eq(nn_graph_alloc(g, 4, NN_WITH_GRADS, NULL), NN_OK);
    nn_rng rng;
    nn_rng_seed(&rng, 8);
    fill(z, &rng, -3, 3);
    int32_t labels[4] = {0, 6, 3, 3};
    nn_graph_set_labels(g, labels);
    check(g, loss, z, "softmax_xent wrt logits");
    /* Huge logits stay finite: the max is subtracted before exp. */
    for (size_t i = 0; i < nn_node_size(z); i++) nn_value(z)[i] *= 1000.0f;
    nn_graph_forward(g);
    cr_assert(isfinite(nn_value(loss)[0]), "loss %g", nn_value(loss)[0]);
    nn_graph_free(g);
}

/* Label smoothing: the loss against the smoothed target computed here from
 * the probabilities, and its gradient by finite differences. */
Test(gradcheck, softmax_xent_label_smoothing)
{
    nn_graph *g = nn_graph_create();
    nn_node *z = nn_input(g, "z", 5, 0, 0, 1);
    nn_node *loss = nn_softmax_xent(g, z);
    cr_assert_eq(nn_graph_alloc(g, 3, NN_WITH_GRADS, NULL), NN_OK);
    nn_error err = {0};
    cr_assert_eq(nn_softmax_xent_set_smoothing(loss, 0.2f, &err), NN_OK, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, 9);
    fill(z, &rng, -3, 3);
    int32_t labels[3] = {4, 0, 2};
    nn_graph_set_labels(g, labels);
    nn_graph_forward(g);
    const float *p = nn_softmax_xent_probs(loss);
    double want = 0;
    for (int b = 0; b < 3; b++)
        for (int k = 0; k < 5; k++)
            want -= ((k == labels[b] ? 0.8 : 0.0) + 0.2 / 5) * log((double)p[b * 5 + k]) / 3;
    cr_expect(fabs(nn_value(loss)[0] - want) < 1e-5, "loss %g, by hand %g", nn_value(loss)[0], want);
    check(g, loss, z, "softmax_xent with label smoothing wrt logits");

    cr_expect_eq(nn_softmax_xent_set_smoothing(loss, 1.0f, &err), NN_ERR_ARG);
    cr_expect_eq(nn_softmax_xent_set_smoothing(loss, -0.1f, &err), NN_ERR_ARG);
    cr_expect_eq(nn_softmax_xent_set_smoothing(z, 0.1f, &err), NN_ERR_ARG);
    nn_graph_free(g);
}

/* The paper's layer types composed: conv-relu, conv(same), pool, dropout,
 * flatten, dense-relu, dense, softmax cross-entropy. */
Test(gradcheck, composed_network)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 8, 8, 1, 1);
    nn_node *k1 = nn_param(g, "k1", 4, (int[]){3, 3, 1, 4});
    nn_node *b1 = nn_param(g, "b1", 1, (int[]){4});
    nn_node *k2 = nn_param(g, "k2", 4, (int[]){3, 3, 4, 4});
    nn_node *b2 = nn_param(g, "b2", 1, (int[]){4});
    nn_node *h = nn_conv2d(g, x, k1, b1, NN_PAD_VALID, NN_ACT_RELU);
    h = nn_conv2d(g, h, k2, b2, NN_PAD_SAME, NN_ACT_RELU);
    h = nn_maxpool2(g, h);
    h = nn_dropout(g, h, 0.25f);
    h = nn_flatten(g, h);
    nn_node *w3 = nn_param(g, "w3", 2, (int[]){36, 6});
    nn_node *b3 = nn_param(g, "b3", 1, (int[]){6});
    nn_node *w4 = nn_param(g, "w4", 2, (int[]){6, 3});
    nn_node *b4 = nn_param(g, "b4", 1, (int[]){3});
    h = nn_dense(g, h, w3, b3, NN_ACT_RELU);
    nn_node *logits = nn_dense(g, h, w4, b4, NN_ACT_NONE);
    nn_node *loss = nn_softmax_xent(g, logits);
    nn_error err = {0};
    cr_assert_eq(nn_graph_alloc(g, 3, NN_WITH_GRADS, &err), NN_OK, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, 9);
    fill(x, &rng, -1, 1);
    nn_node *params[] = {k1, b1, k2, b2, w3, b3, w4, b4};
    for (size_t i = 0; i < 8; i++) fill(params[i], &rng, -0.6f, 0.6f);
    int32_t labels[3] = {2, 0, 1};
    nn_graph_set_labels(g, labels);
    nn_graph_set_rng(g, &rng);
    nn_graph_set_training(g, 1);
    nn_graph_forward(g);
    nn_graph_freeze_masks(g, 1);
    /* A smaller step: deep in the network a 1e-2 nudge can cross ReLU kinks of
     * units downstream, whose one-sided differences agree too closely to flag. */
    check_step(g, loss, x, "network wrt input", 2e-3);
    const char *names[] = {"k1", "b1", "k2", "b2", "w3", "b3", "w4", "b4"};
    for (size_t i = 0; i < 8; i++) {
        char what[64];
        snprintf(what, sizeof what, "network wrt %s", names[i]);
        check_step(g, loss, params[i], what, 2e-3);
    }
    nn_graph_free(g);
}
