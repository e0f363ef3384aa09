/* haar_detect.c: multi-scale cascade detection (see vision/haar.h for the
 * algorithm and the OpenCV rules it follows).
 *
 * Layout, as in OpenCV's HaarEvaluator: every rectangle corner of every
 * feature becomes an offset into one buffer holding the upright integral
 * followed by the tilted one, for a row stride fixed by the frame width, so
 * that a feature value at window origin p is a few loads at p + offset. The
 * offsets are compiled once per frame width, not per scale: each scale's
 * integral uses the full-width stride.
 *
 * Speed comes from evaluating 8 horizontally neighbouring windows at once
 * (see vstump). At scales below 2, where windows step by 2 pixels, each
 * integral row is stored de-interleaved -- even columns, then odd columns at
 * a fixed offset `half` -- so that the same corner of 8 windows 2 pixels
 * apart is 8 consecutive cells; such scales use a second set of offsets.
 */
#include "vision/haar.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/haar_group.h"
#include "vision/haar_integral.h"
#include "vision/haar_resize.h"

/* One feature, compiled for a stride: corner offsets and weights. */
typedef struct {
    int32_t ofs[HAAR_MAX_RECTS][4];
    float w[HAAR_MAX_RECTS];
} cfeat;

/* The fast path (stump cascades whose stage sums are exact, i.e. every
 * cascade in opencv-data): a stump with its feature inlined, and its leaves
 * as one difference, since a stage sum is
 *   sum of right leaves + sum over stumps taking the left branch of (left - right).
 * OpenCV adds float leaves in double; when every leaf and threshold is a
 * multiple of 2^-shift and every partial sum stays below 2^53 * 2^-shift,
 * each of its double additions is exact, so int64 sums in units of
 * 2^-shift, added in any order, decide every stage exactly as it does.
 * Cheaper still, the sum is first taken in float with a proven error bound
 * E (vstage.lo/hi = threshold -/+ E): only a window whose float sum falls
 * within E of the threshold has its stage re-decided with the int64 sum. */
typedef struct {
    int32_t ofs[HAAR_MAX_RECTS][4];
    float w[HAAR_MAX_RECTS];
    float thr;
    int32_t dbits;              /* bits of (float)(left - right) */
} vstump;

typedef struct {
    int first, n2, n3;          /* vstumps[first..+n2) have two rects, then n3 with three */
    int64_t base;               /* sum of right leaves * 2^shift */
    int64_t thr;                /* stage threshold * 2^shift */
    float base_f;               /* (float)sum of right leaves */
    float lo, hi;               /* float sum < lo: fails; >= hi: passes; else exact */
} vstage;

/* An 8-window batch at the end of a row also loads the cells of up to 7
 * windows past it (and ignores them); the buffers carry this much zeroed
 * slack so that those loads stay inside. */
enum { LANES = 8, SLACK = 2 * LANES };

enum { PLAIN = 0, SPLIT = 1 };   /* integral row layouts: as is, or even|odd columns */

struct haar_workspace {
    const haar_cascade *c;
    int w, h, stride;           /* frame size the compiled offsets are for */
    int half;                   /* SPLIT rows: odd columns start here */
    size_t cap_pix;             /* capacity (pixels) of the frame-sized buffers */
    uint8_t *img;               /* scaled image, w x h capacity */
    uint32_t *ibuf;             /* upright integral, then tilted at +tofs */
    uint32_t *sq;               /* squared integral */
    size_t tofs;
    void *scratch;              /* resize tables, or tilted-integral scratch */
    size_t scratch_bytes;
    int32_t nofs[2][4];         /* normalisation rectangle corners, per layout */
    /* generic path (trees, or sums that need OpenCV's double order) */
    cfeat *feats;               /* [nfeatures], PLAIN layout */
    /* fast path, NULL when not applicable */
    vstump *vstumps[2];         /* [nnodes] per layout, stage by stage */
    int64_t *vd;                /* (left - right) * 2^shift of each vstump */
    int *vfeat;                 /* feature of each vstump */
    vstage *vstages;            /* [nstages] */
    float *scales;
    int cap_scales;
    haar_rect *hits;
    int nhits, cap_hits;
    void *gscratch;
    size_t gscratch_bytes;
};

/* Smallest k with v * 2^k an integer, or 99 if above 62. */
static int frac_bits(double v)
{
    for (int k = 0; k <= 62; k++) {
        double t = ldexp(v, k);
        if (t == floor(t)) return k;
    }
    return 99;
}

/* Sets up the fast path if the cascade allows it (see vstump). Returns
 * NN_OK whether or not it applies; NN_ERR_NOMEM on allocation failure. */
static nn_status setup_fast_path(haar_workspace *ws, nn_error *err)
{
    const haar_cascade *c = ws->c;
    if (c->max_nodes != 1) return NN_OK;
    int shift = 0;
    double bound = 0;
    for (int si = 0; si < c->nstages; si++) {
        const haar_stage *st = &c->stages[si];
        double b = fabs(st->threshold);
        int k = frac_bits(st->threshold);
        if (k > shift) shift = k;
        for (int t = st->first_tree; t < st->first_tree + st->ntrees; t++) {
            const haar_node *nd = &c->nodes[c->trees[t].first_node];
            float l = c->leaves[c->trees[t].first_leaf - nd->left];
            float r = c->leaves[c->trees[t].first_leaf - nd->right];
            b += fabs(l) > fabs(r) ? fabs(l) : fabs(r);
            if ((k = frac_bits(l)) > shift) shift = k;
            if ((k = frac_bits(r)) > shift) shift = k;
        }
        if (b > bound) bound = b;
    }
    if (shift > 62 || ldexp(bound, shift) >= 0x1p52) return NN_OK;

    ws->vstumps[PLAIN] = malloc(sizeof(vstump) * (size_t)c->nnodes);
    ws->vstumps[SPLIT] = malloc(sizeof(vstump) * (size_t)c->nnodes);
    ws->vd = malloc(sizeof *ws->vd * (size_t)c->nnodes);
    ws->vfeat = malloc(sizeof *ws->vfeat * (size_t)c->nnodes);
    ws->vstages = malloc(sizeof *ws->vstages * (size_t)c->nstages);
    if (!ws->vstumps[PLAIN] || !ws->vstumps[SPLIT] || !ws->vd || !ws->vfeat || !ws->vstages)
        return nn_fail(err, NN_ERR_NOMEM, "haar_workspace_new: out of memory");
    int n = 0;
    for (int si = 0; si < c->nstages; si++) {
        const haar_stage *st = &c->stages[si];
        vstage *vs = &ws->vstages[si];
        vs->first = n;
        vs->n2 = vs->n3 = 0;
        vs->base = 0;
        vs->thr = (int64_t)ldexp(st->threshold, shift);
        /* Two-rect stumps first, then three-rect ones: the loops need no
         * per-stump branch, and exact sums make the order irrelevant. */
        for (int pass = 2; pass <= 3; pass++)
            for (int t = st->first_tree; t < st->first_tree + st->ntrees; t++) {
                const haar_node *nd = &c->nodes[c->trees[t].first_node];
                const haar_feature *f = &c->features[nd->feature];
                int three = f->nrects == 3 && f->r[2].weight != 0.0f;
                if (three != (pass == 3)) continue;
                float l = c->leaves[c->trees[t].first_leaf - nd->left];
                float r = c->leaves[c->trees[t].first_leaf - nd->right];
                vstump *v = &ws->vstumps[PLAIN][n];
                memset(v, 0, sizeof *v);
                v->thr = nd->threshold;
                ws->vd[n] = (int64_t)ldexp(l, shift) - (int64_t)ldexp(r, shift);
                float df = (float)((double)l - (double)r);
                memcpy(&v->dbits, &df, sizeof df);
                ws->vstumps[SPLIT][n] = *v;
                vs->base += (int64_t)ldexp(r, shift);
                ws->vfeat[n++] = nd->feature;
                if (three) vs->n3++; else vs->n2++;
            }
        /* Float summation of base + up to n terms, each rounded once to
         * float (relative error u = 2^-24) and added with relative error u,
         * is off by at most (n + 2) u (|base| + sum |d|) (Higham, "Accuracy
         * and Stability of Numerical Algorithms", 4.2, for n u << 1); we
         * take twice that, and round lo down and hi up. */
        double base = ldexp((double)vs->base, -shift), mag = fabs(base);
        for (int k = vs->first; k < n; k++) mag += fabs(ldexp((double)ws->vd[k], -shift));
        double e = (double)(st->ntrees + 2) * 0x1p-23 * mag;
        double lo = (double)st->threshold - e, hi = (double)st->threshold + e;
        vs->base_f = (float)base;
        vs->lo = (float)lo;
        if ((double)vs->lo > lo) vs->lo = nextafterf(vs->lo, -INFINITY);
        vs->hi = (float)hi;
        if ((double)vs->hi < hi) vs->hi = nextafterf(vs->hi, INFINITY);
    }
    return NN_OK;
}

haar_params haar_params_default(void)
{
    haar_params p = { 1.32, 5, 0, 0, 0, 0 };
    return p;
}

haar_workspace *haar_workspace_new(const haar_cascade *c, nn_error *err)
{
    if (!c) {
        nn_fail(err, NN_ERR_ARG, "haar_workspace_new: NULL cascade");
        return NULL;
    }
    haar_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) {
        nn_fail(err, NN_ERR_NOMEM, "haar_workspace_new: out of memory");
        return NULL;
    }
    ws->c = c;
    ws->feats = malloc(sizeof *ws->feats * (size_t)c->nfeatures);
    if (!ws->feats) {
        haar_workspace_free(ws);
        nn_fail(err, NN_ERR_NOMEM, "haar_workspace_new: out of memory");
        return NULL;
    }
    if (setup_fast_path(ws, err)) {
        haar_workspace_free(ws);
        return NULL;
    }
    return ws;
}

void haar_workspace_free(haar_workspace *ws)
{
    if (!ws) return;
    free(ws->img);
    free(ws->ibuf);
    free(ws->sq);
    free(ws->scratch);
    free(ws->feats);
    free(ws->vstumps[PLAIN]);
    free(ws->vstumps[SPLIT]);
    free(ws->vd);
    free(ws->vfeat);
    free(ws->vstages);
    free(ws->scales);
    free(ws->hits);
    free(ws->gscratch);
    free(ws);
}

/* Offset of integral cell (x, y) from a window's origin cell. In the SPLIT
 * layout the window origin x is even and stored at x/2. */
static int32_t cell(const haar_workspace *ws, int layout, int x, int y)
{
    int32_t col = layout == SPLIT ? ((x & 1) ? ws->half + (x - 1) / 2 : x / 2) : x;
    return col + ws->stride * y;
}

static void feature_offsets(const haar_workspace *ws, int layout, const haar_feature *f, cfeat *cf)
{
    memset(cf, 0, sizeof *cf);
    int32_t t = f->tilted ? (int32_t)ws->tofs : 0;
    for (int k = 0; k < f->nrects; k++) {
        const haar_feature_rect *r = &f->r[k];
        int32_t *o = cf->ofs[k];
        if (f->tilted) {
            o[0] = t + cell(ws, layout, r->x, r->y);
            o[1] = t + cell(ws, layout, r->x - r->h, r->y + r->h);
            o[2] = t + cell(ws, layout, r->x + r->w, r->y + r->w);
            o[3] = t + cell(ws, layout, r->x + r->w - r->h, r->y + r->w + r->h);
        } else {
            o[0] = cell(ws, layout, r->x, r->y);
            o[1] = cell(ws, layout, r->x + r->w, r->y);
            o[2] = cell(ws, layout, r->x, r->y + r->h);
            o[3] = cell(ws, layout, r->x + r->w, r->y + r->h);
        }
        cf->w[k] = r->weight;
    }
}

static void compile_offsets(haar_workspace *ws)
{
    const haar_cascade *c = ws->c;
    for (int i = 0; i < c->nfeatures; i++) feature_offsets(ws, PLAIN, &c->features[i], &ws->feats[i]);
    for (int layout = PLAIN; layout <= SPLIT && ws->vstumps[PLAIN]; layout++)
        for (int i = 0; i < c->nnodes; i++) {
            vstump *v = &ws->vstumps[layout][i];
            cfeat cf;
            feature_offsets(ws, layout, &c->features[ws->vfeat[i]], &cf);
            memcpy(v->ofs, cf.ofs, sizeof v->ofs);
            memcpy(v->w, cf.w, sizeof v->w);
        }
    int nw = c->win_w - 2, nh = c->win_h - 2;
    for (int layout = PLAIN; layout <= SPLIT; layout++) {
        ws->nofs[layout][0] = cell(ws, layout, 1, 1);
        ws->nofs[layout][1] = cell(ws, layout, 1 + nw, 1);
        ws->nofs[layout][2] = cell(ws, layout, 1, 1 + nh);
        ws->nofs[layout][3] = cell(ws, layout, 1 + nw, 1 + nh);
    }
}

/* Rewrites rows 0..rows-1, columns 0..cols-1 of an integral plane into the
 * SPLIT layout; tmp holds cols elements. */
static void split_rows(uint32_t *plane, int stride, int half, int rows, int cols, uint32_t *tmp)
{
    for (int y = 0; y < rows; y++) {
        uint32_t *row = plane + (size_t)y * stride;
        memcpy(tmp, row, sizeof *tmp * (size_t)cols);
        for (int x = 0, j = 0; x < cols; x += 2, j++) row[j] = tmp[x];
        for (int x = 1, j = 0; x < cols; x += 2, j++) row[half + j] = tmp[x];
    }
}

nn_status haar_workspace_prepare(haar_workspace *ws, int w, int h, nn_error *err)
{
    if (!ws || w <= 0 || h <= 0)
        return nn_fail(err, NN_ERR_ARG, "haar_workspace_prepare: bad arguments (%dx%d)", w, h);
    if (ws->w == w && ws->h == h) return NN_OK;
    const haar_cascade *c = ws->c;
    /* Rows hold w+1 cells; SPLIT rows need 2 * ceil((w+1)/2). */
    int half = (w + 2) / 2;
    size_t ipix = (size_t)(2 * half) * (h + 1);
    int planes = c->has_tilted ? 2 : 1;
    if ((double)ipix * planes + SLACK > 2147483647.0)
        return nn_fail(err, NN_ERR_ARG, "haar_workspace_prepare: %dx%d frame is too large", w, h);
    size_t sb = haar_resize_scratch_size(w, h);
    if (sb < sizeof(uint32_t) * (size_t)(w + 1)) sb = sizeof(uint32_t) * (size_t)(w + 1);
    if (c->has_tilted) {
        size_t tb = haar_integral_tilted_scratch(w, h) * sizeof(uint32_t);
        if (tb > sb) sb = tb;
    }
    if (ipix > ws->cap_pix || sb > ws->scratch_bytes) {
        free(ws->img);
        free(ws->ibuf);
        free(ws->sq);
        free(ws->scratch);
        /* Zeroed: the 8-lane loads also read (and then ignore) cells past
         * the current scale's integral. */
        ws->img = malloc(ipix);
        ws->ibuf = calloc(ipix * planes + SLACK, sizeof(uint32_t));
        ws->sq = calloc(ipix + SLACK, sizeof(uint32_t));
        ws->scratch = malloc(sb);
        ws->w = ws->h = 0;
        if (!ws->img || !ws->ibuf || !ws->sq || !ws->scratch) {
            free(ws->img); free(ws->ibuf); free(ws->sq); free(ws->scratch);
            ws->img = NULL; ws->ibuf = ws->sq = NULL; ws->scratch = NULL;
            ws->cap_pix = 0;
            ws->scratch_bytes = 0;
            return nn_fail(err, NN_ERR_NOMEM, "haar_workspace_prepare: out of memory for %dx%d", w, h);
        }
        ws->cap_pix = ipix;   /* ipix > w*h: one number bounds every frame buffer */
        ws->scratch_bytes = sb;
    }
    ws->w = w;
    ws->h = h;
    ws->stride = 2 * half;
    ws->half = half;
    ws->tofs = ipix;
    compile_offsets(ws);
    return NN_OK;
}

static nn_status push_hit(haar_workspace *ws, int x, int y, int w, int h, nn_error *err)
{
    if (ws->nhits == ws->cap_hits) {
        int cap = ws->cap_hits ? 2 * ws->cap_hits : 1024;
        haar_rect *nh = realloc(ws->hits, sizeof *nh * (size_t)cap);
        if (!nh) return nn_fail(err, NN_ERR_NOMEM, "haar_detect: out of memory for %d hits", cap);
        ws->hits = nh;
        ws->cap_hits = cap;
    }
    haar_rect *r = &ws->hits[ws->nhits++];
    r->x = x; r->y = y; r->w = w; r->h = h; r->neighbors = 1;
    return NN_OK;
}

static inline int32_t rsum(const uint32_t *p, const int32_t *o)
{
    return (int32_t)(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

/* The variance normaliser of the window at p (HaarEvaluator::setWindow):
 * returns 0 if the window is rejected, else 1 with *vnf = 1/sqrt(nf). */
static inline int window_norm(const haar_workspace *ws, int32_t valsum, uint32_t valsq, float *vnf)
{
    double area = (double)(ws->c->win_w - 2) * (ws->c->win_h - 2);
    double nf = area * valsq - (double)valsum * valsum;
    if (!(nf > 0.)) return 0;
    *vnf = (float)(1. / sqrt(nf));
    return area * *vnf < 1e-1;
}

/* ---- generic path: any tree depth, OpenCV's double sums in its order ---- */

/* The feature value before normalisation, with OpenCV's float arithmetic
 * (HaarEvaluator::OptFeature::calc). */
static inline float feat_raw(const cfeat *f, const uint32_t *p)
{
    float v = f->w[0] * (float)rsum(p, f->ofs[0]) + f->w[1] * (float)rsum(p, f->ofs[1]);
    if (f->w[2] != 0.0f) v += f->w[2] * (float)rsum(p, f->ofs[2]);
    return v;
}

/* Runs the cascade at window origin p (index into the integral buffer).
 * Returns 1 on a hit, -1 if the window is rejected by its variance, and
 * -si if stage si rejects it (0: the first stage, which triggers the x
 * skip), as OpenCV's runAt. */
static int run_window(const haar_workspace *ws, size_t p)
{
    const haar_cascade *c = ws->c;
    const uint32_t *S = ws->ibuf + p, *Q = ws->sq + p;
    const int32_t *n = ws->nofs[PLAIN];
    float vnf;
    if (!window_norm(ws, rsum(S, n), Q[n[0]] - Q[n[1]] - Q[n[2]] + Q[n[3]], &vnf)) return -1;
    for (int si = 0; si < c->nstages; si++) {
        const haar_stage *stg = &c->stages[si];
        double sum = 0;
        for (int t = stg->first_tree; t < stg->first_tree + stg->ntrees; t++) {
            const haar_tree *tr = &c->trees[t];
            const haar_node *nodes = c->nodes + tr->first_node;
            int idx = 0;
            do {
                const haar_node *nd = &nodes[idx];
                float v = feat_raw(&ws->feats[nd->feature], S) * vnf;
                idx = v < nd->threshold ? nd->left : nd->right;
            } while (idx > 0);
            sum += c->leaves[tr->first_leaf - idx];
        }
        if (sum < stg->threshold) return -si;
    }
    return 1;
}

static nn_status scan_generic(haar_workspace *ws, int xend, int yend, int ystep, float s,
                              int winw, int winh, nn_error *err)
{
    for (int y = 0; y < yend; y += ystep)
        for (int x = 0; x < xend; x += ystep) {
            int r = run_window(ws, (size_t)y * ws->stride + x);
            if (r > 0) {
                nn_status st = push_hit(ws, (int)lrintf((float)x * s), (int)lrintf((float)y * s),
                                        winw, winh, err);
                if (st) return st;
            }
            if (r == 0) x += ystep;   /* failed the first stage: skip the next x */
        }
    return NN_OK;
}

/* ---- fast path: stumps, exact sums, 8 neighbouring windows at once ---- */

/* GCC vector extensions: portable C that compiles to AVX2/AVX-512 under
 * -march=native and to narrower instructions otherwise. Functions taking or
 * returning these vectors are always inlined: a vector in a real call's
 * signature has an ABI that depends on the target's vector width. */
#define VINLINE static inline __attribute__((always_inline))
/* ...so GCC's note that such signatures' ABI differs between targets
 * (-Wpsabi, raised on targets narrower than 256 bits) does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v8f __attribute__((vector_size(32)));
typedef int64_t v8l __attribute__((vector_size(64)));

/* Integral cells p[0..7]: one corner of 8 neighbouring windows. */
VINLINE v8u load8(const uint32_t *p)
{
    v8u a;
    memcpy(&a, p, sizeof a);
    return a;
}

VINLINE v8u sum8(const uint32_t *p, const int32_t *o)
{
    return load8(p + o[0]) - load8(p + o[1]) - load8(p + o[2]) + load8(p + o[3]);
}

VINLINE v8f rect8(const uint32_t *p, const int32_t *o)
{
    return __builtin_convertvector((v8i)sum8(p, o), v8f);
}

/* The left-branch mask of one stump for 8 windows. Float feature
 * arithmetic as OpenCV's (its order, no fused multiply-add: C11 mode
 * compiles with -ffp-contract=off). */
VINLINE v8i left8(const vstump *v, const uint32_t *p, const v8f *vnf, int three)
{
    v8f raw = v->w[0] * rect8(p, v->ofs[0]) + v->w[1] * rect8(p, v->ofs[1]);
    if (three) raw += v->w[2] * rect8(p, v->ofs[2]);
    return (raw * *vnf) < v->thr;
}

/* One stage for 8 windows, summed in float (see vstump). */
VINLINE v8f stage8f(const vstage *st, const vstump *v, const uint32_t *p, const v8f *vnf)
{
    v8f acc = (v8f){ 0 } + st->base_f;
    v += st->first;
    for (int k = 0; k < st->n2; k++, v++) acc += (v8f)(left8(v, p, vnf, 0) & v->dbits);
    for (int k = 0; k < st->n3; k++, v++) acc += (v8f)(left8(v, p, vnf, 1) & v->dbits);
    return acc;
}

VINLINE unsigned lane_bits(const v8i *m)
{
    unsigned b = 0;
    for (int i = 0; i < LANES; i++) b |= ((*m)[i] != 0) << i;
    return b;
}

/* The same stage summed exactly in int64 fixed point: the lanes that pass.
 * (Returns bits, not the 64-byte vector, to keep such vectors out of
 * function signatures, whose ABI depends on the target's vector width.) */
static unsigned stage8x_pass(const vstage *st, const vstump *v, const int64_t *d, const uint32_t *p,
                             const v8f *vnf)
{
    v8l acc = (v8l){ 0 } + st->base;
    v += st->first;
    d += st->first;
    for (int k = 0; k < st->n2; k++, v++, d++)
        acc += __builtin_convertvector(left8(v, p, vnf, 0), v8l) & *d;
    for (int k = 0; k < st->n3; k++, v++, d++)
        acc += __builtin_convertvector(left8(v, p, vnf, 1), v8l) & *d;
    unsigned b = 0;
    for (int i = 0; i < LANES; i++) b |= (acc[i] >= st->thr) << i;
    return b;
}

/* Which of the lanes in `lanes` pass stage si. */
VINLINE unsigned stage_pass(const haar_workspace *ws, const vstump *vst, int si,
                            const uint32_t *p, const v8f *vnf, unsigned lanes)
{
    const vstage *st = &ws->vstages[si];
    v8f acc = stage8f(st, vst, p, vnf);
    v8i ge = acc >= st->hi, lt = acc < st->lo;
    unsigned pass = lane_bits(&ge), fail = lane_bits(&lt);
    unsigned unsure = lanes & ~(pass | fail);
    if (unsure) {
        unsigned exact = stage8x_pass(st, vst, ws->vd, p, vnf);
        pass = (pass & ~unsure) | (exact & unsure);
    }
    return pass & lanes;
}

/* Scans one scale with 8-window batches. step 2 expects SPLIT integrals. */
static nn_status scan_fast(haar_workspace *ws, int xend, int yend, int step, float s, int winw,
                           int winh, nn_error *err)
{
    const haar_cascade *c = ws->c;
    int layout = step == 2 ? SPLIT : PLAIN;
    const int32_t *n = ws->nofs[layout];
    const vstump *vst = ws->vstumps[layout];
    for (int y = 0; y < yend; y += step) {
        int skip = 0;   /* the previous window failed the first stage */
        for (int x0 = 0; x0 < xend; x0 += LANES * step) {
            int nl = (xend - x0 + step - 1) / step;
            if (nl > LANES) nl = LANES;
            size_t base = (size_t)y * ws->stride + (size_t)(x0 / step);
            const uint32_t *p = ws->ibuf + base;
            v8u vs = sum8(p, n), vq = sum8(ws->sq + base, n);
            v8f vnf = { 0 };
            unsigned valid = 0;
            for (int i = 0; i < nl; i++) {
                float f;
                if (window_norm(ws, (int32_t)vs[i], vq[i], &f)) {
                    vnf[i] = f;
                    valid |= 1u << i;
                }
            }
            unsigned pass = valid ? stage_pass(ws, vst, 0, p, &vnf, valid) : 0;
            /* OpenCV's scan order: a window failing the first stage (not
             * one rejected for low variance) skips the next position. */
            unsigned alive = 0;
            for (int i = 0; i < nl; i++) {
                if (skip) {
                    skip = 0;
                    continue;
                }
                if (!(valid >> i & 1)) continue;
                if (pass >> i & 1) alive |= 1u << i;
                else skip = 1;
            }
            /* Even with one lane left, the 8-lane stage beats scalar code. */
            for (int si = 1; alive && si < c->nstages; si++)
                alive = stage_pass(ws, vst, si, p, &vnf, alive);
            for (int i = 0; alive >> i; i++) {
                if (!(alive >> i & 1)) continue;
                int x = x0 + i * step;
                nn_status st = push_hit(ws, (int)lrintf((float)x * s), (int)lrintf((float)y * s),
                                        winw, winh, err);
                if (st) return st;
            }
        }
    }
    return NN_OK;
}

/* The scale list of detectMultiScaleNoGrouping: into ws->scales, returns
 * the count (0 with *st set on failure). */
static int make_scales(haar_workspace *ws, int W, int H, const haar_params *p, nn_error *err,
                       nn_status *st)
{
    const haar_cascade *c = ws->c;
    int all = 0;
    for (double f = 1;; f *= p->scale_factor) {
        if ((int)lrint(c->win_w * f) > W || (int)lrint(c->win_h * f) > H) break;
        all++;
    }
    if (all > ws->cap_scales) {
        float *ns = realloc(ws->scales, sizeof *ns * (size_t)all);
        if (!ns) {
            *st = nn_fail(err, NN_ERR_NOMEM, "haar_detect: out of memory for %d scales", all);
            return 0;
        }
        ws->scales = ns;
        ws->cap_scales = all;
    }
    double f = 1;
    for (int i = 0; i < all; i++, f *= p->scale_factor) ws->scales[i] = (float)f;

    int maxw = p->max_w, maxh = p->max_h;
    if (maxw == 0 || maxh == 0) { maxw = W; maxh = H; }
    int k = 0;   /* kept scales, compacted in place (k <= i) */
    for (int i = 0; i < all; i++) {
        float s = ws->scales[i];
        int ww = (int)lrintf((float)c->win_w * s), wh = (int)lrintf((float)c->win_h * s);
        if (ww > maxw || wh > maxh) break;
        if (ww < p->min_w || wh < p->min_h) continue;
        ws->scales[k++] = s;
    }
    if (k == 0 && all > 0) {
        /* min/max left nothing (the list is untouched then): take the scale
         * whose window is nearest min size, as OpenCV does for min == max. */
        int best = 0;
        double bestd = 0;
        for (int i = 0; i < all; i++) {
            float s = ws->scales[i];
            int ww = (int)lrintf((float)c->win_w * s), wh = (int)lrintf((float)c->win_h * s);
            double d = (double)(p->min_w - ww) * (p->min_w - ww) +
                       (double)(p->min_h - wh) * (p->min_h - wh);
            if (i == 0 || d < bestd) { best = i; bestd = d; }
        }
        ws->scales[0] = ws->scales[best];
        k = 1;
    }
    return k;
}

static int cmp_rect(const void *a, const void *b)
{
    const haar_rect *r = a, *s = b;
    long ar = (long)r->w * r->h, as = (long)s->w * s->h;
    if (ar != as) return ar > as ? -1 : 1;
    if (r->y != s->y) return r->y < s->y ? -1 : 1;
    return (r->x > s->x) - (r->x < s->x);
}

nn_status haar_detect(const haar_cascade *c, haar_workspace *ws,
                      const uint8_t *gray, int w, int h, int stride,
                      const haar_params *p, haar_rect *out, int max_out, int *n_out,
                      nn_error *err)
{
    if (n_out) *n_out = 0;
    if (!c || !ws || !gray || !p || !n_out || (!out && max_out > 0) || max_out < 0)
        return nn_fail(err, NN_ERR_ARG, "haar_detect: NULL argument");
    if (ws->c != c)
        return nn_fail(err, NN_ERR_ARG, "haar_detect: workspace was made for another cascade");
    if (w <= 0 || h <= 0 || stride < w)
        return nn_fail(err, NN_ERR_ARG, "haar_detect: bad image size %dx%d stride %d", w, h, stride);
    if (!(p->scale_factor > 1.0) || !isfinite(p->scale_factor))
        return nn_fail(err, NN_ERR_ARG, "haar_detect: scale_factor %g must be > 1", p->scale_factor);
    if (p->min_neighbors < 0 || p->min_w < 0 || p->min_h < 0 || p->max_w < 0 || p->max_h < 0)
        return nn_fail(err, NN_ERR_ARG, "haar_detect: negative min_neighbors or size limit");
    if (w < c->win_w || h < c->win_h) return NN_OK;

    nn_status st = haar_workspace_prepare(ws, w, h, err);
    if (st) return st;
    st = NN_OK;
    int nscales = make_scales(ws, w, h, p, err, &st);
    if (st) return st;

    ws->nhits = 0;
    for (int si = 0; si < nscales; si++) {
        float s = ws->scales[si];
        int dw = (int)lrintf((float)w / s), dh = (int)lrintf((float)h / s);
        const uint8_t *img = gray;
        int istride = stride;
        if (dw != w || dh != h) {
            haar_resize(gray, w, h, stride, ws->img, dw, dh, dw, ws->scratch);
            img = ws->img;
            istride = dw;
        }
        haar_integral(img, dw, dh, istride, ws->ibuf, ws->sq, ws->stride);
        if (c->has_tilted)
            haar_integral_tilted(img, dw, dh, istride, ws->ibuf + ws->tofs, ws->stride,
                                 ws->scratch);
        int ystep = s >= 2 ? 1 : 2;
        int xend = dw + 1 - c->win_w, yend = dh + 1 - c->win_h;
        int winw = (int)lrintf((float)c->win_w * s), winh = (int)lrintf((float)c->win_h * s);
        if (ws->vstumps[PLAIN] && ystep == 2) {
            uint32_t *tmp = ws->scratch;   /* free again once the integrals are built */
            split_rows(ws->ibuf, ws->stride, ws->half, dh + 1, dw + 1, tmp);
            split_rows(ws->sq, ws->stride, ws->half, dh + 1, dw + 1, tmp);
            if (c->has_tilted)
                split_rows(ws->ibuf + ws->tofs, ws->stride, ws->half, dh + 1, dw + 1, tmp);
        }
        st = ws->vstumps[PLAIN] ? scan_fast(ws, xend, yend, ystep, s, winw, winh, err)
                                : scan_generic(ws, xend, yend, ystep, s, winw, winh, err);
        if (st) return st;
    }

    int n = ws->nhits;
    size_t gb = haar_group_scratch_size(n);
    if (gb > ws->gscratch_bytes) {
        void *g = realloc(ws->gscratch, gb);
        if (!g) return nn_fail(err, NN_ERR_NOMEM, "haar_detect: out of memory grouping %d hits", n);
        ws->gscratch = g;
        ws->gscratch_bytes = gb;
    }
    n = haar_group(ws->hits, n, p->min_neighbors, 0.2, ws->gscratch);

    /* clipObjects: intersect with the image, drop empty results. */
    int k = 0;
    for (int i = 0; i < n; i++) {
        haar_rect r = ws->hits[i];
        int x0 = r.x > 0 ? r.x : 0, y0 = r.y > 0 ? r.y : 0;
        int x1 = r.x + r.w < w ? r.x + r.w : w, y1 = r.y + r.h < h ? r.y + r.h : h;
        if (x1 <= x0 || y1 <= y0) continue;
        r.x = x0; r.y = y0; r.w = x1 - x0; r.h = y1 - y0;
        ws->hits[k++] = r;
    }
    if (k > 1) qsort(ws->hits, (size_t)k, sizeof *ws->hits, cmp_rect);
    int m = k < max_out ? k : max_out;
    if (m > 0) memcpy(out, ws->hits, sizeof *out * (size_t)m);
    *n_out = m;
    return NN_OK;
}
