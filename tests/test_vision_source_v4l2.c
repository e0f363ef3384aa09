/* V4L2 camera: the buffer conversions (YUYV, MJPEG) with synthetic data,
 * and the errors of opening what is not a usable camera. No camera is
 * needed. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test_vision_image_helpers.h"
#include "vision/image_yuv.h"
#include "vision/v4l2.h"

Test(vision_v4l2, yuyv_limited_range_matches_opencv)
{
    /* Pixel pairs Y0 U Y1 V; expected RGB from
     * cv2.cvtColor(yuyv, cv2.COLOR_YUV2RGB_YUY2) (OpenCV 4.6). */
    static const uint8_t yuyv[20] = {16, 128, 235, 128, 81, 90, 81, 240, 145, 54,
                                     145, 34, 41, 240, 41, 110, 120, 100, 200, 160};
    static const uint8_t want[10][3] = {{0, 0, 0},     {255, 255, 255}, {254, 0, 0},
                                        {254, 0, 0},   {0, 255, 1},     {0, 255, 1},
                                        {0, 0, 255},   {0, 0, 255},     {172, 106, 65},
                                        {255, 199, 158}};
    fer_v4l2_format_info f = {.width = 10, .height = 1, .format = FER_V4L2_YUYV,
                              .bytesperline = 20, .range = FER_RANGE_LIMITED};
    fer_image g = {0}, c = {0};
    nn_error err;
    cr_assert_eq(fer_v4l2_convert(yuyv, sizeof yuyv, &f, "cam", &g, &c, &err), NN_OK, "%s",
                 err.msg);
    for (int i = 0; i < 10; i++)
        for (int k = 0; k < 3; k++)
            cr_expect_leq(abs((int)c.data[3 * i + k] - want[i][k]), 1,
                          "pixel %d channel %d: %d vs OpenCV %d", i, k, c.data[3 * i + k],
                          want[i][k]);
    /* grey: full-range luma from Y: 16 -> 0, 235 -> 255, 145 -> 150 */
    cr_assert(g.data[0] == 0 && g.data[1] == 255 && g.data[4] == 150, "%d %d %d", g.data[0],
              g.data[1], g.data[4]);
    fer_image_free(&g);
    fer_image_free(&c);
}

Test(vision_v4l2, yuyv_full_range_and_row_padding)
{
    /* 2x2, rows padded to 8 bytes; full range: grey is Y itself. */
    static const uint8_t buf[16] = {10, 128, 20, 128, 0xEE, 0xEE, 0xEE, 0xEE,
                                    30, 85, 40, 255, 0xEE, 0xEE, 0xEE, 0xEE};
    fer_v4l2_format_info f = {.width = 2, .height = 2, .format = FER_V4L2_YUYV,
                              .bytesperline = 8, .range = FER_RANGE_FULL};
    fer_image g = {0}, c = {0};
    nn_error err;
    cr_assert_eq(fer_v4l2_convert(buf, sizeof buf, &f, "cam", &g, &c, &err), NN_OK, "%s", err.msg);
    const uint8_t want[4] = {10, 20, 30, 40};
    cr_assert_arr_eq(g.data, want, 4);
    cr_assert(c.data[0] == 10 && c.data[1] == 10 && c.data[2] == 10);
    cr_assert_gt(c.data[3 * 2], c.data[3 * 2 + 1] + 30, "row 1 is reddish");

    /* grey only */
    fer_image g2 = {0};
    cr_assert_eq(fer_v4l2_convert(buf, sizeof buf, &f, "cam", &g2, NULL, &err), NN_OK);
    cr_assert_arr_eq(g2.data, want, 4);

    /* a short buffer is an error naming the device, not a read overrun */
    cr_assert_eq(fer_v4l2_convert(buf, 11, &f, "/dev/video7", &g, &c, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "/dev/video7") && strstr(err.msg, "11 bytes"), "%s", err.msg);
    f.bytesperline = 2;
    cr_assert_eq(fer_v4l2_convert(buf, sizeof buf, &f, "cam", &g, &c, &err), NN_ERR_FORMAT);
    fer_image_free(&g);
    fer_image_free(&g2);
    fer_image_free(&c);
}

Test(vision_v4l2, yuyv_rows_match_planar_conversion)
{
    /* The packed and planar paths must agree pixel for pixel. */
    uint8_t yuyv[4 * 8], Y[8], U[4], V[4], a[24], b[24];
    for (int i = 0; i < 4; i++) {
        Y[2 * i] = (uint8_t)(20 + 50 * i), Y[2 * i + 1] = (uint8_t)(30 + 50 * i);
        U[i] = (uint8_t)(60 + 40 * i), V[i] = (uint8_t)(200 - 30 * i);
        yuyv[4 * i] = Y[2 * i], yuyv[4 * i + 1] = U[i];
        yuyv[4 * i + 2] = Y[2 * i + 1], yuyv[4 * i + 3] = V[i];
    }
    for (int r = 0; r < 2; r++) {
        fer_yuyv_to_rgb_row(yuyv, 8, (fer_yuv_range)r, a);
        fer_yuv_to_rgb_row(Y, U, V, 1, 8, (fer_yuv_range)r, b);
        cr_assert_arr_eq(a, b, 24);
    }
}

/* Removes every DHT segment (FF C4) from a JPEG, as UVC cameras do. */
static size_t strip_dht(uint8_t *j, size_t n)
{
    size_t i = 2, o = 2;
    while (i + 4 <= n && j[i] == 0xff && j[i + 1] != 0xda) {
        size_t seg = 2 + ((size_t)j[i + 2] << 8 | j[i + 3]);
        if (j[i + 1] != 0xc4) {
            memmove(j + o, j + i, seg);
            o += seg;
        }
        i += seg;
    }
    memmove(j + o, j + i, n - i);
    return o + (n - i);
}

Test(vision_v4l2, mjpeg_frames_decode_even_without_huffman_tables)
{
    enum { W = 32, H = 16 };
    uint8_t px[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = px + 3 * (y * W + x);
            p[0] = (uint8_t)(8 * x), p[1] = (uint8_t)(100 + 4 * y), p[2] = 60;
        }
    size_t n;
    uint8_t *jpg = jpeg_encode(px, W, H, 3, 92, NULL, 0, &n);
    size_t m = strip_dht(jpg, n);
    cr_assert_lt(m, n, "the fixture had Huffman tables to strip");
    fer_v4l2_format_info f = {.width = W, .height = H, .format = FER_V4L2_MJPEG};
    fer_image g = {0}, c = {0}, g_only = {0};
    nn_error err;
    cr_assert_eq(fer_v4l2_convert(jpg, m, &f, "cam", &g, &c, &err), NN_OK, "%s", err.msg);
    cr_assert(c.width == W && c.height == H && c.channels == 3 && g.channels == 1);
    for (int i = 0; i < W * H * 3; i++)
        cr_assert_leq(abs((int)c.data[i] - px[i]), 10, "byte %d", i);
    /* grey is cvtColor's luma of the colour frame */
    fer_image g2 = {0};
    cr_assert_eq(fer_image_to_grey(&g2, &c, &err), NN_OK);
    cr_assert_arr_eq(g.data, g2.data, W * H);
    /* grey-only path (libjpeg luma) agrees within rounding */
    cr_assert_eq(fer_v4l2_convert(jpg, m, &f, "cam", &g_only, NULL, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < W * H; i++) cr_assert_leq(abs((int)g_only.data[i] - g.data[i]), 2);
    /* a truncated frame is an error, not half a picture */
    cr_assert_eq(fer_v4l2_convert(jpg, m / 2, &f, "/dev/video0", &g, &c, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "/dev/video0"), "%s", err.msg);
    free(jpg);
    fer_image_free(&g);
    fer_image_free(&g2);
    fer_image_free(&g_only);
    fer_image_free(&c);
}

Test(vision_v4l2, opening_what_is_not_a_camera)
{
    fer_v4l2 *cam = (fer_v4l2 *)1;
    nn_error err;
    cr_assert_eq(fer_v4l2_open(&cam, "/dev/video-missing-97", NULL, &err), NN_ERR_IO);
    cr_assert_null(cam);
    cr_assert(strstr(err.msg, "/dev/video-missing-97: no such device"), "%s", err.msg);

    /* a character device that is not V4L2 */
    cr_assert_neq(fer_v4l2_open(&cam, "/dev/null", NULL, &err), NN_OK);
    cr_assert(strstr(err.msg, "/dev/null: not a V4L2 video device"), "%s", err.msg);

    /* a regular file */
    const char *dir = tmp_dir();
    write_bytes(tmp_path(dir, "video0"), "x", 1);
    cr_assert_eq(fer_v4l2_open(&cam, tmp_path(dir, "video0"), NULL, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "not a device node"), "%s", err.msg);
    rm_tree(dir);

    fer_v4l2_opts o = {.buffers = 99};
    cr_assert_eq(fer_v4l2_open(&cam, "/dev/video0", &o, &err), NN_ERR_ARG);
    fer_v4l2_close(NULL);
}
