/* Confusion-matrix heatmap through gnuplot (eval/heatmap.h). Tests that
 * draw skip when gnuplot is not installed; the error paths run anyway. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/heatmap.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fer_heatmap_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

/* Removes tmpdir; returns how many entries it held besides keep1/keep2. */
static int clean_tmpdir(const char *keep1, const char *keep2)
{
    int others = 0;
    DIR *d = opendir(tmpdir);
    cr_assert_not_null(d);
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if ((!keep1 || strcmp(e->d_name, keep1)) && (!keep2 || strcmp(e->d_name, keep2))) {
            cr_log_warn("left over: %s", e->d_name);
            others++;
        }
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
    return others;
}

static void need_gnuplot(void)
{
    nn_error err;
    if (fer_heatmap_check_gnuplot(NULL, &err) != NN_OK)
        cr_skip_test("gnuplot unavailable: %s", err.msg);
}

/* Three classes: row 0 all on the diagonal (100%: the darkest colour),
 * row 1 split, row 2 has no samples. */
static void fill3(fer_metrics *m, const char *const *names)
{
    nn_error err;
    cr_assert_eq(fer_metrics_init(m, 3, names, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < 40; i++) cr_assert_eq(fer_metrics_add_prediction(m, 0, 0, &err), NN_OK);
    for (int i = 0; i < 30; i++) cr_assert_eq(fer_metrics_add_prediction(m, 1, i % 3 ? 1 : 2, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(m, &err), NN_OK, "%s", err.msg);
}

static const char *const plain3[3] = {"angry", "disgust", "fear"};

Test(eval_heatmap, draws_a_png_with_the_palette)
{
    need_gnuplot();
    make_tmpdir();
    fer_metrics m;
    fill3(&m, plain3);
    char png[128];
    snprintf(png, sizeof png, "%s/confusion.png", tmpdir);
    const fer_heatmap_options opts = {.title = "unit test", .width = 640, .height = 560};
    nn_error err;
    cr_assert_eq(fer_heatmap_png(png, &m, &opts, &err), NN_OK, "%s", err.msg);

    FILE *fp = fopen(png, "rb");
    cr_assert_not_null(fp);
    unsigned char sig[8];
    cr_assert_eq(fread(sig, 1, 8, fp), 8u);
    fclose(fp);
    cr_expect_eq(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0, "PNG signature");
    struct stat sb;
    cr_assert_eq(stat(png, &sb), 0);
    cr_expect_gt(sb.st_size, 5000, "a real picture, not an empty canvas (%lld bytes)", (long long)sb.st_size);

    /* Decode it: the requested size, and cells in the palette's colours --
     * the 100% cell in the darkest blue, the class with no samples white. */
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, png), "%s", img.message);
    cr_expect_eq(img.width, 640u);
    cr_expect_eq(img.height, 560u);
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, px, 0, NULL), "%s", img.message);
    long darkest = 0, black = 0, white_text = 0;
    for (size_t i = 0; i < (size_t)img.width * img.height; i++) {
        const unsigned char *p = px + 3 * i;
        darkest += p[0] == 0x08 && p[1] == 0x30 && p[2] == 0x6b; /* #08306b */
        black += p[0] < 40 && p[1] < 40 && p[2] < 40;
        white_text += p[0] > 240 && p[1] > 240 && p[2] > 240;
    }
    free(px);
    cr_expect_gt(darkest, 5000, "the 100%% cell is filled with #08306b (%ld px)", darkest);
    cr_expect_gt(black, 500, "labels and text drawn (%ld px)", black);
    cr_expect_gt(white_text, 1000);
    fer_metrics_free(&m);
    cr_expect_eq(clean_tmpdir("confusion.png", NULL), 0, "no temporaries left");
}

Test(eval_heatmap, kept_script_is_standalone_and_quotes_hostile_names)
{
    need_gnuplot();
    make_tmpdir();
    char pwned[128], evil[64];
    snprintf(pwned, sizeof pwned, "%s/pwned", tmpdir);
    snprintf(evil, sizeof evil, "`touch %s`", pwned);
    const char *const names[3] = {"it's", evil, "@x \"q\" a_b^c{d}"};
    fer_metrics m;
    fill3(&m, names);
    char png[128], gp[128], png2[128];
    snprintf(png, sizeof png, "%s/cm.png", tmpdir);
    snprintf(gp, sizeof gp, "%s/cm.gp", tmpdir);
    snprintf(png2, sizeof png2, "%s/again.png", tmpdir);
    const fer_heatmap_options opts = {.title = "two\nlines 'quoted' `date`", .script_path = gp};
    nn_error err;
    cr_assert_eq(fer_heatmap_png(png, &m, &opts, &err), NN_OK, "%s", err.msg);
    cr_expect_neq(access(pwned, F_OK), 0, "a backquoted class name must not run");

    FILE *fp = fopen(gp, "r");
    cr_assert_not_null(fp, "script kept at %s", gp);
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    cr_expect(strstr(buf, "'it''s'") != NULL, "quote doubled inside a single-quoted string");
    cr_expect(strstr(buf, "$cells << EOD") != NULL, "data inline");
    cr_expect(strstr(buf, "'it''s (n=40)' 0") != NULL, "support on the true-class labels");

    /* Re-running the kept script by hand redraws the picture. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "gnuplot -c '%s' '%s' 2>/dev/null", gp, png2);
    cr_expect_eq(system(cmd), 0);
    cr_expect_eq(access(png2, F_OK), 0);
    cr_expect_neq(access(pwned, F_OK), 0);
    fer_metrics_free(&m);
    unlink(png2);
    cr_expect_eq(clean_tmpdir("cm.png", "cm.gp"), 0, "no temporaries left");
}

Test(eval_heatmap, many_classes_and_one_class)
{
    need_gnuplot();
    make_tmpdir();
    nn_error err;
    /* 24 classes with long names: cells shrink, labels slant, still a PNG. */
    char namebuf[24][32];
    const char *names[24];
    for (int i = 0; i < 24; i++) {
        snprintf(namebuf[i], sizeof namebuf[i], "expression-%02d", i);
        names[i] = namebuf[i];
    }
    fer_metrics m;
    cr_assert_eq(fer_metrics_init(&m, 24, names, &err), NN_OK);
    for (int i = 0; i < 24 * 24; i++)
        cr_assert_eq(fer_metrics_add_prediction(&m, i % 24, (i / 24 + i) % 24, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    char png[128];
    snprintf(png, sizeof png, "%s/big.png", tmpdir);
    cr_expect_eq(fer_heatmap_png(png, &m, NULL, &err), NN_OK, "%s", err.msg);
    fer_metrics_free(&m);

    cr_assert_eq(fer_metrics_init(&m, 1, (const char *const[]){"only"}, &err), NN_OK);
    cr_assert_eq(fer_metrics_add_prediction(&m, 0, 0, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    char png1[128];
    snprintf(png1, sizeof png1, "%s/one.png", tmpdir);
    cr_expect_eq(fer_heatmap_png(png1, &m, NULL, &err), NN_OK, "%s", err.msg);
    fer_metrics_free(&m);
    cr_expect_eq(clean_tmpdir("big.png", "one.png"), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void expect_file(const char *path, const char *text)
{
    char buf[64] = "";
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp, "%s vanished", path);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    cr_expect_str_eq(buf, text, "the previous file is untouched");
}

Test(eval_heatmap, missing_or_failing_gnuplot_is_a_clear_error)
{
    make_tmpdir();
    fer_metrics m;
    fill3(&m, plain3);
    char png[128];
    snprintf(png, sizeof png, "%s/cm.png", tmpdir);
    write_file(png, "OLD");
    nn_error err;

    fer_heatmap_options opts = {.gnuplot = "/nonexistent/bin/gnuplot"};
    cr_expect_eq(fer_heatmap_png(png, &m, &opts, &err), NN_ERR_UNSUPPORTED);
    cr_expect(strstr(err.msg, "gnuplot-nox") != NULL, "says what to install: %s", err.msg);
    cr_expect_eq(fer_heatmap_check_gnuplot(opts.gnuplot, &err), NN_ERR_UNSUPPORTED);
    expect_file(png, "OLD");

    opts.gnuplot = "false"; /* runs, exits 1 */
    cr_expect_eq(fer_heatmap_png(png, &m, &opts, &err), NN_ERR_IO);
    cr_expect(strstr(err.msg, "exit status 1") != NULL, "%s", err.msg);
    expect_file(png, "OLD");

    opts.gnuplot = "true"; /* exits 0 but draws nothing */
    cr_expect_eq(fer_heatmap_png(png, &m, &opts, &err), NN_ERR_IO);
    cr_expect(strstr(err.msg, "no picture") != NULL, "%s", err.msg);
    expect_file(png, "OLD");

    fer_metrics u;
    cr_assert_eq(fer_metrics_init(&u, 2, (const char *const[]){"p", "q"}, &err), NN_OK);
    cr_expect_eq(fer_heatmap_png(png, &u, NULL, &err), NN_ERR_ARG, "unfinished metrics");
    fer_metrics_free(&u);
    fer_metrics_free(&m);
    cr_expect_eq(clean_tmpdir("cm.png", NULL), 0, "temporaries removed on every failure");
}

Test(eval_heatmap, gnuplot_error_output_reaches_the_message)
{
    need_gnuplot();
    make_tmpdir();
    fer_metrics m;
    fill3(&m, plain3);
    char png[160], gp[160];
    /* gnuplot itself fails: the script is writable, but gnuplot cannot
     * create its output in a missing directory. */
    snprintf(png, sizeof png, "%s/no-such-dir/cm.png", tmpdir);
    snprintf(gp, sizeof gp, "%s/cm.gp", tmpdir);
    const fer_heatmap_options opts = {.script_path = gp};
    nn_error err;
    cr_expect_eq(fer_heatmap_png(png, &m, &opts, &err), NN_ERR_IO);
    cr_expect(strstr(err.msg, "exit status") && strstr(err.msg, "cannot open"), "gnuplot's words: %s", err.msg);
    fer_metrics_free(&m);
    cr_expect_eq(clean_tmpdir("cm.gp", NULL), 0);
}
