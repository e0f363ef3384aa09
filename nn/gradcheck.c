#include "nn/gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double weighted_sum(nn_graph *g, nn_node *out, const float *r)
{
    nn_graph_forward(g);
    const float *v = nn_value(out);
    double s = 0;
    for (size_t i = 0; i < nn_node_size(out); i++) s += (double)r[i] * v[i];
    return s;
}

nn_status nn_gradcheck(nn_graph *g, nn_node *out, nn_node *wrt, const nn_gradcheck_opts *opts,
                       nn_rng *rng, nn_gradcheck_result *res, nn_error *err)
{
    nn_gradcheck_opts o = opts ? *opts : (nn_gradcheck_opts){0};
    if (o.step <= 0) o.step = 1e-2;
    if (o.abs_tol <= 0) o.abs_tol = 1e-3;
    if (o.rel_tol <= 0) o.rel_tol = 1e-2;
    memset(res, 0, sizeof *res);
    if (!g || !out || !wrt || !rng) return nn_fail(err, NN_ERR_ARG, "gradcheck: NULL argument");

    size_t n_out = nn_node_size(out), n_wrt = nn_node_size(wrt);
    float *r = malloc(n_out * sizeof *r), *analytic = malloc(n_wrt * sizeof *analytic);
    if (!r || !analytic) {
        free(r);
        free(analytic);
        return nn_fail(err, NN_ERR_NOMEM, "gradcheck: out of memory");
    }
    for (size_t i = 0; i < n_out; i++) r[i] = n_out == 1 ? 1.0f : nn_rng_range(rng, -1.0f, 1.0f);

    nn_graph_forward(g);
    nn_status st = nn_graph_backward_seeded(g, out, r, err);
    if (!st && !nn_grad(wrt)) st = nn_fail(err, NN_ERR_ARG, "gradcheck: %s has no gradient", wrt->name);
    if (st) {
        free(r);
        free(analytic);
        return st;
    }
    memcpy(analytic, nn_grad(wrt), n_wrt * sizeof *analytic);

    size_t stride = (o.max_elems && n_wrt > o.max_elems) ? n_wrt / o.max_elems : 1;
    float *x = nn_value(wrt);
    for (size_t i = 0; i < n_wrt; i += stride) {
        const float saved = x[i];
        x[i] = saved + (float)o.step;
        double plus = weighted_sum(g, out, r);
        x[i] = saved - (float)o.step;
        double minus = weighted_sum(g, out, r);
        x[i] = saved;
        x[i] = saved + (float)(o.step / 2);
        double plus_half = weighted_sum(g, out, r);
        x[i] = saved - (float)(o.step / 2);
        double minus_half = weighted_sum(g, out, r);
        x[i] = saved;
        double numeric = (plus - minus) / (2.0 * o.step);
        double numeric_half = (plus_half - minus_half) / o.step;
        double tol = o.abs_tol + o.rel_tol * fabs(numeric);
        /* Smooth: both central differences agree to O(step^2). A kink within
         * the step makes them weight its two slopes differently. */
        if (fabs(numeric - numeric_half) > tol / 2) {
            res->skipped_kinks++;
            continue;
        }
        double e = fabs(analytic[i] - numeric);
        res->checked++;
        if (e > tol) res->failed++;
        if (e > res->max_abs_err) {
            res->max_abs_err = e;
            res->worst_index = i;
            res->worst_analytic = analytic[i];
            res->worst_numeric = numeric;
        }
    }
    weighted_sum(g, out, r); /* leave values as they were before the check */
    free(r);
    free(analytic);
    return NN_OK;
}
