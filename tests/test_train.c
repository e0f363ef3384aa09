/* The trainer on small synthetic data: determinism, exact resume (also from
 * a mid-epoch stop), outputs and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/model_file.h"
#include "train/trainer.h"
#include "tests/support.h"

#define SIDE 8
#define ARCH "input(8,8,1) conv(4,3,relu) maxpool(2) dropout(0.25) flatten dense(16,relu) dense(7)"

static char dir[256];

/* 96 rows: class k (0..2) has a bright 2x2 patch at a class-specific place,
 * on noise; 16 rows are PublicTest. */
static void write_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "emotion,pixels,Usage\n");
    unsigned s = 7;
    for (int i = 0; i < 96; i++) {
        int k = i % 3;
        fprintf(f, "%d,", k);
        for (int p = 0; p < SIDE * SIDE; p++) {
            s = s * 1103515245u + 12345u;
            int v = (int)((s >> 16) % 80);
            int y = p / SIDE, x = p % SIDE;
            if (y >= 2 * k + 1 && y < 2 * k + 3 && x >= 2 && x < 4) v += 170;
            fprintf(f, "%s%d", p ? " " : "", v);
        }
        fprintf(f, ",%s\n", i < 80 ? "Training" : "PublicTest");
    }
    fclose(f);
}

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/fer-train-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char csv[300];
    snprintf(csv, sizeof csv, "%s/data.csv", dir);
    write_csv(csv);
}

static void teardown_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
}

static fer_train_opts opts_for(const char *out, char *csv, char *outdir)
{
    sprintf(csv, "%s/data.csv", dir);
    sprintf(outdir, "%s/%s", dir, out);
    fer_train_opts o = fer_train_defaults();
    o.data_path = csv;
    o.out_dir = outdir;
    o.arch = ARCH;
    o.epochs = 3;
    o.batch = 16;
    o.lr = 0.01f;
    o.threads = 1;
    return o;
}

static void assert_same_weights(const char *a_dir, const char *b_dir)
{
    char a[400], b[400];
    snprintf(a, sizeof a, "%s/model.bin", a_dir);
    snprintf(b, sizeof b, "%s/model.bin", b_dir);
    fer_model_file ma, mb;
    nn_error err;
    cr_assert_eq(fer_model_load(a, 1, NN_NO_GRADS, &ma, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_model_load(b, 1, NN_NO_GRADS, &mb, &err), NN_OK, "%s", err.msg);
    size_t n = nn_model_param_count(ma.net);
    cr_assert_eq(n, nn_model_param_count(mb.net));
    cr_assert_eq(memcmp(nn_graph_params(ma.net->graph), nn_graph_params(mb.net->graph),
                        n * sizeof(float)), 0, "weights differ between %s and %s", a, b);
    fer_model_file_free(&ma);
    fer_model_file_free(&mb);
}

TestSuite(train, .init = setup_dir, .fini = teardown_dir);

Test(train, learns_and_writes_outputs)
{
    char csv[300], out[300];
    fer_train_opts o = opts_for("a", csv, out);
    o.epochs = 12;
    nn_error err = {0};
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_OK, "%s", err.msg);
    const char *files[] = {"model.bin", "best.bin", "checkpoint.bin", "log.csv"};
    for (int i = 0; i < 4; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", out, files[i]);
        cr_assert_eq(access(p, R_OK), 0, "missing %s", p);
    }
    size_t len;
    char path[400];
    snprintf(path, sizeof path, "%s/log.csv", out);
    char *log = test_read_file(path, &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += log[i] == '\n';
    cr_assert_eq(lines, 13, "log:\n%.*s", (int)len, log);
    /* the last epoch's validation accuracy: the classes are easy */
    const char *last = log + len - 1;
    while (last > log && last[-1] != '\n') last--;
    double vals[8];
    int epoch;
    cr_assert_eq(sscanf(last, "%d,%lf,%lf,%lf,%lf", &epoch, &vals[0], &vals[1], &vals[2], &vals[3]), 5);
    cr_assert_eq(epoch, 12);
    cr_assert_geq(vals[3], 0.9, "validation accuracy %g after 12 epochs", vals[3]);
    free(log);

    fer_model_file mf;
    snprintf(path, sizeof path, "%s/checkpoint.bin", out);
    cr_assert_eq(fer_model_load(path, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(mf.kind, FER_FILE_CHECKPOINT);
    cr_assert_eq(mf.train.epoch, 12);
    cr_assert_eq(mf.adam.t, 12 * 5); /* 80 rows / batch 16 = 5 steps an epoch */
    cr_assert_str_eq(mf.class_names[3], "happy");
    fer_model_file_free(&mf);
}

/* The recipe options beyond the paper's still learn the easy classes, and the
 * model file records them. */
Test(train, learns_with_smoothing_zoom_shift_and_tta)
{
    char csv[300], out[300];
    fer_train_opts o = opts_for("s", csv, out);
    o.epochs = 12;
    o.label_smoothing = 0.1f;
    o.aug.max_zoom = 0.1f;
    o.aug.max_shift = 1.0f;
    o.tta = 2;
    o.schedule = FER_LR_COSINE;
    nn_error err = {0};
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_OK, "%s", err.msg);
    fer_model_file mf;
    char path[400];
    snprintf(path, sizeof path, "%s/checkpoint.bin", out);
    cr_assert_eq(fer_model_load(path, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    cr_assert(strstr(mf.train.recipe, "zoom=0.1 shift=1 label_smoothing=0.1"), "%s", mf.train.recipe);
    cr_assert_geq(mf.train.best_val_acc, 0.9, "best validation accuracy %g", mf.train.best_val_acc);
    fer_model_file_free(&mf);
}

/* --warmup: the learning rate ramps up linearly over the first epochs; the
 * log's lr column is the rate of each epoch's last step. */
Test(train, warmup_ramps_the_learning_rate)
{
    char csv[300], out[300];
    fer_train_opts o = opts_for("w", csv, out);
    o.epochs = 3;
    o.warmup_epochs = 2; /* 80 rows / batch 16 = 5 steps an epoch: 10 warm-up steps */
    nn_error err = {0};
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_OK, "%s", err.msg);
    char path[400];
    snprintf(path, sizeof path, "%s/log.csv", out);
    size_t len;
    char *log = test_read_file(path, &len);
    const double want[3] = {0.01 * 5 / 10, 0.01, 0.01};
    const char *line = strchr(log, '\n') + 1;
    for (int e = 0; e < 3; e++, line = strchr(line, '\n') + 1) {
        double v[5];
        int epoch;
        cr_assert_eq(sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf", &epoch, &v[0], &v[1], &v[2], &v[3], &v[4]), 6);
        cr_expect(fabs(v[4] - want[e]) < 1e-6, "epoch %d: lr %g, want %g", epoch, v[4], want[e]);
    }
    free(log);
    o.warmup_epochs = 4; /* longer than the run */
    o.resume = 0;
    cr_expect_eq(fer_train_run(&o, NULL, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "warm-up"), "%s", err.msg);
}

Test(train, same_seed_same_weights_and_other_seed_differs)
{
    char csv[300], a[300], b[300], c[300];
    fer_train_opts oa = opts_for("a", csv, a), ob = opts_for("b", csv, b), oc = opts_for("c", csv, c);
    oc.seed = 2;
    nn_error err = {0};
    cr_assert_eq(fer_train_run(&oa, NULL, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_train_run(&ob, NULL, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_train_run(&oc, NULL, &err), NN_OK, "%s", err.msg);
    assert_same_weights(a, b);
    char pa[400], pc[400];
    snprintf(pa, sizeof pa, "%s/model.bin", a);
    snprintf(pc, sizeof pc, "%s/model.bin", c);
    size_t la, lc;
    void *da = test_read_file(pa, &la), *dc = test_read_file(pc, &lc);
    cr_assert(la != lc || memcmp(da, dc, la) != 0, "seed 2 gave the same model as seed 1");
    free(da);
    free(dc);
}

Test(train, resume_after_epoch_is_exact)
{
    char csv[300], a[300], b[300];
    fer_train_opts oa = opts_for("a", csv, a), ob = opts_for("b", csv, b);
    nn_error err = {0};
    cr_assert_eq(fer_train_run(&oa, NULL, &err), NN_OK, "%s", err.msg);
    ob.epochs = 1;
    cr_assert_eq(fer_train_run(&ob, NULL, &err), NN_OK, "%s", err.msg);
    ob.epochs = 3;
    ob.resume = 1;
    cr_assert_eq(fer_train_run(&ob, NULL, &err), NN_OK, "%s", err.msg);
    assert_same_weights(a, b);
}

static volatile sig_atomic_t stop_flag;
static void stop_at_epoch2_batch2(void *ctx, const fer_batch_progress *p)
{
    (void)ctx;
    if (p->epoch == 2 && p->batch == 2) stop_flag = 1;
}

Test(train, stop_mid_epoch_then_resume_is_exact)
{
    char csv[300], a[300], b[300];
    fer_train_opts oa = opts_for("a", csv, a), ob = opts_for("b", csv, b);
    nn_error err = {0};
    cr_assert_eq(fer_train_run(&oa, NULL, &err), NN_OK, "%s", err.msg);
    stop_flag = 0;
    ob.stop = &stop_flag;
    fer_train_callbacks cb = {.on_batch = stop_at_epoch2_batch2};
    cr_assert_eq(fer_train_run(&ob, &cb, &err), NN_ERR_INTERRUPTED, "%s", err.msg);
    cr_assert(strstr(err.msg, "epoch 2 batch 2/5"), "%s", err.msg);
    char path[400];
    fer_model_file mf;
    snprintf(path, sizeof path, "%s/checkpoint.bin", b);
    cr_assert_eq(fer_model_load(path, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(mf.train.epoch, 1);
    cr_assert_eq(mf.train.batch, 2);
    fer_model_file_free(&mf);
    stop_flag = 0;
    ob.resume = 1;
    cr_assert_eq(fer_train_run(&ob, NULL, &err), NN_OK, "%s", err.msg);
    assert_same_weights(a, b);
}

Test(train, resume_with_other_recipe_is_refused)
{
    char csv[300], a[300];
    fer_train_opts o = opts_for("a", csv, a);
    o.epochs = 1;
    nn_error err = {0};
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_OK, "%s", err.msg);
    o.epochs = 2;
    o.resume = 1;
    o.lr = 0.5f;
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "different recipe"), "%s", err.msg);
    cr_assert(strstr(err.msg, "lr 0.01 -> 0.5") && !strstr(err.msg, "batch"), "%s", err.msg);
    /* the optional augmentations are part of the recipe too */
    o.lr = opts_for("a", csv, a).lr;
    o.aug.max_shift = 2.0f;
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "shift (none) -> 2"), "%s", err.msg);
    o.aug.max_shift = 0.0f;
    o.aug.max_zoom = 0.1f;
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "zoom (none) -> 0.1"), "%s", err.msg);
    o.aug.max_zoom = 0.0f;
    o.label_smoothing = 0.1f;
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "label_smoothing (none) -> 0.1"), "%s", err.msg);
    o.label_smoothing = 0.0f;
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_OK, "%s", err.msg);
}

Test(train, bad_inputs)
{
    char csv[300], a[300];
    fer_train_opts o = opts_for("a", csv, a);
    nn_error err = {0};
    o.arch = "input(48,48,1) flatten dense(7)";
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_ERR_SHAPE);
    cr_assert(strstr(err.msg, "8x8"), "%s", err.msg);
    o.arch = "input(8,8,1) flatten dense(2)";
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "data.csv:4: label 2"), "%s", err.msg);
    o.arch = ARCH;
    o.data_path = "/nonexistent/data.csv";
    cr_assert_neq(fer_train_run(&o, NULL, &err), NN_OK);
    cr_assert(strstr(err.msg, "/nonexistent/data.csv"), "%s", err.msg);
    o.data_path = csv;
    o.resume = 1; /* no checkpoint yet */
    snprintf(a, sizeof a, "%s/fresh", dir);
    cr_assert_eq(fer_train_run(&o, NULL, &err), NN_ERR_IO);
    cr_assert(strstr(err.msg, "checkpoint.bin"), "%s", err.msg);
}
