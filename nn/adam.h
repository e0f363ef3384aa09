/* adam.h: the Adam optimiser over one flat parameter block, with Keras'
 * defaults and Keras' update rule (Kingma & Ba 2015, Algorithm 1 with the
 * "epsilon hat" placement of Section 2):
 *
 *   t += 1
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *   p -= lr_t * m / (sqrt(v) + epsilon)
 *
 * (PyTorch adds epsilon to sqrt(v_hat) instead; the two differ only while
 * sqrt(v) is comparable to epsilon = 1e-7.) m and v are stored as 0 once
 * below FLT_MIN: subnormal floats would slow every later step (adam.c). The
 * state (m, v, t) is plain data so checkpoints can store it and a resumed
 * run continues exactly.
 */
#ifndef NN_ADAM_H
#define NN_ADAM_H

#include <stddef.h>
#include <stdint.h>

#include "nn/error.h"

typedef struct {
    float lr, beta1, beta2, epsilon;
    int64_t t;      /* steps taken */
    size_t n;       /* parameters */
    float *m, *v;   /* first and second moments, n each, owned */
} nn_adam;

#define NN_ADAM_DEFAULT_LR 0.001f

/* Allocates zeroed state for n parameters with Keras' defaults
 * (lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7). */
nn_status nn_adam_init(nn_adam *opt, size_t n, nn_error *err);
void nn_adam_free(nn_adam *opt);
/* One update of params (n) from grads (n). */
void nn_adam_step(nn_adam *opt, float *params, const float *grads, int threads);

#endif
