#include "nn/adam.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

nn_status nn_adam_init(nn_adam *opt, size_t n, nn_error *err)
{
    *opt = (nn_adam){.lr = NN_ADAM_DEFAULT_LR, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-7f,
                     .n = n};
    if (n == 0) return nn_fail(err, NN_ERR_ARG, "adam: no parameters");
    opt->m = calloc(n, sizeof(float));
    opt->v = calloc(n, sizeof(float));
    if (!opt->m || !opt->v) {
        nn_adam_free(opt);
        return nn_fail(err, NN_ERR_NOMEM, "adam: cannot allocate state for %zu parameters", n);
    }
    return NN_OK;
}

void nn_adam_free(nn_adam *opt)
{
    free(opt->m);
    free(opt->v);
    opt->m = opt->v = NULL;
}

void nn_adam_step(nn_adam *opt, float *params, const float *grads, int threads)
{
    opt->t++;
    const double t = (double)opt->t;
    const float lr_t =
        (float)(opt->lr * sqrt(1.0 - pow(opt->beta2, t)) / (1.0 - pow(opt->beta1, t)));
    const float b1 = opt->beta1, b2 = opt->beta2, eps = opt->epsilon;
    float *m = opt->m, *v = opt->v;
    const size_t n = opt->n;
#pragma omp parallel for num_threads(threads < 1 ? 1 : threads) schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = grads[i];
        float mi = b1 * m[i] + (1.0f - b1) * g, vi = b2 * v[i] + (1.0f - b2) * g * g;
        /* Subnormals flushed to zero. A weight whose gradient stays 0 (one
         * fed by a dead ReLU) has its m shrink by beta1 each step, into the
         * subnormal range within ~800 steps, where x86 arithmetic is ~100x
         * slower: half the DCNN's m got there, and Adam took 17% of a
         * training step. TensorFlow runs flush-to-zero, so Keras' Adam does
         * the same. */
        mi = fabsf(mi) < FLT_MIN ? 0.0f : mi;
        vi = vi < FLT_MIN ? 0.0f : vi;
        m[i] = mi;
        v[i] = vi;
        params[i] -= lr_t * mi / (sqrtf(vi) + eps);
    }
}
