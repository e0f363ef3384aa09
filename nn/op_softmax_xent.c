/* Softmax fused with categorical cross-entropy over integer labels.
 *
 *   logits (B,K), labels (B) in 0..K-1  ->  loss = -(1/B) sum_b sum_k q[b,k] log p[b,k]
 *   q = onehot(label), or with label smoothing eps (Szegedy et al. 2016)
 *   q = (1 - eps) onehot(label) + eps / K.
 *   p = softmax(logits) computed as exp(z - max z) / sum, and
 *   log p[k] = z_k - max z - log(sum exp(z - max z)), so no exp overflows and no
 *   log(0) appears however confident the logits.
 *   dlogits = dloss * (p - q) / B
 *
 * The probabilities are kept (scratch) for backward and for accuracy.
 */
#include <math.h>

#include "nn/graph_internal.h"

static size_t xent_scratch(const nn_node *n, int batch)
{
    return (size_t)batch * n->inputs[0]->shape[1] * sizeof(float);
}

static void xent_forward(nn_graph *g, nn_node *n)
{
    const nn_node *zn = n->inputs[0];
    const int B = g->batch, K = zn->shape[1];
    float *p = n->scratch;
    double total = 0;
    for (int b = 0; b < B; b++) {
        const float *z = zn->value + (size_t)b * K;
        float *pb = p + (size_t)b * K;
        float max = z[0];
        for (int k = 1; k < K; k++)
            if (z[k] > max) max = z[k];
        double sum = 0;
        for (int k = 0; k < K; k++) sum += exp((double)z[k] - max);
        for (int k = 0; k < K; k++) pb[k] = (float)(exp((double)z[k] - max) / sum);
        int y = g->labels ? g->labels[b] : -1;
        /* A missing or out-of-range label is a caller bug; it contributes a
         * NaN loss rather than reading out of bounds, so it cannot go unseen. */
        if (y < 0 || y >= K) {
            total = NAN;
            continue;
        }
        const double log_sum = log(sum), eps = n->rate;
        double loss = -(1.0 - eps) * ((double)z[y] - max - log_sum);
        if (eps > 0)
            for (int k = 0; k < K; k++) loss -= eps / K * ((double)z[k] - max - log_sum);
        total += loss;
    }
    n->value[0] = (float)(total / B);
}

static void xent_backward(nn_graph *g, nn_node *n)
{
    nn_node *zn = n->inputs[0];
    if (!zn->grad) return;
    const int B = g->batch, K = zn->shape[1];
    const float *p = n->scratch;
    const float scale = n->grad[0] / (float)B;
    const float off = n->rate / (float)K, on = 1.0f - n->rate + off; /* q for k != y, k == y */
    int acc = nn_grad_accumulate(zn);
    for (int b = 0; b < B; b++) {
        int y = g->labels ? g->labels[b] : -1;
        for (int k = 0; k < K; k++) {
            float d = scale * (p[(size_t)b * K + k] - (k == y ? on : off));
            float *dz = zn->grad + (size_t)b * K + k;
            *dz = acc ? *dz + d : d;
        }
    }
}

const nn_op_def nn_op_softmax_xent_def = {.name = "softmax_xent",
                                          .scratch_bytes = xent_scratch,
                                          .forward = xent_forward,
                                          .backward = xent_backward};

nn_node *nn_softmax_xent(nn_graph *g, nn_node *logits)
{
    nn_node *in[1] = {logits};
    nn_node *n = nn_graph_new_node(g, NN_OP_SOFTMAX_XENT, 1, in);
    if (!n) return NULL;
    if (logits->ndim != 2 || !logits->batched || logits->shape[1] < 2)
        return nn_graph_build_fail(g, NN_ERR_SHAPE,
                                   "softmax_xent: logits %s must be (B,K) with K >= 2", logits->name);
    n->batched = 0;
    n->ndim = 1;
    n->shape[0] = 1;
    n->size = 1;
    return n;
}

nn_status nn_softmax_xent_set_smoothing(nn_node *loss, float eps, nn_error *err)
{
    if (!loss || loss->op != NN_OP_SOFTMAX_XENT)
        return nn_fail(err, NN_ERR_ARG, "label smoothing: not a softmax_xent node");
    if (!(eps >= 0.0f && eps < 1.0f))
        return nn_fail(err, NN_ERR_ARG, "label smoothing %g is not in [0, 1)", (double)eps);
    loss->rate = eps;
    return NN_OK;
}

const float *nn_softmax_xent_probs(const nn_node *n)
{
    return (n && n->op == NN_OP_SOFTMAX_XENT) ? n->scratch : NULL;
}
