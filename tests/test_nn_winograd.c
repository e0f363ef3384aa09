/* The convolution (Winograd F(2x2,3x3) for 3x3 kernels, im2col + GEMM
 * otherwise) against a direct six-loop convolution written here, in training
 * and inference mode: same outputs up to float rounding, for valid and same
 * padding, odd and even sizes (partial edge tiles), batches, with and
 * without ReLU. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"

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
    for (int mode = 0; mode < 2; mode++) {
        nn_graph_set_training(g, mode);
        for (size_t i = 0; i < n; i++) nn_value(y)[i] = NAN;
        nn_graph_forward(g);
        for (size_t i = 0; i < n; i++) {
            float got = nn_value(y)[i];
            cr_assert(fabs(got - ref[i]) <= 1e-5 * scale + 1e-6,
                      "%dx%dx%d->%d pad %d act %d batch %d training %d: element %zu: %g, direct %g",
                      h, w, c, f, pad, act, batch, mode, i, got, ref[i]);
        }
    }
    free(ref);
    nn_graph_free(g);
}

Test(winograd, matches_im2col_valid) { compare(12, 10, 8, 16, NN_PAD_VALID, NN_ACT_NONE, 3, 1); }
Test(winograd, matches_im2col_odd_output) { compare(11, 9, 16, 8, NN_PAD_VALID, NN_ACT_NONE, 2, 2); }
Test(winograd, matches_im2col_same_relu) { compare(7, 13, 12, 20, NN_PAD_SAME, NN_ACT_RELU, 4, 2); }
Test(winograd, matches_im2col_paper_layer) { compare(22, 22, 64, 64, NN_PAD_VALID, NN_ACT_RELU, 5, 2); }
Test(winograd, matches_im2col_tiny_output) { compare(3, 3, 8, 8, NN_PAD_VALID, NN_ACT_NONE, 200, 2); }
