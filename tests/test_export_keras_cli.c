/* bin/fer-export as a user runs it: exit codes, messages, the round trip
 * through the command line, and the statistics options. Needs bin/fer-export
 * (`make` builds it; `make check` builds it before the tests), or the one in
 * $FER_BIN_DIR (the sanitizer build sets it). */
#include <hdf5.h>
#include <stdarg.h>
#include <sys/wait.h>

#include "test_export_keras_helpers.h"

static const char *exe(void)
{
    static char path[512];
    const char *dir = getenv("FER_BIN_DIR");
    snprintf(path, sizeof path, "%s/fer-export", dir && *dir ? dir : "bin");
    return path;
}
#define ARCH "input(12,10,1) conv(3,3,relu) maxpool(2) flatten dense(7)"

/* Runs fer-export with the arguments fmt gives; returns its exit status,
 * its output (stdout + stderr) in out. */
static int run(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int run(char *out, size_t size, const char *fmt, ...)
{
    cr_assert_eq(access(exe(), X_OK), 0, "%s missing: run `make` first", exe());
    char cmd[2048];
    int n = snprintf(cmd, sizeof cmd, "%s ", exe());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t got = fread(out, 1, size - 1, p);
    out[got] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct {
    char *dir;
    char bin[256], out[256];
} work;

static void work_make(work *w)
{
    test_model t;
    test_model_make(&t, ARCH, 8, "made by: cli test\n");
    w->dir = scratch_dir();
    path_in(w->bin, sizeof w->bin, w->dir, "model.bin");
    path_in(w->out, sizeof w->out, w->dir, "keras");
    nn_error err = {0};
    cr_assert_eq(fer_model_save(w->bin, &t.c, &err), NN_OK, "%s", err.msg);
    test_model_free(&t);
}

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = test_read_file(a, &la), *y = test_read_file(b, &lb);
    int same = la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

Test(keras_cli, help_and_usage)
{
    char out[8192];
    cr_expect_eq(run(out, sizeof out, "--help"), 0);
    cr_expect(strstr(out, "--from-keras") && strstr(out, "--keras DIR"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s", ""), 2, "no arguments: usage, exit 2");
    cr_expect_eq(run(out, sizeof out, "--from-keras a.json b.h5"), 2, "no -o: usage, exit 2");
    cr_expect_eq(run(out, sizeof out, "--bogus"), 2);
}

Test(keras_cli, round_trip_through_the_command_line)
{
    work w;
    work_make(&w);
    char out[8192], back[300];
    path_in(back, sizeof back, w.dir, "back.bin");
    cr_assert_eq(run(out, sizeof out, "%s --keras %s/sub/dir", w.bin, w.out), 0, "%s", out);
    cr_expect(strstr(out, "bit-identical"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "--from-keras %s/sub/dir/fer.json %s/sub/dir/fer.h5 -o %s", w.out,
                     w.out, back), 0, "%s", out);
    cr_expect(same_file(w.bin, back), "model.bin -> Keras -> model.bin must give the same bytes");
    scratch_remove(w.dir);
}

Test(keras_cli, bad_input_exits_non_zero_with_the_file_named)
{
    work w;
    work_make(&w);
    char out[8192];
    cr_expect_eq(run(out, sizeof out, "%s/missing.bin --keras %s", w.dir, w.out), 1);
    cr_expect(strstr(out, "fer-export: ") && strstr(out, "missing.bin"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "--from-keras %s/x.json %s/x.h5 -o %s/o.bin", w.dir, w.dir, w.dir), 1);
    cr_expect(strstr(out, "x.json"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s --keras %s/dir", w.bin, w.bin), 1, "a file where DIR should be");
    cr_expect(strstr(out, "cannot create directory"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s --keras %s", w.bin, w.out), 0, "%s", out);
    cr_expect_eq(run(out, sizeof out, "--from-keras %s/fer.json %s/fer.h5 -o %s/o.bin --classes a,b", w.out,
                     w.out, w.dir), 1);
    cr_expect(strstr(out, "--classes: 2 names for the model's 7 outputs"), "%s", out);
    char o[300];
    path_in(o, sizeof o, w.dir, "o.bin");
    cr_expect_neq(access(o, F_OK), 0, "nothing written on failure");
    scratch_remove(w.dir);
}

static void drop_stats(const char *h5)
{
    hid_t f = H5Fopen(h5, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    cr_assert_geq(H5Ldelete(f, "/fer_standardization", H5P_DEFAULT), 0);
    H5Fclose(f);
}

Test(keras_cli, statistics_options)
{
    work w;
    work_make(&w);
    char out[8192], o[300];
    path_in(o, sizeof o, w.dir, "o.bin");
    cr_assert_eq(run(out, sizeof out, "%s --keras %s --no-normalization-layer", w.bin, w.out), 0, "%s", out);
    char h5[300];
    path_in(h5, sizeof h5, w.out, "fer.h5");
    drop_stats(h5); /* now a plain Keras model: no statistics anywhere */

    cr_assert_eq(run(out, sizeof out, "--from-keras %s/fer.json %s -o %s", w.out, h5, o), 0, "%s", out);
    cr_expect(strstr(out, "warning:") && strstr(out, "no standardisation"), "%s", out);
    fer_model_file mf, ref;
    nn_error err = {0};
    cr_assert_eq(fer_model_load(o, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    cr_expect(mf.norm.mean[5] == 0.0f && mf.norm.std[5] == 1.0f, "identity statistics");
    fer_model_file_free(&mf);

    cr_assert_eq(run(out, sizeof out, "--from-keras %s/fer.json %s -o %s --divide-by 255", w.out, h5, o), 0);
    cr_expect_null(strstr(out, "warning:"), "%s", out);
    cr_assert_eq(fer_model_load(o, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    cr_expect(mf.norm.mean[5] == 0.0f && mf.norm.std[5] == 255.0f);
    fer_model_file_free(&mf);

    cr_assert_eq(run(out, sizeof out, "--from-keras %s/fer.json %s -o %s --stats-from %s", w.out, h5, o,
                     w.bin), 0, "%s", out);
    cr_expect(same_file(o, w.bin), "weights, names, meta from Keras + statistics from model.bin = model.bin");
    cr_assert_eq(fer_model_load(w.bin, 1, NN_NO_GRADS, &ref, &err), NN_OK);
    fer_model_file_free(&ref);
    scratch_remove(w.dir);
}
