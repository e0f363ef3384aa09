/* Flip, rotation and bilinear sampling (data/augment.h) against exact
 * expected images and hand-computed values. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data/augment.h"

#define TOL 1e-3f

/* An asymmetric h x w image: every pixel different. */
static void ramp(uint8_t *img, int h, int w)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) img[y * w + x] = (uint8_t)(7 * y * w + 3 * x + (x * y) % 5);
}

Test(data_augment, angle_zero_is_identity)
{
    enum { H = 5, W = 7 };
    uint8_t src[H * W];
    float f[H * W], out[H * W];
    ramp(src, H, W);
    for (int i = 0; i < H * W; i++) f[i] = (float)src[i] + 0.25f;
    fer_augment_params p = {.flip = 0, .angle_deg = 0.0f};
    fer_augment_u8(src, H, W, &p, out);
    for (int i = 0; i < H * W; i++) cr_expect_eq(out[i], (float)src[i], "u8 pixel %d", i);
    fer_augment_f32(f, H, W, &p, out);
    for (int i = 0; i < H * W; i++) cr_expect_eq(out[i], f[i], "f32 pixel %d", i);
}

Test(data_augment, flip_is_an_exact_mirror)
{
    enum { H = 3, W = 5 };
    uint8_t src[H * W];
    float out[H * W];
    ramp(src, H, W);
    fer_augment_params p = {.flip = 1, .angle_deg = 0.0f};
    fer_augment_u8(src, H, W, &p, out);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            cr_expect_eq(out[y * W + x], (float)src[y * W + (W - 1 - x)], "(%d,%d)", x, y);
}

/* Rotations by multiples of 90 degrees map the pixel grid onto itself, so
 * the result is a permuted copy (up to the float rounding of sin/cos). */
static void check_quarter_turns(int n)
{
    uint8_t src[64];
    float out[64];
    ramp(src, n, n);
    fer_augment_params ccw = {.flip = 0, .angle_deg = 90.0f}, cw = {.flip = 0, .angle_deg = -90.0f}, half = {.flip = 0, .angle_deg = 180.0f}, flip_ccw = {.flip = 1, .angle_deg = 90.0f};
    fer_augment_u8(src, n, n, &ccw, out);
    /* Counter-clockwise on screen: the right column becomes the top row. */
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            cr_expect_float_eq(out[y * n + x], src[x * n + (n - 1 - y)], TOL, "%dx%d +90 (%d,%d)", n, n, x, y);
    for (int x = 0; x < n; x++) cr_expect_float_eq(out[x], src[x * n + n - 1], TOL, "top row = right column");
    fer_augment_u8(src, n, n, &cw, out);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            cr_expect_float_eq(out[y * n + x], src[(n - 1 - x) * n + y], TOL, "%dx%d -90 (%d,%d)", n, n, x, y);
    fer_augment_u8(src, n, n, &half, out);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            cr_expect_float_eq(out[y * n + x], src[(n - 1 - y) * n + (n - 1 - x)], TOL, "180 (%d,%d)", x, y);
    /* Mirror, then a quarter turn counter-clockwise: the transpose. */
    fer_augment_u8(src, n, n, &flip_ccw, out);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            cr_expect_float_eq(out[y * n + x], src[x * n + y], TOL, "flip+90 (%d,%d)", x, y);
}

Test(data_augment, quarter_turns_odd_and_even_sizes)
{
    check_quarter_turns(5);
    check_quarter_turns(4);
}

Test(data_augment, half_turn_of_a_non_square_image)
{
    enum { H = 4, W = 6 };
    uint8_t src[H * W];
    float out[H * W];
    ramp(src, H, W);
    fer_augment_params p = {.flip = 0, .angle_deg = 180.0f};
    fer_augment_u8(src, H, W, &p, out);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            cr_expect_float_eq(out[y * W + x], src[(H - 1 - y) * W + (W - 1 - x)], TOL, "(%d,%d)", x, y);
}

Test(data_augment, quarter_turn_of_a_non_square_image_interior)
{
    /* 3 x 5 turned by 90 degrees about its centre (2, 1): output (x, y)
     * takes source (x', y') = (2 - (y - 1), 1 + (x - 2)); only the pixels
     * whose source lies inside the image are exact copies. */
    enum { H = 3, W = 5 };
    uint8_t src[H * W];
    float out[H * W];
    ramp(src, H, W);
    fer_augment_params p = {.flip = 0, .angle_deg = 90.0f};
    fer_augment_u8(src, H, W, &p, out);
    int checked = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int sx = 2 - (y - 1), sy = 1 + (x - 2);
            if (sx < 0 || sx >= W || sy < 0 || sy >= H) continue;
            cr_expect_float_eq(out[y * W + x], src[sy * W + sx], TOL, "(%d,%d)", x, y);
            checked++;
        }
    cr_expect_eq(checked, 9);
}

Test(data_augment, bilinear_hand_values)
{
    const float img[4] = {0, 10, 20, 30}; /* 2x2: top 0 10, bottom 20 30 */
    /* (0.25, 0.5): top 2.5, bottom 22.5, halfway 12.5 */
    cr_expect_float_eq(fer_bilinear(img, 2, 2, 0.25f, 0.5f), 12.5f, 1e-6);
    cr_expect_float_eq(fer_bilinear(img, 2, 2, 0.5f, 0.5f), 15.0f, 1e-6);
    cr_expect_float_eq(fer_bilinear(img, 2, 2, 1.0f, 1.0f), 30.0f, 1e-6);
    cr_expect_float_eq(fer_bilinear(img, 2, 2, 0.75f, 0.0f), 7.5f, 1e-6);
    /* Outside: the edge is replicated. */
    cr_expect_float_eq(fer_bilinear(img, 2, 2, -3.0f, 0.5f), 10.0f, 1e-6);
    cr_expect_float_eq(fer_bilinear(img, 2, 2, 0.5f, 7.0f), 25.0f, 1e-6);
    cr_expect_float_eq(fer_bilinear(img, 2, 2, 5.0f, -5.0f), 10.0f, 1e-6);
}

Test(data_augment, rotation_of_a_linear_ramp_is_exact_inside)
{
    /* Bilinear interpolation reproduces a linear function exactly, so a
     * 30-degree turn of f(x, y) = 3x + 2y + 7 gives f at the rotated source
     * point wherever that point lies inside the image. Hand values for the
     * 9x9 image (centre 4, 4), counter-clockwise:
     *   (4, 4) -> source (4, 4):                         f = 27
     *   (6, 4) -> source (4 + 2 cos30, 4 + 2 sin30) = (5.7321, 5): f = 34.1962
     *   (4, 2) -> source (4 + 2 sin30, 4 - 2 cos30) = (5, 2.2679): f = 26.5359 */
    enum { N = 9 };
    float src[N * N], out[N * N];
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) src[y * N + x] = 3.0f * x + 2.0f * y + 7.0f;
    fer_augment_params p = {.flip = 0, .angle_deg = 30.0f};
    fer_augment_f32(src, N, N, &p, out);
    cr_expect_float_eq(out[4 * N + 4], 27.0f, 1e-4);
    cr_expect_float_eq(out[4 * N + 6], 34.1962f, 1e-3);
    cr_expect_float_eq(out[2 * N + 4], 26.5359f, 1e-3);
    /* And the source point of (6, 4) is up-right of the centre in image
     * coordinates turned counter-clockwise: check against a -30 turn too. */
    p.angle_deg = -30.0f;
    fer_augment_f32(src, N, N, &p, out);
    cr_expect_float_eq(out[4 * N + 6], 3.0f * 5.7321f + 2.0f * 3.0f + 7.0f, 1e-3);
}

Test(data_augment, border_replicates_edge_pixels)
{
    /* 5x5 turned 45 degrees: output corner (0, 0) has source
     * (2 + (-2)(c) - (-2)(s), 2 + (-2)(s) + (-2)(c)) = (2, 2 - 2.83), above
     * the image, so it takes the top edge pixel (2, 0). */
    enum { N = 5 };
    uint8_t src[N * N];
    float out[N * N];
    ramp(src, N, N);
    fer_augment_params p = {.flip = 0, .angle_deg = 45.0f};
    fer_augment_u8(src, N, N, &p, out);
    cr_expect_float_eq(out[0], src[2], TOL, "corner = top middle, got %g", (double)out[0]);
    /* Nothing outside the range of the source: no black fill. */
    float lo = 1e9f, hi = -1e9f;
    for (int i = 0; i < N * N; i++) lo = fminf(lo, src[i]), hi = fmaxf(hi, src[i]);
    for (int i = 0; i < N * N; i++) cr_expect(out[i] >= lo - TOL && out[i] <= hi + TOL, "pixel %d = %g", i, (double)out[i]);
}

Test(data_augment, draws)
{
    nn_rng rng, before;
    nn_rng_seed(&rng, 42);
    before = rng;
    fer_augment_params p;
    fer_augment_opts off = {.flip = 0, .max_deg = 0.0f, .threads = 0};
    fer_augment_draw(&off, &rng, &p);
    cr_expect(p.flip == 0 && p.angle_deg == 0.0f);
    cr_expect_eq(memcmp(&rng, &before, sizeof rng), 0, "disabled parts draw nothing");

    fer_augment_opts def = fer_augment_defaults();
    cr_expect_eq(def.flip, 1);
    cr_expect_eq(def.max_deg, 10.0f);
    int flips = 0, n = 20000;
    float lo = 1e9f, hi = -1e9f;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        fer_augment_draw(&def, &rng, &p);
        flips += p.flip;
        lo = fminf(lo, p.angle_deg);
        hi = fmaxf(hi, p.angle_deg);
        sum += p.angle_deg;
    }
    cr_expect(flips > n / 2 - 500 && flips < n / 2 + 500, "%d flips of %d", flips, n);
    cr_expect(lo >= -10.0f && hi <= 10.0f && lo < -9.9f && hi > 9.9f, "angles in [%g, %g]", (double)lo, (double)hi);
    cr_expect(fabs(sum / n) < 0.2, "mean angle %g", sum / n);

    /* Two draws per image with both parts on, in the order flip, angle. */
    nn_rng a, b;
    nn_rng_seed(&a, 7);
    b = a;
    for (int i = 0; i < 64; i++) {
        fer_augment_draw(&def, &a, &p);
        int flip = (int)(nn_rng_u32(&b) >> 31); /* the top bit: xoshiro's best */
        float ang = nn_rng_range(&b, -10.0f, 10.0f);
        cr_expect_eq(p.flip, flip, "draw %d", i);
        cr_expect_eq(p.angle_deg, ang, "draw %d", i);
    }
    cr_expect_eq(memcmp(&a, &b, sizeof a), 0);
}

Test(data_augment, option_check)
{
    nn_error err;
    fer_augment_opts o = {.flip = 1, .max_deg = 10.0f, .threads = 0};
    cr_expect_eq(fer_augment_check(&o, &err), NN_OK);
    o.max_deg = -1.0f;
    cr_expect_eq(fer_augment_check(&o, &err), NN_ERR_ARG);
    o.max_deg = NAN;
    cr_expect_eq(fer_augment_check(&o, &err), NN_ERR_ARG);
    o.max_deg = 181.0f;
    cr_expect_eq(fer_augment_check(&o, &err), NN_ERR_ARG);
    o.max_deg = 0.0f;
    o.threads = 4;
    cr_expect_eq(fer_augment_check(&o, &err), NN_OK);
    o.threads = -1;
    cr_expect_eq(fer_augment_check(&o, &err), NN_ERR_ARG);
    cr_expect_eq(fer_augment_check(NULL, &err), NN_ERR_ARG);
}

/* A whole-pixel shift is an exact translation; the pixels it uncovers repeat
 * the nearest edge. */
Test(data_augment, whole_pixel_shift_translates)
{
    enum { H = 6, W = 7 };
    uint8_t src[H * W];
    float out[H * W];
    ramp(src, H, W);
    fer_augment_params p = {.shift_x = 2.0f, .shift_y = -1.0f};
    fer_augment_u8(src, H, W, &p, out);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int sx = x - 2 < 0 ? 0 : x - 2, sy = y + 1 > H - 1 ? H - 1 : y + 1;
            cr_expect_eq(out[y * W + x], (float)src[sy * W + sx], "(%d,%d)", x, y);
        }
    /* With a mirror: mirrored first, then moved right. */
    p.flip = 1;
    fer_augment_u8(src, H, W, &p, out);
    for (int y = 0; y < H; y++)
        for (int x = 2; x < W; x++) {
            int sy = y + 1 > H - 1 ? H - 1 : y + 1;
            cr_expect_eq(out[y * W + x], (float)src[sy * W + (W - 1 - (x - 2))], "flip (%d,%d)", x, y);
        }
}

/* Bilinear sampling reproduces a linear image exactly, so zooming
 * v = a*x + b*y + c by s about the centre gives slopes a/s and b/s there. */
Test(data_augment, zoom_scales_about_the_centre)
{
    enum { N = 12 };
    float src[N * N], out[N * N];
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) src[y * N + x] = 3.0f * x - 2.0f * y + 50.0f;
    const float c = 0.5f * (N - 1);
    for (int k = 0; k < 2; k++) {
        const float zoom = k ? 0.25f : -0.2f, s = 1.0f + zoom;
        fer_augment_params p = {.zoom = zoom};
        fer_augment_f32(src, N, N, &p, out);
        for (int y = 2; y < N - 2; y++)
            for (int x = 2; x < N - 2; x++) {
                float want = 3.0f * (c + (x - c) / s) - 2.0f * (c + (y - c) / s) + 50.0f;
                if (zoom < 0 && (fabsf((x - c) / s) > c || fabsf((y - c) / s) > c)) continue;
                cr_expect_float_eq(out[y * N + x], want, TOL, "zoom %g (%d,%d)", (double)zoom, x, y);
            }
    }
}

Test(data_augment, zoom_and_shift_draws)
{
    fer_augment_opts o = fer_augment_defaults();
    o.max_zoom = 0.1f;
    o.max_shift = 3.0f;
    nn_rng a, b;
    nn_rng_seed(&a, 9);
    b = a;
    fer_augment_params p;
    float zlo = 1, zhi = -1, slo = 9, shi = -9;
    for (int i = 0; i < 4000; i++) {
        fer_augment_draw(&o, &a, &p);
        /* order: flip, angle, zoom, shift x, shift y */
        cr_expect_eq(p.flip, (int)(nn_rng_u32(&b) >> 31));
        cr_expect_eq(p.angle_deg, nn_rng_range(&b, -10.0f, 10.0f));
        cr_expect_eq(p.zoom, nn_rng_range(&b, -0.1f, 0.1f));
        cr_expect_eq(p.shift_x, nn_rng_range(&b, -3.0f, 3.0f));
        cr_expect_eq(p.shift_y, nn_rng_range(&b, -3.0f, 3.0f));
        zlo = fminf(zlo, p.zoom), zhi = fmaxf(zhi, p.zoom);
        slo = fminf(slo, fminf(p.shift_x, p.shift_y)), shi = fmaxf(shi, fmaxf(p.shift_x, p.shift_y));
    }
    cr_expect(zlo >= -0.1f && zhi <= 0.1f && zlo < -0.09f && zhi > 0.09f, "zoom in [%g, %g]", zlo, zhi);
    cr_expect(slo >= -3.0f && shi <= 3.0f && slo < -2.9f && shi > 2.9f, "shift in [%g, %g]", slo, shi);

    /* Off, they draw nothing: the paper's recipe draws what it always drew. */
    fer_augment_opts def = fer_augment_defaults();
    nn_rng_seed(&a, 9);
    b = a;
    fer_augment_draw(&def, &a, &p);
    cr_expect(p.zoom == 0.0f && p.shift_x == 0.0f && p.shift_y == 0.0f);
    (void)nn_rng_u32(&b);
    (void)nn_rng_range(&b, -10.0f, 10.0f);
    cr_expect_eq(memcmp(&a, &b, sizeof a), 0);
}

Test(data_augment, zoom_and_shift_option_check)
{
    nn_error err;
    fer_augment_opts o = fer_augment_defaults();
    o.max_shift = 16.0f;
    o.max_zoom = 0.5f;
    cr_expect_eq(fer_augment_check(&o, &err), NN_OK);
    o.max_shift = 16.5f;
    cr_expect_eq(fer_augment_check(&o, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "shift") != NULL, "%s", err.msg);
    o.max_shift = NAN;
    cr_expect_eq(fer_augment_check(&o, &err), NN_ERR_ARG);
    o.max_shift = 0.0f;
    o.max_zoom = -0.1f;
    cr_expect_eq(fer_augment_check(&o, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "zoom") != NULL, "%s", err.msg);
    o.max_zoom = 0.6f;
    cr_expect_eq(fer_augment_check(&o, &err), NN_ERR_ARG);
}
