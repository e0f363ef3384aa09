/* Face crop and resize: hand-computed area averages, bilinear upscaling,
 * and OpenCV reference values. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/face_crop.h"

static void expect_near(const uint8_t *got, const uint8_t *want, int n, int tol, const char *what)
{
    for (int i = 0; i < n; i++)
        cr_expect_leq(abs((int)got[i] - want[i]), tol, "%s[%d]: got %d want %d", what, i, got[i],
                      want[i]);
}

Test(vision_crop, integer_shrink_is_block_mean)
{
    /* 4x4 -> 2x2: each output is the mean of a 2x2 block. */
    const uint8_t src[16] = {0,   10,  100, 110, /* */
                             20,  30,  120, 130, /* */
                             200, 200, 7,   9,   /* */
                             200, 201, 11,  13};
    uint8_t out[4];
    nn_error err;
    cr_assert_eq(fer_resize_grey(src, 4, 4, 4, out, 2, 2, FER_RESIZE_AREA, &err), NN_OK);
    /* 15, 115, 200.25, 10 */
    const uint8_t want[4] = {15, 115, 200, 10};
    cr_assert_arr_eq(out, want, 4);
}

Test(vision_crop, fractional_shrink_weights_partial_pixels)
{
    /* 3 -> 2 along each axis: output 0 covers source [0, 1.5): pixel 0
     * whole and half of pixel 1, weights (1, 0.5) / 1.5; output 1 covers
     * [1.5, 3): weights (0.5, 1) / 1.5 on pixels 1 and 2.
     *   src = 0   90  210        rows weighted the same way:
     *         30  60  240
     *         90  0   150
     * x pass: row0 -> (0 + 45) / 1.5 = 30,  (45 + 210) / 1.5 = 170
     *         row1 -> (30 + 30) / 1.5 = 40, (30 + 240) / 1.5 = 180
     *         row2 -> (90 + 0) / 1.5 = 60,  (0 + 150) / 1.5 = 100
     * y pass: (30 + 20) / 1.5 = 33.3 -> 33,  (170 + 90) / 1.5 = 173.3 -> 173
     *         (20 + 60) / 1.5 = 53.3 -> 53,  (90 + 100) / 1.5 = 126.7 -> 127 */
    const uint8_t src[9] = {0, 90, 210, 30, 60, 240, 90, 0, 150};
    uint8_t out[4];
    nn_error err;
    cr_assert_eq(fer_resize_grey(src, 3, 3, 3, out, 2, 2, FER_RESIZE_AREA, &err), NN_OK);
    const uint8_t want[4] = {33, 173, 53, 127};
    cr_assert_arr_eq(out, want, 4, "got %d %d %d %d", out[0], out[1], out[2], out[3]);
}

Test(vision_crop, upscale_is_bilinear)
{
    /* 2 -> 4: sample positions (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75,
     * 1.25, clamped at the edges: 0, 25, 75, 100. */
    const uint8_t src[2] = {0, 100};
    uint8_t out[4];
    nn_error err;
    cr_assert_eq(fer_resize_grey(src, 2, 2, 1, out, 4, 1, FER_RESIZE_AREA, &err), NN_OK);
    const uint8_t want[4] = {0, 25, 75, 100};
    cr_assert_arr_eq(out, want, 4);
}

/* 13x11 test pattern (x*37 + y*91 + x*y*13) % 256 and OpenCV 4.6's
 * cv2.resize of it (INTER_AREA and INTER_LINEAR to 5x4; INTER_LINEAR of
 * its top-left 4x3 to 7x5), printed by /usr/bin/python3 with cv2. */
static void pattern(uint8_t *p)
{
    for (int y = 0; y < 11; y++)
        for (int x = 0; x < 13; x++) p[y * 13 + x] = (uint8_t)((x * 37 + y * 91 + x * y * 13) % 256);
}

Test(vision_crop, matches_opencv_within_one)
{
    static const uint8_t area[20] = {108, 135, 136, 117, 139, 114, 149, 131, 137, 116,
                                     129, 161, 155, 153, 133, 139, 99,  122, 109, 132};
    static const uint8_t linear[20] = {118, 154, 146, 105, 141, 141, 161, 163, 125, 88,
                                       164, 181, 179, 139, 112, 161, 67,  196, 101, 186};
    static const uint8_t up[35] = {0,   13,  34,  55,  77,  98,  111, 36,  51,  75,  100, 124,
                                   148, 163, 91,  109, 137, 166, 195, 223, 241, 145, 166, 199,
                                   155, 112, 145, 165, 182, 204, 240, 148, 56,  92,  115};
    uint8_t src[13 * 11], out[35];
    pattern(src);
    nn_error err;
    cr_assert_eq(fer_resize_grey(src, 13, 13, 11, out, 5, 4, FER_RESIZE_AREA, &err), NN_OK);
    expect_near(out, area, 20, 1, "INTER_AREA");
    cr_assert_eq(fer_resize_grey(src, 13, 13, 11, out, 5, 4, FER_RESIZE_LINEAR, &err), NN_OK);
    expect_near(out, linear, 20, 1, "INTER_LINEAR");
    /* upscaling: both modes are bilinear; the source rows are 13 bytes apart */
    cr_assert_eq(fer_resize_grey(src, 13, 4, 3, out, 7, 5, FER_RESIZE_AREA, &err), NN_OK);
    expect_near(out, up, 35, 1, "upscale");
}

Test(vision_crop, face_crop_to_48_clamps_the_box)
{
    /* 200x120 frame; the face box (100,20 96x96) shrinks 2:1 to 48x48, so
     * each output pixel is the mean of a 2x2 block. */
    fer_image im = {0};
    nn_error err;
    cr_assert_eq(fer_image_reserve(&im, 200, 120, 1, &err), NN_OK);
    for (int y = 0; y < 120; y++)
        for (int x = 0; x < 200; x++) fer_image_row(&im, y)[x] = (uint8_t)((x * 3 + y * 5) & 0xff);
    uint8_t face[FER_FACE_SIDE * FER_FACE_SIDE];
    cr_assert_eq(fer_face_crop(&im, (fer_box){100, 20, 96, 96}, FER_FACE_SIDE, FER_FACE_SIDE,
                               FER_RESIZE_AREA, face, &err), NN_OK, "%s", err.msg);
    for (int oy = 0; oy < 48; oy += 7)
        for (int ox = 0; ox < 48; ox += 5) {
            int sum = 0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                    sum += fer_image_row(&im, 20 + 2 * oy + dy)[100 + 2 * ox + dx];
            int want = (int)lrint(sum / 4.0);
            cr_assert_leq(abs(face[oy * 48 + ox] - want), 0, "(%d,%d): %d vs %d", ox, oy,
                          face[oy * 48 + ox], want);
        }

    /* box hanging off the bottom-right: only the inside (150..199, 80..119)
     * is used; a constant region stays constant */
    memset(im.data, 77, 200 * 120);
    cr_assert_eq(fer_face_crop(&im, (fer_box){150, 80, 400, 400}, 48, 48, FER_RESIZE_AREA,
                               face, &err), NN_OK);
    for (int i = 0; i < 48 * 48; i++) cr_assert_eq(face[i], 77);
    /* a dark pixel just above-left of the box must not leak into the crop */
    fer_image_row(&im, 79)[149] = 0;
    cr_assert_eq(fer_face_crop(&im, (fer_box){150, 80, 400, 400}, 48, 48, FER_RESIZE_AREA,
                               face, &err), NN_OK);
    cr_assert_eq(face[0], 77);

    cr_assert_eq(fer_face_crop(&im, (fer_box){300, 10, 40, 40}, 48, 48, FER_RESIZE_AREA, face,
                               &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "outside"), "%s", err.msg);
    fer_image rgb = {0};
    cr_assert_eq(fer_image_reserve(&rgb, 10, 10, 3, &err), NN_OK);
    cr_assert_eq(fer_face_crop(&rgb, (fer_box){0, 0, 5, 5}, 48, 48, FER_RESIZE_AREA, face, &err),
                 NN_ERR_ARG);
    cr_assert_eq(fer_resize_grey(im.data, 200, 200, 120, face, 0, 48, FER_RESIZE_AREA, &err),
                 NN_ERR_ARG);
    fer_image_free(&im);
    fer_image_free(&rgb);
}
