/* test_vision_haar_api.c: the detector's contract (vision/haar.h) and its
 * building blocks checked against their definitions: argument checks,
 * output order and truncation, row stride, workspace reuse across frame
 * sizes, grouping rules (vision/haar_group.h), integrals.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test_vision_haar_fixture.h"
#include "vision/haar.h"
#include "vision/haar_group.h"
#include "vision/haar_integral.h"
#include "vision/haar_resize.h"

static hfx fx;
static haar_cascade *face;

static void setup(void)
{
    if (hfx_load(&fx)) cr_assert_fail("fixture: %s", fx.err);
    nn_error err;
    face = haar_cascade_load(HAAR_DEFAULT_CASCADE, &err);
    if (!face) cr_assert_fail("%s", err.msg);
}

static void teardown(void)
{
    haar_cascade_free(face);
    hfx_free(&fx);
}

static const hfx_image *image(const char *name)
{
    const hfx_image *im = hfx_find(&fx, name);
    cr_assert_not_null(im, "fixture image %s", name);
    return im;
}

/* Detection with a fresh workspace; returns the count. */
static int detect(const hfx_image *im, const haar_params *p, haar_rect *out, int max_out)
{
    nn_error err;
    haar_workspace *ws = haar_workspace_new(face, &err);
    cr_assert_not_null(ws, "%s", err.msg);
    int n = -1;
    cr_assert_eq(haar_detect(face, ws, im->px, im->w, im->h, im->w, p, out, max_out, &n, &err), NN_OK,
                 "%s", err.msg);
    haar_workspace_free(ws);
    return n;
}

static int same(const haar_rect *a, int na, const haar_rect *b, int nb)
{
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (a[i].x != b[i].x || a[i].y != b[i].y || a[i].w != b[i].w || a[i].h != b[i].h ||
            a[i].neighbors != b[i].neighbors)
            return 0;
    return 1;
}

TestSuite(haar_api, .init = setup, .fini = teardown, .timeout = 60);

Test(haar_api, defaults_are_the_papers)
{
    haar_params p = haar_params_default();
    cr_expect_eq(p.scale_factor, 1.32);
    cr_expect_eq(p.min_neighbors, 5);
    cr_expect(p.min_w == 0 && p.min_h == 0 && p.max_w == 0 && p.max_h == 0);
}

Test(haar_api, bad_arguments)
{
    nn_error err;
    haar_workspace *ws = haar_workspace_new(face, &err);
    const hfx_image *im = image("astronaut.pgm");
    haar_params p = haar_params_default();
    haar_rect out[4];
    int n = 7;
    cr_expect_eq(haar_detect(NULL, ws, im->px, im->w, im->h, im->w, &p, out, 4, &n, &err), NN_ERR_ARG);
    cr_expect_eq(n, 0);
    cr_expect_eq(haar_detect(face, NULL, im->px, im->w, im->h, im->w, &p, out, 4, &n, &err), NN_ERR_ARG);
    cr_expect_eq(haar_detect(face, ws, NULL, im->w, im->h, im->w, &p, out, 4, &n, &err), NN_ERR_ARG);
    cr_expect_eq(haar_detect(face, ws, im->px, im->w, im->h, im->w, NULL, out, 4, &n, &err), NN_ERR_ARG);
    cr_expect_eq(haar_detect(face, ws, im->px, im->w, im->h, im->w, &p, NULL, 4, &n, &err), NN_ERR_ARG);
    cr_expect_eq(haar_detect(face, ws, im->px, im->w, im->h, im->w, &p, out, 4, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(haar_detect(face, ws, im->px, 0, im->h, im->w, &p, out, 4, &n, &err), NN_ERR_ARG);
    cr_expect_eq(haar_detect(face, ws, im->px, im->w, im->h, im->w - 1, &p, out, 4, &n, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "stride"), "%s", err.msg);
    p.scale_factor = 1.0;
    cr_expect_eq(haar_detect(face, ws, im->px, im->w, im->h, im->w, &p, out, 4, &n, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "scale_factor"), "%s", err.msg);
    p = haar_params_default();
    p.min_neighbors = -1;
    cr_expect_eq(haar_detect(face, ws, im->px, im->w, im->h, im->w, &p, out, 4, &n, &err), NN_ERR_ARG);
    p = haar_params_default();
    p.max_w = -5;
    cr_expect_eq(haar_detect(face, ws, im->px, im->w, im->h, im->w, &p, out, 4, &n, &err), NN_ERR_ARG);

    /* A workspace belongs to the cascade it was made for. */
    haar_cascade *other = haar_cascade_load(HAAR_DEFAULT_CASCADE, &err);
    p = haar_params_default();
    cr_expect_eq(haar_detect(other, ws, im->px, im->w, im->h, im->w, &p, out, 4, &n, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "another cascade"), "%s", err.msg);
    haar_cascade_free(other);
    cr_expect_null(haar_workspace_new(NULL, &err));
    cr_expect_eq(haar_workspace_prepare(ws, 0, 10, &err), NN_ERR_ARG);
    haar_workspace_free(ws);
    haar_workspace_free(NULL);
}

Test(haar_api, tiny_and_flat_images_give_nothing)
{
    haar_params p = haar_params_default();
    p.min_neighbors = 0;   /* even raw hits */
    haar_rect out[8];
    uint8_t small[23 * 40];
    memset(small, 128, sizeof small);
    hfx_image im = { "small", 23, 40, small, 0, 0 };   /* narrower than the 24x24 window */
    cr_expect_eq(detect(&im, &p, out, 8), 0);
    static uint8_t flat[200 * 150];
    memset(flat, 77, sizeof flat);   /* no variance: every window rejected */
    hfx_image fl = { "flat", 200, 150, flat, 0, 0 };
    cr_expect_eq(detect(&fl, &p, out, 8), 0);
}

Test(haar_api, largest_first_and_truncation)
{
    const hfx_image *im = image("frame1");
    haar_params p = haar_params_default();
    p.scale_factor = 1.1;
    p.min_neighbors = 3;
    haar_rect all[16], two[2];
    int n = detect(im, &p, all, 16);
    cr_assert_eq(n, 4, "frame1 at 1.1/3 has four faces in the OpenCV fixture");
    for (int i = 1; i < n; i++)
        cr_expect_geq(all[i - 1].w * all[i - 1].h, all[i].w * all[i].h, "not largest first");
    for (int i = 0; i < n; i++) cr_expect_gt(all[i].neighbors, 3);
    cr_expect_eq(detect(im, &p, two, 2), 2);
    cr_expect(same(two, 2, all, 2), "truncation keeps the largest");
    cr_expect_eq(detect(im, &p, NULL, 0), 0);
    p.min_neighbors = 0;
    haar_rect raw[512];
    int nr = detect(im, &p, raw, 512);
    cr_expect_gt(nr, 50);
    for (int i = 0; i < nr; i++) cr_expect_eq(raw[i].neighbors, 1);
}

Test(haar_api, row_stride_and_workspace_reuse)
{
    haar_params p = haar_params_default();
    p.scale_factor = 1.2;
    p.min_neighbors = 2;
    const char *names[] = { "frame1", "astronaut.pgm", "frame2", "messi.pgm", "frame1" };
    haar_rect want[64], got[64];
    nn_error err;
    haar_workspace *ws = haar_workspace_new(face, &err);
    for (int k = 0; k < 5; k++) {
        const hfx_image *im = image(names[k]);
        int nw = detect(im, &p, want, 64);
        /* Same image inside a wider buffer whose padding is noise. */
        int stride = im->w + 37;
        uint8_t *buf = malloc((size_t)stride * im->h);
        for (int y = 0; y < im->h; y++) {
            for (int x = 0; x < stride; x++) buf[(size_t)y * stride + x] = (uint8_t)(x * 37 + y * 11);
            memcpy(buf + (size_t)y * stride, im->px + (size_t)y * im->w, (size_t)im->w);
        }
        int ng = -1;
        cr_assert_eq(haar_detect(face, ws, buf, im->w, im->h, stride, &p, got, 64, &ng, &err), NN_OK);
        cr_expect(same(got, ng, want, nw), "%s: reused workspace and stride %d differ", names[k], stride);
        free(buf);
    }
    haar_workspace_free(ws);
}

Test(haar_api, min_and_max_size)
{
    const hfx_image *im = image("frame1");
    haar_params p = haar_params_default();
    p.scale_factor = 1.1;
    p.min_neighbors = 0;
    haar_rect raw[2048];
    int n_all = detect(im, &p, raw, 2048);
    p.min_w = p.min_h = 60;
    p.max_w = p.max_h = 120;
    int n = detect(im, &p, raw, 2048);
    cr_expect(n > 0 && n < n_all);
    for (int i = 0; i < n; i++) cr_expect(raw[i].w >= 60 && raw[i].w <= 120, "window %d", raw[i].w);
}

/* ---- grouping ---- */

static int group(haar_rect *r, int n, int thr)
{
    void *scratch = malloc(haar_group_scratch_size(n) + 1);
    int k = haar_group(r, n, thr, 0.2, scratch);
    free(scratch);
    return k;
}

Test(haar_group, threshold_zero_returns_raw)
{
    haar_rect r[2] = { { 1, 2, 30, 30, 9 }, { 100, 2, 30, 30, 9 } };
    cr_expect_eq(group(r, 2, 0), 2);
    cr_expect(r[0].x == 1 && r[0].neighbors == 1 && r[1].neighbors == 1);
    cr_expect_eq(group(r, 0, 3), 0);
}

Test(haar_group, clusters_are_averaged_and_thin_ones_dropped)
{
    haar_rect r[5] = {
        { 100, 100, 50, 50, 1 }, { 104, 98, 52, 52, 1 }, { 99, 103, 48, 48, 1 },   /* one face */
        { 300, 300, 40, 40, 1 }, { 302, 301, 40, 40, 1 },                          /* two hits */
    };
    int k = group(r, 5, 2);
    cr_assert_eq(k, 1);
    /* Averages: (100+104+99)/3 = 101, (100+98+103)/3 = 100.33, 150/3 = 50. */
    cr_expect(r[0].x == 101 && r[0].y == 100 && r[0].w == 50 && r[0].h == 50 && r[0].neighbors == 3,
              "(%d,%d,%d,%d) n=%d", r[0].x, r[0].y, r[0].w, r[0].h, r[0].neighbors);
}

Test(haar_group, similarity_uses_min_sizes_and_is_transitive)
{
    /* delta = 0.2 * (min w + min h) / 2 = 0.2 * 20 = 4 for 20x20 rects. */
    haar_rect r[3] = { { 0, 0, 20, 20, 1 }, { 4, 0, 20, 20, 1 }, { 8, 0, 20, 20, 1 } };
    cr_expect_eq(group(r, 3, 2), 1, "a-b and b-c similar: one cluster, as cv::partition");
    haar_rect s[2] = { { 0, 0, 20, 20, 1 }, { 5, 0, 20, 20, 1 } };
    cr_expect_eq(group(s, 2, 0), 2);
    haar_rect t[4] = { { 0, 0, 20, 20, 1 }, { 5, 0, 20, 20, 1 }, { 0, 0, 20, 20, 1 }, { 5, 0, 20, 20, 1 } };
    cr_expect_eq(group(t, 4, 1), 2, "shift 5 > delta 4: two clusters");
}

Test(haar_group, rounding_is_half_to_even)
{
    /* (1 + 2) * 0.5f = 1.5 -> 2; (2 + 3) * 0.5f = 2.5 -> 2 (cvRound). */
    haar_rect r[2] = { { 1, 2, 21, 21, 1 }, { 2, 3, 21, 21, 1 } };
    cr_assert_eq(group(r, 2, 1), 1);
    cr_expect(r[0].x == 2 && r[0].y == 2 && r[0].w == 21, "(%d,%d,%d)", r[0].x, r[0].y, r[0].w);
}

Test(haar_group, small_clusters_inside_big_ones)
{
    haar_rect r[16];
    int n = 0;
    for (int i = 0; i < 6; i++) r[n++] = (haar_rect){ 100, 100, 100, 100, 1 };    /* big, 6 hits */
    for (int i = 0; i < 2; i++) r[n++] = (haar_rect){ 130, 130, 30, 30, 1 };      /* inside, 2 hits */
    for (int i = 0; i < 4; i++) r[n++] = (haar_rect){ 140, 110, 40, 40, 1 };      /* inside, 4 hits */
    for (int i = 0; i < 2; i++) r[n++] = (haar_rect){ 400, 400, 30, 30, 1 };      /* alone, 2 hits */
    int k = group(r, n, 1);
    /* The 2-hit cluster inside goes (fewer than 3 hits); the 4-hit one
     * inside goes too (6 > max(3, 4)); the lone 2-hit cluster stays. */
    cr_assert_eq(k, 2);
    cr_expect(r[0].x == 100 && r[0].neighbors == 6);
    cr_expect(r[1].x == 400 && r[1].neighbors == 2);
    n = 0;
    for (int i = 0; i < 4; i++) r[n++] = (haar_rect){ 100, 100, 100, 100, 1 };    /* big, 4 hits */
    for (int i = 0; i < 4; i++) r[n++] = (haar_rect){ 140, 110, 40, 40, 1 };      /* inside, 4 hits */
    cr_expect_eq(group(r, n, 1), 2, "4 hits inside 4 hits stays (needs more than max(3, 4))");
}

/* ---- integrals and resize against their definitions ---- */

Test(haar_blocks, integrals_by_definition)
{
    int w = 37, h = 29, stride = 41;
    uint8_t img[37 * 29];
    hfx_pattern(img, w, h, 99, 0);
    uint32_t *s = calloc((size_t)stride * (h + 1), 4), *q = calloc((size_t)stride * (h + 1), 4);
    uint32_t *t = calloc((size_t)stride * (h + 1), 4);
    uint32_t *scratch = malloc(haar_integral_tilted_scratch(w, h) * 4);
    haar_integral(img, w, h, w, s, q, stride);
    haar_integral_tilted(img, w, h, w, t, stride, scratch);
    for (int Y = 0; Y <= h; Y++)
        for (int X = 0; X <= w; X++) {
            uint32_t es = 0, eq = 0, et = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    uint32_t v = img[y * w + x];
                    if (x < X && y < Y) es += v, eq += v * v;
                    if (y < Y && abs(x - X + 1) <= Y - 1 - y) et += v;
                }
            size_t i = (size_t)Y * stride + X;
            cr_assert(s[i] == es && q[i] == eq && t[i] == et, "(%d,%d): %u %u %u vs %u %u %u", X, Y,
                      s[i], q[i], t[i], es, eq, et);
        }
    free(s); free(q); free(t); free(scratch);
}

Test(haar_blocks, resize_identity_and_halving)
{
    int w = 64, h = 48;
    uint8_t src[64 * 48], dst[64 * 48];
    hfx_pattern(src, w, h, 7, 0);
    void *scratch = malloc(haar_resize_scratch_size(w, h));
    haar_resize(src, w, h, w, dst, w, h, w, scratch);
    cr_expect(memcmp(src, dst, sizeof src) == 0, "same size is a copy");
    /* Exactly half: OpenCV's bit-exact linear equals the 2x2 mean, rounded. */
    haar_resize(src, w, h, w, dst, w / 2, h / 2, w / 2, scratch);
    for (int y = 0; y < h / 2; y++)
        for (int x = 0; x < w / 2; x++) {
            int a = src[(2 * y) * w + 2 * x] + src[(2 * y) * w + 2 * x + 1] +
                    src[(2 * y + 1) * w + 2 * x] + src[(2 * y + 1) * w + 2 * x + 1];
            cr_assert_eq(dst[y * (w / 2) + x], (a + 2) >> 2, "(%d,%d)", x, y);
        }
    free(scratch);
}
