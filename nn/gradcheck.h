/* gradcheck.h: finite-difference check of reverse-mode gradients.
 *
 * For a node `out` and a tensor `wrt` (a parameter or requires-grad input) it
 * compares dL/dwrt from backward with central differences of the scalar
 * L = sum(r * out) for a fixed random r (L = out if out is a scalar loss).
 * L is accumulated in double so float32 round-off stays far below the
 * tolerance. Elements where the one-sided differences disagree sit on a kink
 * (ReLU at 0, a max-pool tie) within the step: they are counted as skipped,
 * not compared, as ggml's test-backend-ops does.
 *
 * The graph must be allocated with gradients and have its inputs filled; for
 * dropout, set training and nn_graph_freeze_masks after one forward so every
 * evaluation uses the same mask.
 */
#ifndef NN_GRADCHECK_H
#define NN_GRADCHECK_H

#include "nn/graph.h"

typedef struct {
    double step;      /* finite-difference step (default 1e-2) */
    double abs_tol;   /* pass if |analytic - numeric| <= abs_tol + rel_tol * |numeric| */
    double rel_tol;
    size_t max_elems; /* check at most this many elements, spread evenly (0 = all) */
} nn_gradcheck_opts;

typedef struct {
    size_t checked, failed, skipped_kinks;
    double max_abs_err;
    size_t worst_index;       /* element of wrt with the largest error */
    double worst_analytic, worst_numeric;
} nn_gradcheck_result;

nn_status nn_gradcheck(nn_graph *g, nn_node *out, nn_node *wrt, const nn_gradcheck_opts *opts,
                       nn_rng *rng, nn_gradcheck_result *res, nn_error *err);

#endif
