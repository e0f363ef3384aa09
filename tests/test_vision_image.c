/* Image struct, grey conversion, PNG reading and writing. */
#include <criterion/criterion.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test_vision_image_helpers.h"
#include "vision/image.h"
#include "vision/image_io.h"

/* ---- image basics ------------------------------------------------------ */

Test(vision_image, reserve_reuses_buffer_and_rejects_bad_sizes)
{
    fer_image im = {0};
    nn_error err;
    cr_assert_eq(fer_image_reserve(&im, 10, 4, 3, &err), NN_OK);
    cr_assert_eq(im.stride, 30);
    uint8_t *first = im.data;
    cr_assert_eq(fer_image_reserve(&im, 5, 5, 1, &err), NN_OK);
    cr_assert_eq(im.data, first, "a smaller image must reuse the buffer");
    cr_assert_eq(im.stride, 5);
    cr_assert_eq(fer_image_reserve(&im, 0, 5, 1, &err), NN_ERR_ARG);
    cr_assert_eq(fer_image_reserve(&im, 5, 5, 2, &err), NN_ERR_ARG);
    cr_assert_eq(fer_image_reserve(&im, FER_IMAGE_MAX_SIDE + 1, 1, 1, &err), NN_ERR_ARG);
    cr_assert_eq(im.width, 5, "a failed reserve leaves the image as it was");
    fer_image_free(&im);
    cr_assert_null(im.data);
    fer_image_free(&im); /* twice is fine */
}

Test(vision_image, grey_matches_opencv_cvtcolor)
{
    /* Expected values from cv2.cvtColor(px, cv2.COLOR_RGB2GRAY), OpenCV 4.6. */
    static const uint8_t rgb[9][3] = {{255, 0, 0}, {0, 255, 0},   {0, 0, 255},
                                      {255, 255, 255}, {0, 0, 0}, {10, 200, 30},
                                      {128, 128, 128}, {1, 2, 3}, {250, 17, 99}};
    static const uint8_t want[9] = {76, 150, 29, 255, 0, 124, 128, 2, 96};
    fer_image src = {0}, grey = {0}, back = {0};
    nn_error err;
    cr_assert_eq(fer_image_reserve(&src, 9, 1, 3, &err), NN_OK);
    memcpy(src.data, rgb, sizeof rgb);
    cr_assert_eq(fer_image_to_grey(&grey, &src, &err), NN_OK);
    cr_assert_eq(grey.channels, 1);
    for (int i = 0; i < 9; i++)
        cr_expect_eq(grey.data[i], want[i], "pixel %d: got %d want %d", i, grey.data[i], want[i]);
    cr_assert_eq(fer_image_to_rgb(&back, &grey, &err), NN_OK);
    for (int i = 0; i < 9; i++)
        cr_expect(back.data[3 * i] == want[i] && back.data[3 * i + 2] == want[i]);
    cr_assert_eq(fer_image_to_grey(&src, &src, &err), NN_ERR_ARG);
    fer_image_free(&src);
    fer_image_free(&grey);
    fer_image_free(&back);
}

Test(vision_image, box_clamp)
{
    fer_box b = fer_box_clamp((fer_box){-5, 3, 20, 100}, 10, 50);
    cr_assert(b.x == 0 && b.y == 3 && b.w == 10 && b.h == 47);
    b = fer_box_clamp((fer_box){20, 3, 5, 5}, 10, 50);
    cr_assert(b.w == 0 && b.h == 0);
    b = fer_box_clamp((fer_box){2, 2, -3, 5}, 10, 50);
    cr_assert(b.w == 0);
    b = fer_box_clamp((fer_box){2147483000, 0, 2147483000, 5}, 10, 50);
    cr_assert(b.w == 0, "no overflow on huge boxes");
}

/* ---- PNG ----------------------------------------------------------------- */

static void fill_pattern(fer_image *im)
{
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width * im->channels; x++)
            fer_image_row(im, y)[x] = (uint8_t)(x * 7 + y * 13 + x * y);
}

static void round_trip(int channels)
{
    const char *dir = tmp_dir();
    const char *path = tmp_path(dir, "rt.png");
    fer_image a = {0}, b = {0};
    nn_error err;
    cr_assert_eq(fer_image_reserve(&a, 37, 23, channels, &err), NN_OK);
    fill_pattern(&a);
    cr_assert_eq(fer_image_write_png(path, &a, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_image_read(path, 0, &b, &err), NN_OK, "%s", err.msg);
    cr_assert(b.width == 37 && b.height == 23 && b.channels == channels);
    for (int y = 0; y < a.height; y++)
        cr_assert_arr_eq(fer_image_row(&a, y), fer_image_row(&b, y), (size_t)37 * channels);
    fer_image_free(&a);
    fer_image_free(&b);
    rm_tree(dir);
}

Test(vision_png, round_trip_grey) { round_trip(1); }
Test(vision_png, round_trip_rgb) { round_trip(3); }

/* Writes a PNG with libpng directly, in any colour type and depth. rows
 * hold packed samples as libpng expects them (16-bit big-endian). */
static void write_png_raw(const char *path, int w, int h, int color, int depth, int interlace,
                          uint8_t **rows, const png_color *pal, int npal)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png))) cr_assert_fail("libpng failed writing the fixture");
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color, interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
}

Test(vision_png, grey_alpha_rgba_palette_16bit_1bit_interlaced)
{
    const char *dir = tmp_dir();
    nn_error err;
    fer_image im = {0};
    enum { W = 6, H = 3 };
    uint8_t buf[H][W * 8];
    uint8_t *rows[H];
    for (int y = 0; y < H; y++) rows[y] = buf[y];

    /* grey + alpha: alpha dropped, grey kept */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) buf[y][2 * x] = (uint8_t)(40 * x + y), buf[y][2 * x + 1] = 7;
    write_png_raw(tmp_path(dir, "ga.png"), W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, rows, NULL, 0);
    cr_assert_eq(fer_image_read(tmp_path(dir, "ga.png"), 0, &im, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(im.channels, 1);
    cr_assert_eq(fer_image_row(&im, 2)[5], 202);

    /* RGBA: alpha dropped */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = &buf[y][4 * x];
            p[0] = 255, p[1] = (uint8_t)(x * 10), p[2] = (uint8_t)y, p[3] = 0;
        }
    write_png_raw(tmp_path(dir, "rgba.png"), W, H, PNG_COLOR_TYPE_RGBA, 8, 0, rows, NULL, 0);
    cr_assert_eq(fer_image_read(tmp_path(dir, "rgba.png"), 0, &im, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(im.channels, 3);
    const uint8_t *p = fer_image_row(&im, 2) + 3 * 4;
    cr_assert(p[0] == 255 && p[1] == 40 && p[2] == 2);
    /* asking for grey gives cvtColor's luma: (255, 0, 0) -> 76 */
    cr_assert_eq(fer_image_read(tmp_path(dir, "rgba.png"), 1, &im, &err), NN_OK);
    cr_assert(im.channels == 1 && im.stride == W && fer_image_row(&im, 0)[0] == 76);

    /* palette, 4-bit indices */
    png_color pal[3] = {{0, 0, 0}, {255, 0, 0}, {10, 200, 30}};
    for (int y = 0; y < H; y++) memset(buf[y], 0, sizeof buf[y]);
    buf[1][0] = 0x12; /* pixels (0,1)=1 and (1,1)=2 */
    write_png_raw(tmp_path(dir, "pal.png"), W, H, PNG_COLOR_TYPE_PALETTE, 4, 0, rows, pal, 3);
    cr_assert_eq(fer_image_read(tmp_path(dir, "pal.png"), 0, &im, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(im.channels, 3);
    p = fer_image_row(&im, 1);
    cr_assert(p[0] == 255 && p[1] == 0 && p[3] == 10 && p[4] == 200 && p[5] == 30);

    /* 16-bit grey: scaled with rounding, 0x8080 -> 128, 0xffff -> 255, 0x0101 -> 1 */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) buf[y][2 * x] = buf[y][2 * x + 1] = (uint8_t)(x == 0 ? 0x80 : x == 1 ? 0xff : 1);
    write_png_raw(tmp_path(dir, "g16.png"), W, H, PNG_COLOR_TYPE_GRAY, 16, 0, rows, NULL, 0);
    cr_assert_eq(fer_image_read(tmp_path(dir, "g16.png"), 0, &im, &err), NN_OK, "%s", err.msg);
    cr_assert(im.channels == 1);
    p = fer_image_row(&im, 0);
    cr_assert(p[0] == 128 && p[1] == 255 && p[2] == 1, "got %d %d %d", p[0], p[1], p[2]);

    /* 16-bit RGB read as RGB */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W * 6; x++) buf[y][x] = (uint8_t)(x % 6 < 2 ? 0xff : 0);
    write_png_raw(tmp_path(dir, "rgb16.png"), W, H, PNG_COLOR_TYPE_RGB, 16, 0, rows, NULL, 0);
    cr_assert_eq(fer_image_read(tmp_path(dir, "rgb16.png"), 0, &im, &err), NN_OK, "%s", err.msg);
    p = fer_image_row(&im, 1);
    cr_assert(im.channels == 3 && p[0] == 255 && p[1] == 0 && p[2] == 0);

    /* 1-bit grey, Adam7 interlaced, requested as RGB */
    for (int y = 0; y < H; y++) buf[y][0] = y == 1 ? 0xA0 : 0x00; /* (0,1) and (2,1) white */
    write_png_raw(tmp_path(dir, "g1i.png"), W, H, PNG_COLOR_TYPE_GRAY, 1,
                  PNG_INTERLACE_ADAM7, rows, NULL, 0);
    cr_assert_eq(fer_image_read(tmp_path(dir, "g1i.png"), 3, &im, &err), NN_OK, "%s", err.msg);
    cr_assert(im.channels == 3);
    p = fer_image_row(&im, 1);
    cr_assert(p[0] == 255 && p[3] == 0 && p[6] == 255 && p[8] == 255);
    cr_assert_eq(fer_image_row(&im, 0)[0], 0);

    fer_image_free(&im);
    rm_tree(dir);
}

Test(vision_png, errors_name_the_file_and_never_crash)
{
    const char *dir = tmp_dir();
    nn_error err;
    fer_image im = {0}, a = {0};

    cr_assert_eq(fer_image_read(tmp_path(dir, "missing.png"), 0, &im, &err), NN_ERR_IO);
    cr_assert(strstr(err.msg, "missing.png") && strstr(err.msg, "No such file"), "%s", err.msg);

    write_bytes(tmp_path(dir, "text.png"), "hello, not a picture", 20);
    cr_assert_eq(fer_image_read(tmp_path(dir, "text.png"), 0, &im, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "text.png") && strstr(err.msg, "not a PNG or JPEG"), "%s", err.msg);

    write_bytes(tmp_path(dir, "empty.png"), "", 0);
    cr_assert_eq(fer_image_read(tmp_path(dir, "empty.png"), 0, &im, &err), NN_ERR_FORMAT);

    /* A real PNG, then cut at every length and corrupted at every byte of
     * its IDAT: each must fail cleanly (or, for damage libpng cannot see,
     * decode) -- never crash. */
    cr_assert_eq(fer_image_reserve(&a, 16, 9, 3, &err), NN_OK);
    fill_pattern(&a);
    const char *good = tmp_path(dir, "good.png");
    cr_assert_eq(fer_image_write_png(good, &a, &err), NN_OK);
    size_t n;
    uint8_t *bytes = test_read_file(good, &n);
    for (size_t cut = 0; cut < n - 12; cut += 3) { /* the last 12 bytes are IEND */
        nn_status st = fer_image_decode(bytes, cut, "cut.png", 0, &im, &err);
        cr_assert_neq(st, NN_OK, "decoding the first %zu of %zu bytes succeeded", cut, n);
        cr_assert(strstr(err.msg, "cut.png"), "%s", err.msg);
    }
    const char *cut_path = tmp_path(dir, "truncated.png");
    write_bytes(cut_path, bytes, n / 2);
    cr_assert_eq(fer_image_read(cut_path, 0, &im, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "truncated.png") && strstr(err.msg, "truncated"), "%s", err.msg);

    int failures = 0;
    for (size_t i = 8; i < n; i++) {
        uint8_t *bad = malloc(n);
        memcpy(bad, bytes, n);
        bad[i] ^= 0x5a;
        if (fer_image_decode(bad, n, "corrupt.png", 0, &im, &err) != NN_OK) {
            failures++;
            cr_assert(strstr(err.msg, "corrupt.png: PNG: "), "%s", err.msg);
        }
        free(bad);
    }
    /* every chunk is CRC-checked, so every flipped byte past the signature is caught */
    cr_assert_eq(failures, (int)(n - 8), "%d of %zu corruptions detected", failures, n - 8);
    free(bytes);
    fer_image_free(&a);
    fer_image_free(&im);
    rm_tree(dir);
}

Test(vision_png, write_errors)
{
    fer_image a = {0};
    nn_error err;
    cr_assert_eq(fer_image_reserve(&a, 4, 4, 1, &err), NN_OK);
    memset(a.data, 9, 16);
    cr_assert_eq(fer_image_write_png("/nonexistent-dir/x.png", &a, &err), NN_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent-dir/x.png"), "%s", err.msg);
    fer_image empty = {0};
    cr_assert_eq(fer_image_write_png("/tmp/x.png", &empty, &err), NN_ERR_ARG);
    fer_image_free(&a);
}

Test(vision_png, sniffing_ignores_the_extension)
{
    const char *dir = tmp_dir();
    fer_image a = {0}, b = {0};
    nn_error err;
    cr_assert_eq(fer_image_reserve(&a, 3, 2, 1, &err), NN_OK);
    fill_pattern(&a);
    cr_assert_eq(fer_image_write_png(tmp_path(dir, "photo.jpg"), &a, &err), NN_OK);
    cr_assert_eq(fer_image_read(tmp_path(dir, "photo.jpg"), 0, &b, &err), NN_OK, "%s", err.msg);
    cr_assert_arr_eq(a.data, b.data, 6);
    fer_image_free(&a);
    fer_image_free(&b);
    rm_tree(dir);
}
