/* Softmax fused with categorical cross-entropy over integer labels.
 *
 *   logits (B,K), labels (B) in 0..K-1  ->  loss = -(1/B) sum_b log p[b, label_b]
 *   p = softmax(logits) computed as exp(z - max z) / sum, and
 *   log p[y] = z_y - max z - log(sum exp(z - max z)), so no exp overflows and no
 *   log(0) appears however confident the logits.
 *   dlogits = dloss * (p - onehot(label)) / B
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
        total += (y >= 0 && y < K) ? -((double)z[y] - max - log(sum)) : NAN;
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
    int acc = nn_grad_accumulate(zn);
    for (int b = 0; b < B; b++) {
        int y = g->labels ? g->labels[b] : -1;
        for (int k = 0; k < K; k++) {
            float d = scale * (p[(size_t)b * K + k] - (k == y ? 1.0f : 0.0f));
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

const float *nn_softmax_xent_probs(const nn_node *n)
{
    return (n && n->op == NN_OP_SOFTMAX_XENT) ? n->scratch : NULL;
}
