/* fer-eval as a program: outputs on a small synthetic case, and a clear
 * error with a non-zero exit for each kind of bad input. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export/model_file.h"

static char dir[64];

static const char *NAMES[7] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

static void write_model(const char *path, int side)
{
    char arch_text[128];
    snprintf(arch_text, sizeof arch_text, "input(%d,%d,1) flatten dense(7)", side, side);
    nn_arch arch;
    nn_error err = {0};
    cr_assert_eq(nn_arch_parse(arch_text, &arch, &err), NN_OK);
    nn_model *m = nn_model_create(&arch, 4, NN_NO_GRADS, &err);
    cr_assert_not_null(m, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_model_init_glorot(m, &rng);
    fer_standardizer st;
    cr_assert_eq(fer_standardizer_alloc(&st, side, side, &err), NN_OK);
    for (int i = 0; i < side * side; i++) {
        st.mean[i] = 128;
        st.std[i] = 64;
    }
    fer_model_contents c = {.net = m, .norm = &st, .n_classes = 7, .class_names = NAMES};
    cr_assert_eq(fer_model_save(path, &c, &err), NN_OK, "%s", err.msg);
    fer_standardizer_free(&st);
    nn_model_free(m);
}

static void write_csv(const char *path, int side, int rows, const char *usage)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, usage ? "emotion,pixels,Usage\n" : "emotion,pixels\n");
    for (int r = 0; r < rows; r++) {
        fprintf(f, "%d,", r % 7);
        for (int p = 0; p < side * side; p++) fprintf(f, "%s%d", p ? " " : "", (r * 31 + p * 7) % 256);
        if (usage) fprintf(f, ",%s", usage);
        fputc('\n', f);
    }
    fclose(f);
}

/* The program: $FER_BIN_DIR/fer-eval (the sanitized build's under make
 * sanitize), else bin/fer-eval. */
static char bin[512];

static void setup(void)
{
    const char *bd = getenv("FER_BIN_DIR");
    snprintf(bin, sizeof bin, "%s/fer-eval", bd && *bd ? bd : "bin");
    snprintf(dir, sizeof dir, "/tmp/fer-eval-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    if (access(bin, X_OK) != 0) cr_skip_test("%s not built (run make)", bin);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
}

/* Runs a shell command, returning its exit status and stderr. */
static int run(const char *cmd, char *err_out, size_t n)
{
    char full[2048], errfile[128];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", dir);
    snprintf(full, sizeof full, "%s >/dev/null 2>%s", cmd, errfile);
    int st = system(full);
    FILE *f = fopen(errfile, "r");
    size_t got = f ? fread(err_out, 1, n - 1, f) : 0;
    err_out[got] = '\0';
    if (f) fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TestSuite(eval_cli, .init = setup, .fini = teardown);

Test(eval_cli, writes_reports_that_parse)
{
    char model[128], csv[128], out[128], cmd[512], err[4096];
    snprintf(model, sizeof model, "%s/m.bin", dir);
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_model(model, 6);
    write_csv(csv, 6, 20, "PublicTest");
    snprintf(cmd, sizeof cmd, "%s --usage PublicTest -j 1 -o %s %s %s", bin, out, model, csv);
    cr_assert_eq(run(cmd, err, sizeof err), 0, "%s", err);
    char path[256];
    snprintf(path, sizeof path, "%s/metrics.json", out);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no %s", path);
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    cr_assert_not_null(j);
    cr_assert_eq(cJSON_GetObjectItem(j, "n")->valueint, 20);
    cJSON_Delete(j);
    /* 10-view TTA: named in the report's metadata; the recorded command
     * quotes a word with spaces, so it can be pasted back into a shell */
    snprintf(cmd, sizeof cmd, "%s --usage PublicTest --tta=shifts --title 'a b' -j 1 -o %s %s %s", bin,
             out, model, csv);
    cr_assert_eq(run(cmd, err, sizeof err), 0, "%s", err);
    cr_assert(strstr(err, "10-view TTA"), "%s", err);
    snprintf(path, sizeof path, "%s/metrics.json", out);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = '\0';
    fclose(f);
    j = cJSON_Parse(buf);
    cr_assert_not_null(j);
    cJSON *mode = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "meta"), "tta_mode");
    cr_assert(cJSON_IsString(mode) && !strcmp(mode->valuestring, "mirror+shifts"), "%s", buf);
    cJSON *command = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "meta"), "command");
    cr_assert(cJSON_IsString(command) && strstr(command->valuestring, " --title 'a b' -j 1 "), "%s", buf);
    cJSON_Delete(j);
    const char *files[] = {"report.txt", "confusion.csv", "confusion_normalised.csv"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        cr_assert_eq(access(path, R_OK), 0, "missing %s", path);
    }
}

Test(eval_cli, bad_inputs_fail_clearly)
{
    char model[128], csv[128], small[128], nousage[128], corrupt[128], cmd[512], err[4096];
    snprintf(model, sizeof model, "%s/m.bin", dir);
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    snprintf(small, sizeof small, "%s/small.csv", dir);
    snprintf(nousage, sizeof nousage, "%s/nousage.csv", dir);
    snprintf(corrupt, sizeof corrupt, "%s/corrupt.bin", dir);
    write_model(model, 6);
    write_csv(csv, 6, 10, "Training");
    write_csv(small, 5, 10, "PublicTest");
    write_csv(nousage, 6, 10, NULL);
    snprintf(cmd, sizeof cmd, "head -c 300 %s > %s", model, corrupt);
    cr_assert_eq(system(cmd), 0);

    static const struct {
        const char *args, *needle;
    } cases[] = {
        {"/nonexistent/m.bin %s/d.csv", "/nonexistent/m.bin"},            /* missing model */
        {"%s/corrupt.bin %s/d.csv", "corrupt.bin"},                        /* truncated model */
        {"%s/d.csv %s/d.csv", "not a fer model file"},                     /* CSV as model */
        {"%s/m.bin %s/small.csv", "5x5"},                                  /* size mismatch */
        {"--usage PublicTest %s/m.bin %s/d.csv", "no PublicTest rows"},    /* empty split */
        {"--usage Validation %s/m.bin %s/d.csv", "Validation"},            /* unknown usage */
        {"--usage Training %s/m.bin %s/nousage.csv", "no Usage column"},   /* no Usage column */
        {"%s/m.bin /nonexistent/d.csv", "/nonexistent/d.csv"},             /* missing data */
        {"--tta=crops %s/m.bin %s/d.csv", "--tta=shifts"},                 /* unknown TTA */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char args[512];
        /* every %s above is the temp dir (those without one ignore the extras) */
        snprintf(args, sizeof args, cases[i].args, dir, dir);
        snprintf(cmd, sizeof cmd, "%s -j 1 %s", bin, args);
        int st = run(cmd, err, sizeof err);
        cr_expect_neq(st, 0, "case %zu (%s) exited 0", i, args);
        cr_expect(strstr(err, cases[i].needle), "case %zu (%s): stderr lacks '%s':\n%s", i, args,
                  cases[i].needle, err);
    }
    cr_assert_eq(run(bin, err, sizeof err), 2, "no arguments must be a usage error");
}
