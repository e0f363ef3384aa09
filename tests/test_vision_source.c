/* The frame-source abstraction over stills, y4m files, stdin and cameras. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/test_vision_image_helpers.h"
#include "vision/image_io.h"
#include "vision/source.h"
#include "vision/y4m.h"

static void make_rgb(fer_image *im, int w, int h)
{
    nn_error err;
    cr_assert_eq(fer_image_reserve(im, w, h, 3, &err), NN_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = fer_image_row(im, y) + 3 * x;
            p[0] = (uint8_t)(7 * x), p[1] = (uint8_t)(11 * y), p[2] = (uint8_t)(x ^ y);
        }
}

/* Writes `frames` grey frames of w x h (frame k filled with 10 * k) at fps/1. */
static void write_y4m(const char *path, int w, int h, int frames, int fps)
{
    fer_y4m_writer *wr;
    nn_error err;
    fer_image g = {0};
    cr_assert_eq(fer_y4m_writer_open(&wr, path, w, h, fps, 1, FER_Y4M_W420, &err), NN_OK);
    cr_assert_eq(fer_image_reserve(&g, w, h, 1, &err), NN_OK);
    for (int k = 0; k < frames; k++) {
        memset(g.data, 10 * k, (size_t)w * h);
        cr_assert_eq(fer_y4m_write(wr, &g, NULL, &err), NN_OK);
    }
    cr_assert_eq(fer_y4m_writer_close(wr, &err), NN_OK, "%s", err.msg);
    fer_image_free(&g);
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

Test(vision_source, png_still_once_then_end)
{
    const char *dir = tmp_dir();
    fer_image rgb = {0}, grey = {0};
    nn_error err;
    make_rgb(&rgb, 20, 10);
    cr_assert_eq(fer_image_to_grey(&grey, &rgb, &err), NN_OK);
    const char *path = tmp_path(dir, "face.png");
    cr_assert_eq(fer_image_write_png(path, &rgb, &err), NN_OK);

    fer_source_opts o = {.want_rgb = 1};
    fer_source *src = fer_source_open(path, &o, &err);
    cr_assert_not_null(src, "%s", err.msg);
    const fer_source_info *info = fer_source_get_info(src);
    cr_assert(info->kind == FER_SOURCE_STILL && info->width == 20 && info->height == 10);
    cr_assert_str_eq(info->name, path);
    fer_frame f = {0};
    cr_assert_eq(fer_source_read(src, &f, &err), NN_OK, "%s", err.msg);
    cr_assert(!f.end && f.index == 0 && f.t == 0);
    cr_assert_arr_eq(f.grey.data, grey.data, 200);
    cr_assert_arr_eq(f.rgb.data, rgb.data, 600);
    cr_assert_eq(fer_source_read(src, &f, &err), NN_OK);
    cr_assert_eq(f.end, 1);
    cr_assert_eq(fer_source_read(src, &f, &err), NN_OK);
    cr_assert_eq(f.end, 1, "end stays the end");
    fer_source_close(src);
    fer_frame_free(&f);
    fer_image_free(&rgb);
    fer_image_free(&grey);
    rm_tree(dir);
}

Test(vision_source, jpeg_still_repeats_and_grey_png_gives_rgb)
{
    const char *dir = tmp_dir();
    nn_error err;
    uint8_t px[16 * 8 * 3];
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (uint8_t)(100 + i % 50);
    size_t n;
    uint8_t *jpg = jpeg_encode(px, 16, 8, 3, 90, NULL, 0, &n);
    write_bytes(tmp_path(dir, "snap.dat"), jpg, n); /* no telling extension */
    free(jpg);
    fer_source_opts o = {.still_repeat = 1, .still_fps = 4};
    fer_source *src = fer_source_open(tmp_path(dir, "snap.dat"), &o, &err);
    cr_assert_not_null(src, "%s", err.msg);
    fer_frame f = {0};
    uint8_t first[16 * 8];
    for (int k = 0; k < 5; k++) {
        cr_assert_eq(fer_source_read(src, &f, &err), NN_OK, "%s", err.msg);
        cr_assert(!f.end && f.index == k);
        cr_assert_float_eq(f.t, k / 4.0, 1e-9);
        cr_assert_null(f.rgb.data, "no RGB unless asked");
        if (k == 0) memcpy(first, f.grey.data, sizeof first);
        else cr_assert_arr_eq(f.grey.data, first, sizeof first);
    }
    fer_source_close(src);

    /* a grey PNG, RGB wanted: grey replicated */
    fer_image g = {0};
    cr_assert_eq(fer_image_reserve(&g, 3, 2, 1, &err), NN_OK);
    for (int i = 0; i < 6; i++) g.data[i] = (uint8_t)(40 * i);
    cr_assert_eq(fer_image_write_png(tmp_path(dir, "g.png"), &g, &err), NN_OK);
    o = (fer_source_opts){.want_rgb = 1};
    src = fer_source_open(tmp_path(dir, "g.png"), &o, &err);
    cr_assert_not_null(src, "%s", err.msg);
    cr_assert_eq(fer_source_read(src, &f, &err), NN_OK);
    cr_assert(f.rgb.channels == 3 && f.rgb.data[3 * 5] == 200 && f.rgb.data[3 * 5 + 2] == 200);
    fer_source_close(src);
    fer_frame_free(&f);
    fer_image_free(&g);
    rm_tree(dir);
}

Test(vision_source, y4m_file_frames_times_and_pacing)
{
    const char *dir = tmp_dir();
    const char *path = tmp_path(dir, "clip.y4m");
    write_y4m(path, 8, 6, 5, 50);
    nn_error err;
    for (int realtime = 0; realtime <= 1; realtime++) {
        fer_source_opts o = {.want_rgb = 1, .realtime = realtime};
        fer_source *src = fer_source_open(path, &o, &err);
        cr_assert_not_null(src, "%s", err.msg);
        const fer_source_info *info = fer_source_get_info(src);
        cr_assert(info->kind == FER_SOURCE_Y4M && info->width == 8 && info->fps == 50);
        fer_frame f = {0};
        int k = 0;
        double t0 = seconds();
        nn_status st;
        while (!(st = fer_source_read(src, &f, &err)) && !f.end) {
            cr_assert_eq(f.index, k);
            cr_assert_float_eq(f.t, k / 50.0, 1e-9);
            cr_assert(f.grey.data[47] == 10 * k && f.rgb.data[3 * 47 + 1] == 10 * k);
            k++;
        }
        double elapsed = seconds() - t0;
        cr_assert_eq(st, NN_OK, "%s", err.msg);
        cr_assert_eq(k, 5);
        if (realtime) cr_assert_geq(elapsed, 4 / 50.0 - 1e-3, "paced: %.3f s", elapsed);
        fer_source_close(src);
        fer_frame_free(&f);
    }
    rm_tree(dir);
}

Test(vision_source, y4m_on_stdin)
{
    const char *dir = tmp_dir();
    const char *path = tmp_path(dir, "clip.y4m");
    write_y4m(path, 4, 4, 3, 25);
    size_t n;
    uint8_t *bytes = test_read_file(path, &n);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], bytes, n), (ssize_t)n); /* fits in the pipe buffer */
    close(fds[1]);
    cr_assert_eq(dup2(fds[0], 0), 0); /* each Criterion test runs in its own process */
    close(fds[0]);
    nn_error err;
    fer_source *src = fer_source_open("-", NULL, &err);
    cr_assert_not_null(src, "%s", err.msg);
    cr_assert_str_eq(fer_source_get_info(src)->name, "stdin");
    fer_frame f = {0};
    int k = 0;
    while (fer_source_read(src, &f, &err) == NN_OK && !f.end) k++;
    cr_assert_eq(k, 3);
    fer_source_close(src);
    fer_frame_free(&f);
    free(bytes);
    rm_tree(dir);
}

Test(vision_source, errors)
{
    const char *dir = tmp_dir();
    nn_error err;
    cr_assert_null(fer_source_open(tmp_path(dir, "nope.png"), NULL, &err));
    cr_assert(strstr(err.msg, "nope.png: cannot open"), "%s", err.msg);

    write_bytes(tmp_path(dir, "notes.txt"), "hello", 5);
    cr_assert_null(fer_source_open(tmp_path(dir, "notes.txt"), NULL, &err));
    cr_assert(strstr(err.msg, "not an image or y4m video"), "%s", err.msg);

    cr_assert_null(fer_source_open("", NULL, &err));
    cr_assert_null(fer_source_open("camera:x", NULL, &err));
    cr_assert(strstr(err.msg, "bad camera spec"), "%s", err.msg);
    cr_assert_null(fer_source_open("camera:97", NULL, &err));
    cr_assert(strstr(err.msg, "/dev/video97: no such device"), "%s", err.msg);
    cr_assert_null(fer_source_open("/dev/video98", NULL, &err));
    cr_assert(strstr(err.msg, "/dev/video98"), "%s", err.msg);

    /* a damaged PNG fails at open, with the path */
    write_bytes(tmp_path(dir, "bad.png"), "\x89PNG\r\n\x1a\n\0\0", 10);
    cr_assert_null(fer_source_open(tmp_path(dir, "bad.png"), NULL, &err));
    cr_assert(strstr(err.msg, "bad.png: PNG: "), "%s", err.msg);

    /* a truncated video fails at that frame, and keeps failing */
    const char *path = tmp_path(dir, "cut.y4m");
    write_y4m(path, 4, 4, 2, 25);
    size_t n;
    uint8_t *bytes = test_read_file(path, &n);
    write_bytes(path, bytes, n - 3);
    free(bytes);
    fer_source *src = fer_source_open(path, NULL, &err);
    cr_assert_not_null(src, "%s", err.msg);
    fer_frame f = {0};
    cr_assert_eq(fer_source_read(src, &f, &err), NN_OK);
    cr_assert_eq(fer_source_read(src, &f, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "frame 1 truncated"), "%s", err.msg);
    nn_error_clear(&err);
    cr_assert_eq(fer_source_read(src, &f, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "frame 1 truncated"), "%s", err.msg);
    fer_source_close(src);
    fer_frame_free(&f);
    fer_source_close(NULL);
    rm_tree(dir);
}
