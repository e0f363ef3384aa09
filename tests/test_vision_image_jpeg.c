/* JPEG decoding (files made here with libjpeg), errors, EXIF orientation. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test_vision_image_helpers.h"
#include "vision/image.h"
#include "vision/image_exif.h"
#include "vision/image_io.h"

/* A smooth colour picture (JPEG-friendly, so decoded values stay close). */
static uint8_t *smooth_rgb(int w, int h)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + 3 * ((size_t)y * w + x);
            p[0] = (uint8_t)(40 + 4 * x);
            p[1] = (uint8_t)(200 - 3 * y);
            p[2] = (uint8_t)(90 + 2 * x + y);
        }
    return px;
}

Test(vision_jpeg, decodes_colour_and_grey_close_to_the_original)
{
    enum { W = 40, H = 24 };
    uint8_t *px = smooth_rgb(W, H);
    size_t n;
    uint8_t *jpg = jpeg_encode(px, W, H, 3, 95, NULL, 0, &n);
    fer_image im = {0}, ref = {0}, grey_ref = {0};
    nn_error err;
    cr_assert_eq(fer_image_decode(jpg, n, "mem.jpg", 0, &im, &err), NN_OK, "%s", err.msg);
    cr_assert(im.width == W && im.height == H && im.channels == 3);
    int worst = 0;
    for (size_t i = 0; i < (size_t)W * H * 3; i++) {
        int d = abs((int)im.data[i] - px[i]);
        if (d > worst) worst = d;
    }
    cr_assert_leq(worst, 6, "quality 95 smooth picture off by %d", worst);

    /* grey request: libjpeg's luma, close to cvtColor of the original */
    cr_assert_eq(fer_image_reserve(&ref, W, H, 3, &err), NN_OK);
    memcpy(ref.data, px, (size_t)W * H * 3);
    cr_assert_eq(fer_image_to_grey(&grey_ref, &ref, &err), NN_OK);
    cr_assert_eq(fer_image_decode(jpg, n, "mem.jpg", 1, &im, &err), NN_OK, "%s", err.msg);
    cr_assert(im.channels == 1 && im.stride == W);
    for (size_t i = 0; i < (size_t)W * H; i++)
        cr_assert_leq(abs((int)im.data[i] - grey_ref.data[i]), 4, "pixel %zu", i);

    /* a grey JPEG stays grey, and can be asked for as RGB */
    uint8_t *g = grey_ref.data;
    free(jpg);
    jpg = jpeg_encode(g, W, H, 1, 95, NULL, 0, &n);
    cr_assert_eq(fer_image_decode(jpg, n, "g.jpg", 0, &im, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(im.channels, 1);
    for (size_t i = 0; i < (size_t)W * H; i++) cr_assert_leq(abs((int)im.data[i] - g[i]), 3);
    cr_assert_eq(fer_image_decode(jpg, n, "g.jpg", 3, &im, &err), NN_OK, "%s", err.msg);
    cr_assert(im.channels == 3 && im.data[0] == im.data[1] && im.data[1] == im.data[2]);

    free(jpg);
    free(px);
    fer_image_free(&im);
    fer_image_free(&ref);
    fer_image_free(&grey_ref);
}

Test(vision_jpeg, file_read_and_truncation)
{
    enum { W = 64, H = 48 };
    const char *dir = tmp_dir();
    uint8_t *px = smooth_rgb(W, H);
    size_t n;
    uint8_t *jpg = jpeg_encode(px, W, H, 3, 90, NULL, 0, &n);
    fer_image im = {0};
    nn_error err;
    /* .png extension on purpose: the format comes from the bytes */
    write_bytes(tmp_path(dir, "photo.png"), jpg, n);
    cr_assert_eq(fer_image_read(tmp_path(dir, "photo.png"), 0, &im, &err), NN_OK, "%s", err.msg);
    cr_assert(im.width == W && im.height == H);

    write_bytes(tmp_path(dir, "half.jpg"), jpg, n / 2);
    cr_assert_eq(fer_image_read(tmp_path(dir, "half.jpg"), 0, &im, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "half.jpg: JPEG: ") && strstr(err.msg, "end"), "%s", err.msg);

    /* Every cut that loses image data fails; cutting only the 2-byte EOI
     * marker leaves a whole picture, which is accepted. */
    for (size_t cut = 3; cut + 2 < n; cut++) {
        cr_assert_neq(fer_image_decode(jpg, cut, "cut.jpg", 0, &im, &err), NN_OK,
                      "first %zu of %zu bytes decoded", cut, n);
        cr_assert(strstr(err.msg, "cut.jpg"), "%s", err.msg);
    }
    cr_assert_eq(fer_image_decode(jpg, n - 2, "noeoi.jpg", 0, &im, &err), NN_OK, "%s", err.msg);
    free(jpg);
    free(px);
    fer_image_free(&im);
    rm_tree(dir);
}

Test(vision_jpeg, corrupt_bytes_never_crash)
{
    enum { W = 32, H = 32 };
    uint8_t *px = smooth_rgb(W, H);
    size_t n;
    uint8_t *jpg = jpeg_encode(px, W, H, 3, 90, NULL, 0, &n);
    fer_image im = {0};
    nn_error err;
    int failed = 0;
    uint8_t *bad = malloc(n);
    for (size_t i = 2; i < n; i++) {
        memcpy(bad, jpg, n);
        bad[i] ^= 0xff;
        nn_status st = fer_image_decode(bad, n, "bad.jpg", 0, &im, &err);
        if (st) {
            failed++;
            cr_assert(st == NN_ERR_FORMAT || st == NN_ERR_UNSUPPORTED, "status %d", st);
            cr_assert(strstr(err.msg, "bad.jpg"), "%s", err.msg);
        }
    }
    /* Not every flip is detectable (DCT data has no checksum), but damage
     * to markers and tables must be: at least the header bytes fail. */
    cr_assert_gt(failed, 20, "only %d of %zu corruptions reported", failed, n - 2);
    /* a broken SOF (zero height) in particular */
    memcpy(bad, jpg, n);
    for (size_t i = 2; i + 8 < n; i++)
        if (bad[i] == 0xff && bad[i + 1] == 0xc0) {
            bad[i + 5] = bad[i + 6] = 0;
            break;
        }
    cr_assert_eq(fer_image_decode(bad, n, "sof.jpg", 0, &im, &err), NN_ERR_FORMAT);
    free(bad);
    free(jpg);
    free(px);
    fer_image_free(&im);
}

Test(vision_jpeg, cmyk_is_unsupported_not_a_crash)
{
    uint8_t px[8 * 8 * 4];
    memset(px, 100, sizeof px);
    size_t n;
    uint8_t *jpg = jpeg_encode(px, 8, 8, 4, 90, NULL, 0, &n);
    fer_image im = {0};
    nn_error err;
    cr_assert_eq(fer_image_decode(jpg, n, "cmyk.jpg", 0, &im, &err), NN_ERR_UNSUPPORTED);
    cr_assert(strstr(err.msg, "cmyk.jpg"), "%s", err.msg);
    free(jpg);
    fer_image_free(&im);
}

/* "Exif\0\0" + a TIFF header with one IFD entry: orientation = o. */
static size_t exif_blob(uint8_t *b, int o, int big_endian)
{
    static const uint8_t le[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
                                 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t be[] = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,
                                 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(b, big_endian ? be : le, sizeof le);
    if (big_endian) b[6 + 8 + 2 + 8 + 1] = (uint8_t)o;
    else b[6 + 8 + 2 + 8] = (uint8_t)o;
    return sizeof le;
}

Test(vision_exif, orientation_tag_parsing)
{
    uint8_t b[64];
    for (int o = 1; o <= 8; o++) {
        size_t n = exif_blob(b, o, 0);
        cr_assert_eq(fer_exif_orientation(b, n), o);
        n = exif_blob(b, o, 1);
        cr_assert_eq(fer_exif_orientation(b, n), o);
    }
    size_t n = exif_blob(b, 9, 0);
    cr_assert_eq(fer_exif_orientation(b, n), 1, "out-of-range value means upright");
    for (size_t cut = 0; cut < n; cut++) cr_assert_eq(fer_exif_orientation(b, cut), 1);
    b[6] = 'X';
    cr_assert_eq(fer_exif_orientation(b, n), 1);
    cr_assert_eq(fer_exif_orientation(NULL, 0), 1);
}

Test(vision_exif, orient_all_eight)
{
    /* 3x2 source, pixel values 1..6 row-major:  1 2 3
     *                                           4 5 6 */
    static const uint8_t want[9][6] = {
        {0}, {1, 2, 3, 4, 5, 6},
        {3, 2, 1, 6, 5, 4}, /* 2 mirror */
        {6, 5, 4, 3, 2, 1}, /* 3 rotate 180 */
        {4, 5, 6, 1, 2, 3}, /* 4 flip */
        {1, 4, 2, 5, 3, 6}, /* 5 transpose: 2x3 */
        {4, 1, 5, 2, 6, 3}, /* 6 rotate 90 clockwise */
        {6, 3, 5, 2, 4, 1}, /* 7 transverse */
        {3, 6, 2, 5, 1, 4}, /* 8 rotate 90 counter-clockwise */
    };
    nn_error err;
    for (int o = 1; o <= 8; o++) {
        fer_image im = {0};
        cr_assert_eq(fer_image_reserve(&im, 3, 2, 1, &err), NN_OK);
        for (int i = 0; i < 6; i++) im.data[i] = (uint8_t)(i + 1);
        cr_assert_eq(fer_image_orient(&im, o, &err), NN_OK);
        cr_assert_eq(im.width, o >= 5 ? 2 : 3);
        cr_assert_arr_eq(im.data, want[o], 6, "orientation %d", o);
        fer_image_free(&im);
    }
}

Test(vision_exif, jpeg_reader_applies_orientation)
{
    /* 32x16: left half dark, right half bright. Tagged "rotate 90 CW" (6),
     * it must come out 16x32 with the dark half on top. */
    enum { W = 32, H = 16 };
    uint8_t px[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) memset(px + 3 * (y * W + x), x < W / 2 ? 20 : 230, 3);
    uint8_t blob[64];
    size_t bn = exif_blob(blob, 6, 1);
    size_t n;
    uint8_t *jpg = jpeg_encode(px, W, H, 3, 95, blob, bn, &n);
    fer_image im = {0};
    nn_error err;
    cr_assert_eq(fer_image_decode(jpg, n, "exif.jpg", 1, &im, &err), NN_OK, "%s", err.msg);
    cr_assert(im.width == H && im.height == W, "got %dx%d", im.width, im.height);
    cr_assert_lt(fer_image_row(&im, 4)[8], 60);
    cr_assert_gt(fer_image_row(&im, 28)[8], 190);
    free(jpg);
    fer_image_free(&im);
}
