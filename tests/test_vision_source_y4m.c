/* YUV4MPEG2 reading (streams built here, from memory, files and pipes) and
 * writing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/test_vision_image_helpers.h"
#include "vision/y4m.h"

/* A stream under construction in memory. */
typedef struct {
    char *buf;
    size_t len;
    FILE *fp;
} stream;

static void s_begin(stream *s, const char *header)
{
    s->fp = open_memstream(&s->buf, &s->len);
    cr_assert_not_null(s->fp);
    fputs(header, s->fp);
}

/* Appends a FRAME line and planes of given sizes filled with y, u, v (and
 * a = alpha) values; each plane sample is value + index % mod (mod 1 = flat). */
static void s_frame(stream *s, const char *line, size_t ny, int y, size_t nc, int u, int v)
{
    fputs(line, s->fp);
    for (size_t i = 0; i < ny; i++) fputc(y, s->fp);
    for (size_t i = 0; i < nc; i++) fputc(u, s->fp);
    for (size_t i = 0; i < nc; i++) fputc(v, s->fp);
}

/* Finishes the stream and opens it for reading as a FILE. */
static FILE *s_open(stream *s)
{
    fclose(s->fp);
    FILE *in = fmemopen(s->buf, s->len, "rb");
    cr_assert_not_null(in);
    return in;
}

static fer_y4m_reader *open_ok(FILE *in, const char *name)
{
    fer_y4m_reader *r = NULL;
    nn_error err;
    cr_assert_eq(fer_y4m_open_file(&r, in, name, &err), NN_OK, "%s", err.msg);
    return r;
}

static nn_status open_status(const char *text, nn_error *err)
{
    FILE *in = fmemopen((void *)text, strlen(text), "rb");
    fer_y4m_reader *r = NULL;
    nn_status st = fer_y4m_open_file(&r, in, "hdr.y4m", err);
    fer_y4m_close(r);
    fclose(in);
    return st;
}

Test(vision_y4m, c420jpeg_full_range_odd_size_several_frames_with_params)
{
    stream s;
    s_begin(&s, "YUV4MPEG2 W5 H3 F30000:1001 It A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=FULL\n");
    /* chroma 3x2 for 5x3 */
    s_frame(&s, "FRAME\n", 15, 76, 6, 85, 255);       /* red */
    s_frame(&s, "FRAME Ib XFOO=bar\n", 15, 150, 6, 44, 21); /* green */
    s_frame(&s, "FRAME\n", 15, 200, 6, 128, 128);     /* grey */
    FILE *in = s_open(&s);
    fer_y4m_reader *r = open_ok(in, "mem.y4m");
    const fer_y4m_info *info = fer_y4m_get_info(r);
    cr_assert(info->width == 5 && info->height == 3 && info->planes == 3);
    cr_assert(info->fps_num == 30000 && info->fps_den == 1001);
    cr_assert_eq(info->range, FER_RANGE_FULL);
    cr_assert_eq(info->frame_bytes, 15 + 2 * 6);
    cr_assert_str_eq(info->chroma, "420jpeg");

    fer_image g = {0}, c = {0};
    nn_error err;
    int eof = -1;
    cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(eof, 0);
    cr_assert(g.width == 5 && g.height == 3 && g.channels == 1 && c.channels == 3);
    cr_assert(g.data[0] == 76 && fer_image_row(&g, 2)[4] == 76, "full range: grey is Y");
    const uint8_t *p = fer_image_row(&c, 2) + 3 * 4;
    cr_assert(p[0] >= 253 && p[1] <= 2 && p[2] <= 2, "red: %d %d %d", p[0], p[1], p[2]);
    cr_assert_str_eq(fer_y4m_frame_params(r), "");

    cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK, "%s", err.msg);
    cr_assert_str_eq(fer_y4m_frame_params(r), "Ib XFOO=bar");
    p = c.data;
    cr_assert(p[0] <= 2 && p[1] >= 253 && p[2] <= 2, "green: %d %d %d", p[0], p[1], p[2]);

    cr_assert_eq(fer_y4m_read(r, &g, NULL, &eof, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(g.data[7], 200);
    cr_assert_eq(fer_y4m_frames_read(r), 3);
    cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK);
    cr_assert_eq(eof, 1, "clean end of stream");
    fer_y4m_close(r);
    fclose(in);
    free(s.buf);
    fer_image_free(&g);
    fer_image_free(&c);
}

Test(vision_y4m, limited_range_is_the_default_and_is_expanded)
{
    stream s;
    s_begin(&s, "YUV4MPEG2 W4 H2 F25:1\n"); /* no C: 420jpeg; no XCOLORRANGE: limited */
    fputs("FRAME\n", s.fp);
    const uint8_t y[8] = {16, 235, 126, 0, 255, 17, 100, 180};
    fwrite(y, 1, 8, s.fp);
    for (int i = 0; i < 4; i++) fputc(128, s.fp);
    FILE *in = s_open(&s);
    fer_y4m_reader *r = open_ok(in, "lim.y4m");
    cr_assert_eq(fer_y4m_get_info(r)->range, FER_RANGE_LIMITED);
    fer_image g = {0}, c = {0};
    nn_error err;
    int eof;
    cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK, "%s", err.msg);
    /* (Y - 16) * 255 / 219, rounded, clamped */
    const uint8_t want[8] = {0, 255, 128, 0, 255, 1, 98, 191};
    cr_assert_arr_eq(g.data, want, 8);
    for (int i = 0; i < 8; i++)
        cr_assert(abs(c.data[3 * i] - want[i]) <= 1 && c.data[3 * i] == c.data[3 * i + 2],
                  "neutral chroma gives grey RGB");
    fer_y4m_close(r);
    fclose(in);
    free(s.buf);
    fer_image_free(&g);
    fer_image_free(&c);
}

Test(vision_y4m, c422_c444_c411_mono_444alpha_layouts)
{
    struct { const char *c; size_t nc; int planes; } cases[] = {
        {"422", 2 * 2, 3}, {"444", 4 * 2, 3}, {"411", 1 * 2, 3}, {"mono", 0, 1},
        {"420paldv", 2, 3}, {"420mpeg2", 2, 3}, {"420", 2, 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        stream s;
        char hdr[128];
        snprintf(hdr, sizeof hdr, "YUV4MPEG2 W4 H2 F25:1 C%s XCOLORRANGE=FULL\n", cases[k].c);
        s_begin(&s, hdr);
        s_frame(&s, "FRAME\n", 8, 10, cases[k].nc, 128, 128);
        s_frame(&s, "FRAME\n", 8, 20, cases[k].nc, 128, 128);
        FILE *in = s_open(&s);
        fer_y4m_reader *r = open_ok(in, cases[k].c);
        cr_assert_eq(fer_y4m_get_info(r)->planes, cases[k].planes, "%s", cases[k].c);
        cr_assert_eq(fer_y4m_get_info(r)->frame_bytes, 8 + 2 * cases[k].nc, "%s", cases[k].c);
        fer_image g = {0}, c = {0};
        nn_error err;
        int eof;
        cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK, "%s: %s", cases[k].c, err.msg);
        cr_assert(g.data[5] == 10 && c.data[3 * 5 + 1] == 10, "%s", cases[k].c);
        cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK, "%s: %s", cases[k].c, err.msg);
        cr_assert(!eof && g.data[0] == 20, "%s: second frame found at the right offset",
                  cases[k].c);
        cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK);
        cr_assert_eq(eof, 1);
        fer_y4m_close(r);
        fclose(in);
        free(s.buf);
        fer_image_free(&g);
        fer_image_free(&c);
    }

    /* 444alpha: Y, Cb, Cr and an alpha plane per frame */
    stream s;
    s_begin(&s, "YUV4MPEG2 W2 H2 F25:1 C444alpha XCOLORRANGE=FULL\n");
    for (int f = 0; f < 2; f++) {
        fputs("FRAME\n", s.fp);
        for (int i = 0; i < 16; i++) fputc(i < 4 ? 50 + f : i < 12 ? 128 : 0, s.fp);
    }
    FILE *in = s_open(&s);
    fer_y4m_reader *r = open_ok(in, "alpha");
    cr_assert_eq(fer_y4m_get_info(r)->frame_bytes, 16);
    fer_image g = {0};
    nn_error err;
    int eof;
    cr_assert_eq(fer_y4m_read(r, &g, NULL, &eof, &err), NN_OK);
    cr_assert_eq(fer_y4m_read(r, &g, NULL, &eof, &err), NN_OK);
    cr_assert(!eof && g.data[3] == 51);
    fer_y4m_close(r);
    fclose(in);
    free(s.buf);
    fer_image_free(&g);
}

Test(vision_y4m, chroma_is_taken_from_the_right_sample)
{
    /* 4:2:2, 4x1: pixels 0-1 share (Cb,Cr) = red's, pixels 2-3 blue's */
    stream s;
    s_begin(&s, "YUV4MPEG2 W4 H1 F25:1 C422 XCOLORRANGE=FULL\n");
    fputs("FRAME\n", s.fp);
    const uint8_t planes[8] = {76, 76, 29, 29, /* Cb */ 85, 255, /* Cr */ 255, 107};
    fwrite(planes, 1, 8, s.fp);
    FILE *in = s_open(&s);
    fer_y4m_reader *r = open_ok(in, "422");
    fer_image g = {0}, c = {0};
    nn_error err;
    int eof;
    cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK, "%s", err.msg);
    const uint8_t *p = c.data;
    cr_assert(p[3] >= 253 && p[4] <= 2 && p[5] <= 2, "pixel 1 red: %d %d %d", p[3], p[4], p[5]);
    cr_assert(p[6] <= 2 && p[7] <= 2 && p[8] >= 253, "pixel 2 blue: %d %d %d", p[6], p[7], p[8]);
    fer_y4m_close(r);
    fclose(in);
    free(s.buf);
    fer_image_free(&g);
    fer_image_free(&c);
}

Test(vision_y4m, truncated_streams_are_clear_errors)
{
    nn_error err;
    fer_image g = {0};
    int eof;
    /* last frame cut short */
    stream s;
    s_begin(&s, "YUV4MPEG2 W4 H2 F25:1 Cmono\n");
    s_frame(&s, "FRAME\n", 8, 1, 0, 0, 0);
    s_frame(&s, "FRAME\n", 8, 2, 0, 0, 0);
    s_frame(&s, "FRAME\n", 5, 3, 0, 0, 0);
    FILE *in = s_open(&s);
    fer_y4m_reader *r = open_ok(in, "cut.y4m");
    cr_assert_eq(fer_y4m_read(r, &g, NULL, &eof, &err), NN_OK);
    cr_assert_eq(fer_y4m_read(r, &g, NULL, &eof, &err), NN_OK);
    cr_assert_eq(fer_y4m_read(r, &g, NULL, &eof, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "cut.y4m") && strstr(err.msg, "frame 2 truncated") &&
              strstr(err.msg, "5 of its 8 bytes"), "%s", err.msg);
    fer_y4m_close(r);
    fclose(in);
    free(s.buf);

    /* FRAME header cut, and garbage where FRAME belongs */
    const char *cases[][2] = {
        {"YUV4MPEG2 W2 H1 Cmono\nFRAME\nabFRA", "inside the FRAME header"},
        {"YUV4MPEG2 W2 H1 Cmono\nFRAME\nabFRAMEX\nab", "expected \"FRAME\""},
        {"YUV4MPEG2 W2 H1 Cmono\nFRAME\nabframe\nab", "expected \"FRAME\""},
    };
    for (size_t k = 0; k < 3; k++) {
        in = fmemopen((void *)cases[k][0], strlen(cases[k][0]), "rb");
        r = open_ok(in, "bad.y4m");
        cr_assert_eq(fer_y4m_read(r, &g, NULL, &eof, &err), NN_OK);
        cr_assert_eq(fer_y4m_read(r, &g, NULL, &eof, &err), NN_ERR_FORMAT, "case %zu", k);
        cr_assert(strstr(err.msg, cases[k][1]) && strstr(err.msg, "frame 1"), "%s", err.msg);
        fer_y4m_close(r);
        fclose(in);
    }
    fer_image_free(&g);
}

Test(vision_y4m, bad_headers)
{
    nn_error err;
    struct { const char *text; nn_status st; const char *msg; } cases[] = {
        {"", NN_ERR_FORMAT, "empty stream"},
        {"P5\n3 2\n255\n", NN_ERR_FORMAT, "not a YUV4MPEG2"},
        {"YUV4MPEG2W4 H2\n", NN_ERR_FORMAT, "not a YUV4MPEG2"},
        {"YUV4MPEG2 W4 H2 F25:1", NN_ERR_FORMAT, "cut short"},
        {"YUV4MPEG2 H2 F25:1\n", NN_ERR_FORMAT, "W (width)"},
        {"YUV4MPEG2 W4 F25:1\n", NN_ERR_FORMAT, "H (height)"},
        {"YUV4MPEG2 W0 H2\n", NN_ERR_FORMAT, "bad width"},
        {"YUV4MPEG2 W-4 H2\n", NN_ERR_FORMAT, "bad width"},
        {"YUV4MPEG2 W4x H2\n", NN_ERR_FORMAT, "bad width"},
        {"YUV4MPEG2 W4 H99999999999\n", NN_ERR_FORMAT, "bad height"},
        {"YUV4MPEG2 W4 H2 F25\n", NN_ERR_FORMAT, "bad frame rate"},
        {"YUV4MPEG2 W4 H2 F25:0\n", NN_ERR_FORMAT, "bad frame rate"},
        {"YUV4MPEG2 W4 H2 C420p10\n", NN_ERR_UNSUPPORTED, "more than 8 bits"},
        {"YUV4MPEG2 W4 H2 Cmono16\n", NN_ERR_UNSUPPORTED, "more than 8 bits"},
        {"YUV4MPEG2 W4 H2 Cfancy\n", NN_ERR_UNSUPPORTED, "unknown y4m colour space"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_status st = cases[k].text[0] ? open_status(cases[k].text, &err) : NN_OK;
        if (!cases[k].text[0]) { /* fmemopen refuses size 0; use an empty file */
            FILE *in = tmpfile();
            fer_y4m_reader *r = NULL;
            st = fer_y4m_open_file(&r, in, "hdr.y4m", &err);
            fclose(in);
        }
        cr_assert_eq(st, cases[k].st, "case %zu (%s): status %d", k, cases[k].text, st);
        cr_assert(strstr(err.msg, "hdr.y4m") && strstr(err.msg, cases[k].msg),
                  "case %zu: %s", k, err.msg);
    }
    /* ignored tags do not matter; F0:0 means unknown rate */
    cr_assert_eq(open_status("YUV4MPEG2 W4 H2 F0:0 Im A0:0 XWHATEVER Zzz\n", &err), NN_OK,
                 "%s", err.msg);

    fer_y4m_reader *r;
    cr_assert_eq(fer_y4m_open(&r, "/nonexistent/clip.y4m", &err), NN_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/clip.y4m"), "%s", err.msg);
}

Test(vision_y4m, reads_from_a_pipe)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    const char hdr[] = "YUV4MPEG2 W3 H2 F10:1 Cmono XCOLORRANGE=FULL\n";
    cr_assert_eq(write(fds[1], hdr, strlen(hdr)), (ssize_t)strlen(hdr));
    for (int f = 0; f < 4; f++) {
        char frame[6 + 6] = "FRAME\n";
        memset(frame + 6, 100 + f, 6);
        cr_assert_eq(write(fds[1], frame, sizeof frame), (ssize_t)sizeof frame);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "rb");
    fer_y4m_reader *r = open_ok(in, "pipe");
    fer_image g = {0};
    nn_error err;
    int eof, frames = 0;
    while (fer_y4m_read(r, &g, NULL, &eof, &err) == NN_OK && !eof) {
        cr_assert_eq(g.data[5], 100 + frames);
        frames++;
    }
    cr_assert_eq(frames, 4);
    fer_y4m_close(r);
    fclose(in);
    fer_image_free(&g);
}

/* ---- writer -------------------------------------------------------------- */

static void make_rgb(fer_image *im, int w, int h)
{
    nn_error err;
    cr_assert_eq(fer_image_reserve(im, w, h, 3, &err), NN_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = fer_image_row(im, y) + 3 * x;
            p[0] = (uint8_t)(30 + 6 * x), p[1] = (uint8_t)(220 - 5 * y), p[2] = (uint8_t)(90 + x + y);
        }
}

Test(vision_y4m, writer_round_trip)
{
    const char *dir = tmp_dir();
    nn_error err;
    fer_y4m_layout layouts[3] = {FER_Y4M_W420, FER_Y4M_W444, FER_Y4M_WMONO};
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "out%d.y4m", k);
        const char *path = tmp_path(dir, name);
        fer_image rgb = {0}, grey = {0}, g = {0}, c = {0};
        make_rgb(&rgb, 9, 7); /* odd sizes exercise the chroma edge blocks */
        cr_assert_eq(fer_image_to_grey(&grey, &rgb, &err), NN_OK);
        fer_y4m_writer *w;
        cr_assert_eq(fer_y4m_writer_open(&w, path, 9, 7, 30, 1, layouts[k], &err), NN_OK, "%s", err.msg);
        cr_assert_eq(access(path, F_OK), -1, "nothing at the path before commit");
        cr_assert_eq(fer_y4m_write(w, &rgb, NULL, &err), NN_OK, "%s", err.msg);
        cr_assert_eq(fer_y4m_write(w, &grey, "Ip", &err), NN_OK, "%s", err.msg);
        fer_image small = {0};
        cr_assert_eq(fer_image_reserve(&small, 4, 4, 1, &err), NN_OK);
        cr_assert_eq(fer_y4m_write(w, &small, NULL, &err), NN_ERR_SHAPE);
        cr_assert_eq(fer_y4m_writer_close(w, &err), NN_OK, "%s", err.msg);

        fer_y4m_reader *r;
        cr_assert_eq(fer_y4m_open(&r, path, &err), NN_OK, "%s", err.msg);
        cr_assert_eq(fer_y4m_get_info(r)->range, FER_RANGE_FULL);
        cr_assert_eq(fer_y4m_get_info(r)->fps_num, 30);
        int eof;
        cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK, "%s", err.msg);
        cr_assert_arr_eq(g.data, grey.data, 63, "grey of an RGB frame survives exactly");
        int tol = layouts[k] == FER_Y4M_W444 ? 2 : layouts[k] == FER_Y4M_W420 ? 12 : 255;
        for (int i = 0; i < 63 * 3; i++)
            cr_assert_leq(abs((int)c.data[i] - rgb.data[i]), tol, "layout %d byte %d", k, i);
        cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK, "%s", err.msg);
        cr_assert_str_eq(fer_y4m_frame_params(r), "Ip");
        cr_assert_arr_eq(g.data, grey.data, 63, "a grey frame survives exactly");
        cr_assert(c.data[0] == grey.data[0] && c.data[1] == grey.data[0], "and stays grey");
        cr_assert_eq(fer_y4m_read(r, &g, &c, &eof, &err), NN_OK);
        cr_assert_eq(eof, 1);
        fer_y4m_close(r);
        fer_image_free(&rgb);
        fer_image_free(&grey);
        fer_image_free(&small);
        fer_image_free(&g);
        fer_image_free(&c);
    }
    fer_y4m_writer *w;
    cr_assert_eq(fer_y4m_writer_open(&w, tmp_path(dir, "x.y4m"), 0, 7, 30, 1, FER_Y4M_W420, &err),
                 NN_ERR_ARG);
    cr_assert_eq(fer_y4m_writer_open(&w, tmp_path(dir, "x.y4m"), 8, 8, 0, 1, FER_Y4M_W420, &err),
                 NN_ERR_ARG);
    cr_assert_eq(fer_y4m_writer_open(&w, "/nonexistent/x.y4m", 8, 8, 25, 1, FER_Y4M_W420, &err),
                 NN_ERR_IO);
    rm_tree(dir);
}
