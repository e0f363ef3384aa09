/* test_vision_haar.c: the Haar detector against OpenCV itself.
 *
 * tests/fixtures/haar/opencv_reference.txt holds, for photos and composed
 * 640x480 frames, what cv2.CascadeClassifier.detectMultiScale (Debian's
 * python3-opencv, scripts/opencv_haar_reference.py) returned: the grouped
 * detections and the raw window hits (minNeighbors 0). We require the same
 * number of detections, each matched with IoU >= 0.8, and -- stricter, since
 * the pipeline follows OpenCV's arithmetic -- the very same raw hits.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_vision_haar_fixture.h"
#include "vision/haar.h"

static hfx fx;
static haar_cascade *cascades[HFX_MAX_CASCADES];

static void setup(void)
{
    if (hfx_load(&fx)) cr_assert_fail("fixture: %s", fx.err);
    for (int i = 0; i < fx.ncascades; i++) {
        char path[512];
        snprintf(path, sizeof path, HFX_CASCADES "/%s", fx.cascades[i].name);
        FILE *f = fopen(path, "rb");
        if (!f) cr_assert_fail("%s: missing (install opencv-data: scripts/setup.sh)", path);
        uint8_t *buf = malloc((size_t)fx.cascades[i].bytes + 1);
        size_t n = fread(buf, 1, (size_t)fx.cascades[i].bytes + 1, f);
        fclose(f);
        if (n != (size_t)fx.cascades[i].bytes || hfx_crc(buf, n) != fx.cascades[i].crc)
            cr_assert_fail("%s differs from the file the OpenCV reference was made with; "
                     "rerun scripts/opencv_haar_reference.py", path);
        free(buf);
        nn_error err;
        cascades[i] = haar_cascade_load(path, &err);
        if (!cascades[i]) cr_assert_fail("%s", err.msg);
    }
}

static void teardown(void)
{
    for (int i = 0; i < fx.ncascades; i++) haar_cascade_free(cascades[i]);
    hfx_free(&fx);
}

static haar_cascade *cascade_of(const hfx_case *k)
{
    for (int i = 0; i < fx.ncascades; i++)
        if (strcmp(fx.cascades[i].name, k->cascade) == 0) return cascades[i];
    cr_assert_fail("case uses unlisted cascade %s", k->cascade);
    return NULL;
}

static double iou(const haar_rect *a, const haar_rect *b)
{
    int x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
    int x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
    int y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
    double in = (x1 > x0 && y1 > y0) ? (double)(x1 - x0) * (y1 - y0) : 0;
    return in / ((double)a->w * a->h + (double)b->w * b->h - in);
}

/* Runs case k with min_neighbors mn; returns the detections (malloc'd). */
static haar_rect *detect(const hfx_case *k, int mn, int *n)
{
    const hfx_image *im = hfx_find(&fx, k->image);
    haar_cascade *c = cascade_of(k);
    nn_error err;
    haar_workspace *ws = haar_workspace_new(c, &err);
    cr_assert_not_null(ws, "%s", err.msg);
    haar_params p = k->p;
    p.min_neighbors = mn;
    int cap = 100000;
    haar_rect *out = malloc(sizeof *out * (size_t)cap);
    nn_status st = haar_detect(c, ws, im->px, im->w, im->h, im->w, &p, out, cap, n, &err);
    cr_assert_eq(st, NN_OK, "%s", err.msg);
    haar_workspace_free(ws);
    return out;
}

static void describe(char *buf, size_t len, const haar_rect *r, int n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && k + 40 < len; i++)
        k += (size_t)snprintf(buf + k, len - k, " (%d,%d,%d,%d)", r[i].x, r[i].y, r[i].w, r[i].h);
}

TestSuite(haar_opencv, .init = setup, .fini = teardown, .timeout = 60);

Test(haar_opencv, same_detections_as_detectMultiScale)
{
    cr_assert_gt(fx.ncases, 10);
    int total = 0;
    for (int ci = 0; ci < fx.ncases; ci++) {
        const hfx_case *k = &fx.cases[ci];
        int n;
        haar_rect *got = detect(k, k->p.min_neighbors, &n);
        char gs[2048], ws[2048];
        describe(gs, sizeof gs, got, n);
        describe(ws, sizeof ws, k->faces, k->nfaces);
        cr_expect_eq(n, k->nfaces, "%s %s %.2f/%d: %d detections{%s }, OpenCV %d{%s }", k->image,
                     k->cascade, k->p.scale_factor, k->p.min_neighbors, n, gs, k->nfaces, ws);
        int used[256] = { 0 };
        for (int i = 0; i < k->nfaces && n <= 256; i++) {
            int best = -1;
            double bi = 0;
            for (int j = 0; j < n; j++)
                if (!used[j] && iou(&k->faces[i], &got[j]) > bi) { bi = iou(&k->faces[i], &got[j]); best = j; }
            cr_expect_geq(bi, 0.8, "%s %s: OpenCV's (%d,%d,%d,%d) best IoU %.3f; ours{%s }", k->image,
                          k->cascade, k->faces[i].x, k->faces[i].y, k->faces[i].w, k->faces[i].h, bi, gs);
            if (best >= 0) used[best] = 1;
        }
        total += k->nfaces;
        free(got);
    }
    cr_assert_gt(total, 30, "the fixture should hold real detections");
}

static int cmp_rect(const void *a, const void *b)
{
    const haar_rect *r = a, *s = b;
    if (r->x != s->x) return r->x - s->x;
    if (r->y != s->y) return r->y - s->y;
    if (r->w != s->w) return r->w - s->w;
    return r->h - s->h;
}

Test(haar_opencv, identical_raw_window_hits)
{
    int total = 0;
    for (int ci = 0; ci < fx.ncases; ci++) {
        const hfx_case *k = &fx.cases[ci];
        int n;
        haar_rect *got = detect(k, 0, &n);
        haar_rect *want = malloc(sizeof *want * (size_t)(k->nraw + 1));
        memcpy(want, k->raw, sizeof *want * (size_t)k->nraw);
        qsort(got, (size_t)n, sizeof *got, cmp_rect);
        qsort(want, (size_t)k->nraw, sizeof *want, cmp_rect);
        int same = n == k->nraw;
        for (int i = 0; same && i < n; i++) same = cmp_rect(&got[i], &want[i]) == 0;
        int extra = 0, missing = 0;
        for (int i = 0, j = 0; i < n || j < k->nraw;) {
            int c = i == n ? 1 : j == k->nraw ? -1 : cmp_rect(&got[i], &want[j]);
            if (c < 0) extra++, i++;
            else if (c > 0) missing++, j++;
            else i++, j++;
        }
        cr_expect(same, "%s %s %.2f: %d raw hits, OpenCV %d (%d extra, %d missing)", k->image,
                  k->cascade, k->p.scale_factor, n, k->nraw, extra, missing);
        total += k->nraw;
        free(got);
        free(want);
    }
    cr_assert_gt(total, 500);
}

/* The building blocks against OpenCV: the pyramid resize and the three
 * integrals, bit for bit (CRC-32 of OpenCV's output in the fixture). */
#include "vision/haar_integral.h"
#include "vision/haar_resize.h"

Test(haar_opencv, resize_matches_inter_linear_exact)
{
    cr_assert_gt(fx.nresizes, 10);
    for (int i = 0; i < fx.nresizes; i++) {
        const hfx_resize *r = &fx.resizes[i];
        uint8_t *src = malloc((size_t)r->sw * r->sh), *dst = malloc((size_t)r->dw * r->dh);
        void *scratch = malloc(haar_resize_scratch_size(r->dw, r->dh));
        hfx_pattern(src, r->sw, r->sh, r->seed, r->smooth);
        haar_resize(src, r->sw, r->sh, r->sw, dst, r->dw, r->dh, r->dw, scratch);
        cr_expect_eq(hfx_crc(dst, (size_t)r->dw * r->dh), r->crc, "resize %dx%d -> %dx%d differs from OpenCV",
                     r->sw, r->sh, r->dw, r->dh);
        free(src);
        free(dst);
        free(scratch);
    }
}

Test(haar_opencv, integrals_match_cv_integral3)
{
    cr_assert_gt(fx.nintegrals, 3);
    for (int i = 0; i < fx.nintegrals; i++) {
        const hfx_integral *r = &fx.integrals[i];
        int stride = r->w + 1;   /* contiguous, as numpy's arrays */
        size_t n = (size_t)stride * (r->h + 1);
        uint8_t *src = malloc((size_t)r->w * r->h);
        uint32_t *s = malloc(n * 4), *q = malloc(n * 4), *t = malloc(n * 4);
        uint32_t *scratch = malloc(haar_integral_tilted_scratch(r->w, r->h) * 4);
        hfx_pattern(src, r->w, r->h, r->seed, 0);
        haar_integral(src, r->w, r->h, r->w, s, q, stride);
        haar_integral_tilted(src, r->w, r->h, r->w, t, stride, scratch);
        cr_expect_eq(hfx_crc_u32(s, n), r->crc_sum, "sum %dx%d", r->w, r->h);
        cr_expect_eq(hfx_crc_u32(q, n), r->crc_sq, "sqsum %dx%d", r->w, r->h);
        cr_expect_eq(hfx_crc_u32(t, n), r->crc_tilted, "tilted %dx%d", r->w, r->h);
        free(src); free(s); free(q); free(t); free(scratch);
    }
}
