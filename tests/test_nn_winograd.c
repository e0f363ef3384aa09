/* The convolution (Winograd F(4x4,3x3) or F(2x2,3x3) for 3x3 kernels,
 * im2col + GEMM otherwise) against a direct six-loop convolution written
 * here, in training and inference mode, with each algorithm the graph can be
 * told to use (nn_graph_set_winograd 4, 2, 0): same outputs up to float
 * rounding, for valid and same padding, odd and even sizes (partial edge
 * tiles), batches, with and without ReLU; and the input gradient likewise. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/winograd.h"

static void compare(int h, int w, int c, int f, nn_padding pad, nn_activation act, int batch,
                    int threads)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", h, w, c, 0);
    nn_node *k = nn_param(g, "k", 4, (int[]){3, 3, c, f});
    nn_node *b = nn_param(g, "b", 1, (int[]){f});
    nn_node *y = nn_conv2d(g, x, k, b, pad, act);
    nn_error err = {0};
    cr_assert_eq(nn_graph_alloc(g, batch, NN_NO_GRADS, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(nn_graph_set_threads(g, threads, &err), NN_OK);
    nn_rng rng;
    nn_rng_seed(&rng, (uint64_t)(h * 1000 + w * 10 + c));
    for (size_t i = 0; i < nn_node_size(x); i++) nn_value(x)[i] = nn_rng_range(&rng, -2, 2);
    for (size_t i = 0; i < nn_node_size(k); i++) nn_value(k)[i] = nn_rng_range(&rng, -0.3f, 0.3f);
    for (size_t i = 0; i < nn_node_size(b); i++) nn_value(b)[i] = nn_rng_range(&rng, -0.5f, 0.5f);

    /* direct convolution in double */
    const int oh = y->shape[1], ow = y->shape[2], pt = pad == NN_PAD_SAME ? 1 : 0;
    size_t n = nn_node_size(y);
    float *ref = malloc(n * sizeof *ref);
    const float *xv = nn_value(x), *kv = nn_value(k), *bv = nn_value(b);
    double scale = 0;
    for (int bi = 0; bi < batch; bi++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int fo = 0; fo < f; fo++) {
                    double s = bv[fo];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy + ky - pt, ix = ox + kx - pt;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (int ci = 0; ci < c; ci++)
                                s += (double)xv[(((size_t)bi * h + iy) * w + ix) * c + ci] *
                                     kv[((size_t)(ky * 3 + kx) * c + ci) * f + fo];
                        }
                    if (act == NN_ACT_RELU && s < 0) s = 0;
                    ref[(((size_t)bi * oh + oy) * ow + ox) * f + fo] = (float)s;
                    scale = fmax(scale, fabs(s));
                }
    for (int max_m = 4; max_m >= 0; max_m -= 2)
        for (int mode = 0; mode < 2; mode++) {
            cr_assert_eq(nn_graph_set_winograd(g, max_m, &err), NN_OK);
            nn_graph_set_training(g, mode);
            for (size_t i = 0; i < n; i++) nn_value(y)[i] = NAN;
            nn_graph_forward(g);
            for (size_t i = 0; i < n; i++) {
                float got = nn_value(y)[i];
                cr_assert(fabs(got - ref[i]) <= 1e-5 * scale + 1e-6,
                          "%dx%dx%d->%d pad %d act %d batch %d training %d winograd %d: element %zu: "
                          "%g, direct %g",
                          h, w, c, f, pad, act, batch, mode, max_m, i, got, ref[i]);
            }
        }
    free(ref);
    nn_graph_free(g);
}

Test(winograd, matches_im2col_valid) { compare(12, 10, 8, 16, NN_PAD_VALID, NN_ACT_NONE, 3, 1); }
Test(winograd, matches_im2col_odd_output) { compare(11, 9, 16, 8, NN_PAD_VALID, NN_ACT_NONE, 2, 2); }
Test(winograd, matches_im2col_same_relu) { compare(7, 13, 12, 20, NN_PAD_SAME, NN_ACT_RELU, 4, 2); }
Test(winograd, matches_im2col_paper_layer) { compare(22, 22, 64, 64, NN_PAD_VALID, NN_ACT_RELU, 5, 2); }
/* Which tile size a layer gets: F(4x4) unless it needs as many multiplies. */
Test(winograd, tile_size_choice)
{
    const struct { int oh, ow, max_m, m; } cases[] = {
        {44, 44, 4, 4}, {18, 18, 4, 4}, {7, 7, 4, 4}, {5, 5, 4, 2}, {6, 6, 4, 2},
        {2, 2, 4, 2},   {1, 1, 4, 2},   {44, 44, 2, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nn_winograd_dims d = nn_winograd_make_dims(cases[i].oh + 2, cases[i].ow + 2, 64, 64,
                                                   cases[i].oh, cases[i].ow, 0, 0, cases[i].max_m);
        cr_expect_eq(d.m, cases[i].m, "%dx%d output, max %d: m %d", cases[i].oh, cases[i].ow,
                     cases[i].max_m, d.m);
        cr_expect_eq(nn_winograd_adjoint_dims(&d).max_m, cases[i].max_m);
    }
    nn_graph *g = nn_graph_create();
    cr_expect_eq(nn_graph_set_winograd(g, 3, NULL), NN_ERR_ARG);
    nn_graph_free(g);
}

Test(winograd, matches_im2col_tiny_output) { compare(3, 3, 8, 8, NN_PAD_VALID, NN_ACT_NONE, 200, 2); }

/* The input gradient (the adjoint convolution, by Winograd too) against a
 * direct transposed convolution in double: dx[i][j][c] = sum over outputs
 * that read x[i][j] of dy * kernel. x feeds two convolutions when twice, so
 * the second gradient is added to the first (accumulate mode). */
static void compare_input_grad(int h, int w, int c, int f, nn_padding pad, int batch, int twice)
{
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", h, w, c, 1);
    nn_node *k = nn_param(g, "k", 4, (int[]){3, 3, c, f});
    nn_node *b = nn_param(g, "b", 1, (int[]){f});
    nn_node *y = nn_conv2d(g, x, k, b, pad, NN_ACT_NONE);
    nn_node *y2 = twice ? nn_conv2d(g, x, k, b, pad, NN_ACT_NONE) : NULL;
    nn_node *out = twice ? nn_add(g, y, y2) : y;
    nn_error err = {0};
    cr_assert_eq(nn_graph_alloc(g, batch, NN_WITH_GRADS, &err), NN_OK, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, (uint64_t)(h * 7 + w * 3 + c));
    for (size_t i = 0; i < nn_node_size(x); i++) nn_value(x)[i] = nn_rng_range(&rng, -2, 2);
    for (size_t i = 0; i < nn_node_size(k); i++) nn_value(k)[i] = nn_rng_range(&rng, -0.3f, 0.3f);
    for (size_t i = 0; i < nn_node_size(b); i++) nn_value(b)[i] = 0;
    const size_t n = nn_node_size(out);
    float *seed = malloc(n * sizeof *seed);
    for (size_t i = 0; i < n; i++) seed[i] = nn_rng_range(&rng, -1, 1);

    const int oh = y->shape[1], ow = y->shape[2], pt = pad == NN_PAD_SAME ? 1 : 0;
    const float *kv = nn_value(k), *dx = nn_grad(x);
    double scale = 0, worst = 0;
    size_t worst_i = 0;
    double *ref = calloc(nn_node_size(x), sizeof *ref);
    for (int bi = 0; bi < batch; bi++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int fo = 0; fo < f; fo++) {
                    const double d = seed[(((size_t)bi * oh + oy) * ow + ox) * f + fo] * (twice ? 2 : 1);
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy + ky - pt, ix = ox + kx - pt;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (int ci = 0; ci < c; ci++)
                                ref[(((size_t)bi * h + iy) * w + ix) * c + ci] +=
                                    d * kv[((size_t)(ky * 3 + kx) * c + ci) * f + fo];
                        }
                }
    for (size_t i = 0; i < nn_node_size(x); i++) scale = fmax(scale, fabs(ref[i]));
    for (int max_m = 4; max_m >= 0; max_m -= 2) {
        cr_assert_eq(nn_graph_set_winograd(g, max_m, &err), NN_OK);
        nn_graph_forward(g);
        cr_assert_eq(nn_graph_backward_seeded(g, out, seed, &err), NN_OK, "%s", err.msg);
        worst = 0;
        for (size_t i = 0; i < nn_node_size(x); i++)
            if (fabs(dx[i] - ref[i]) > worst) worst = fabs(dx[i] - ref[i]), worst_i = i;
        cr_assert(worst <= 1e-5 * scale + 1e-6,
                  "%dx%dx%d->%d pad %d batch %d twice %d winograd %d: dx[%zu] = %g, direct %g", h,
                  w, c, f, pad, batch, twice, max_m, worst_i, dx[worst_i], ref[worst_i]);
    }
    free(ref);
    free(seed);
    nn_graph_free(g);
}

Test(winograd, input_grad_valid) { compare_input_grad(12, 10, 20, 24, NN_PAD_VALID, 2, 0); }
Test(winograd, input_grad_same_odd) { compare_input_grad(7, 9, 32, 16, NN_PAD_SAME, 3, 0); }
Test(winograd, input_grad_paper_layer) { compare_input_grad(22, 22, 64, 64, NN_PAD_VALID, 2, 0); }
Test(winograd, input_grad_small_accumulated) { compare_input_grad(6, 7, 17, 18, NN_PAD_VALID, 2, 1); }
Test(winograd, input_grad_same_accumulated) { compare_input_grad(6, 7, 10, 12, NN_PAD_SAME, 2, 1); }
