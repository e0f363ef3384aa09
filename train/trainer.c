#include "train/trainer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "data/batch.h"
#include "data/fer_dataset.h"
#include "data/standardize.h"
#include "export/model_file.h"
#include "export/predict.h"
#include "nn/adam.h"
#include "nn/atomic_file.h"
#include "nn/model.h"

fer_train_opts fer_train_defaults(void)
{
    return (fer_train_opts){
        .arch = NN_ARCH_FER_DCNN,
        .epochs = 30,
        .batch = 64,
        .lr = 0.001f,
        .schedule = FER_LR_CONSTANT,
        .seed = 1,
        .threads = 1,
        .aug = fer_augment_defaults(),
        .val_split = "PublicTest",
        .holdout = 0.1f,
    };
}

/* Random streams of a run, each a pure function of (seed, purpose, epoch, batch). */
enum { STREAM_INIT = 0, STREAM_SHUFFLE = 1, STREAM_AUGMENT = 2, STREAM_DROPOUT = 3, STREAM_HOLDOUT = 4 };

static nn_rng stream(uint64_t seed, uint64_t purpose, uint64_t epoch, uint64_t batch)
{
    nn_rng base;
    nn_rng_seed(&base, seed);
    return nn_rng_fork(&base, purpose << 56 | epoch << 28 | batch);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void info(const fer_train_callbacks *cb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void info(const fer_train_callbacks *cb, const char *fmt, ...)
{
    if (!cb || !cb->on_info) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cb->on_info(cb->ctx, msg);
}

/* Appends " key=value" to the recipe in buf. */
static void recipe_add(char *buf, size_t n, const char *key, double value)
{
    const size_t len = strlen(buf);
    snprintf(buf + len, n - len, " %s=%g", key, value);
}

/* The options a resumed run must share with the run it continues. */
static void make_recipe(const fer_train_opts *o, const char *arch, char *buf, size_t n)
{
    snprintf(buf, n,
             "arch=%s batch=%d lr=%g schedule=%s flip=%d rotate=%g seed=%llu val=%s holdout=%g "
             "max_rows=%ld",
             arch, o->batch, o->lr, o->schedule == FER_LR_COSINE ? "cosine" : "constant",
             o->aug.flip, o->aug.max_deg,
             (unsigned long long)o->seed, o->val_split, o->holdout, o->max_rows);
    if (o->schedule == FER_LR_COSINE) /* the schedule's length is part of the recipe */
        recipe_add(buf, n, "epochs", o->epochs);
    /* Named only when on, so checkpoints made before they existed still match. */
    if (o->aug.max_zoom > 0.0f) recipe_add(buf, n, "zoom", o->aug.max_zoom);
    if (o->aug.max_shift > 0.0f) recipe_add(buf, n, "shift", o->aug.max_shift);
    if (o->label_smoothing > 0.0f) recipe_add(buf, n, "label_smoothing", o->label_smoothing);
    if (o->warmup_epochs > 0.0f) recipe_add(buf, n, "warmup", o->warmup_epochs);
}

/* Value of field key in a make_recipe string ("" when absent) into out. A
 * field runs from "key=" to the next word holding '=' (arch has spaces). */
static void recipe_field(const char *recipe, const char *key, char *out, size_t n)
{
    out[0] = 0;
    const size_t klen = strlen(key);
    for (const char *p = recipe; *p;) {
        const char *word_end = strchrnul(p, ' ');
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            const char *v = p + klen + 1, *end = word_end;
            while (*end == ' ') { /* words without '=' continue the value */
                const char *next = end + 1, *next_end = strchrnul(next, ' ');
                if (memchr(next, '=', (size_t)(next_end - next))) break;
                end = next_end;
            }
            snprintf(out, n, "%.*s", (int)(end - v), v);
            return;
        }
        p = *word_end ? word_end + 1 : word_end;
    }
}

/* "lr 0.01 -> 0.5, shift (none) -> 2": the fields two recipes differ in. */
static void recipe_diff(const char *was, const char *now, char *out, size_t n)
{
    static const char *const keys[] = {"arch", "batch", "lr", "schedule", "flip", "rotate", "seed",
                                       "val", "holdout", "max_rows", "epochs", "zoom", "shift",
                                       "label_smoothing", "warmup"};
    out[0] = 0;
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char a[1024], b[1024];
        recipe_field(was, keys[k], a, sizeof a);
        recipe_field(now, keys[k], b, sizeof b);
        if (!strcmp(a, b)) continue;
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s %s -> %s", len ? ", " : "", keys[k], *a ? a : "(none)",
                 *b ? b : "(none)");
    }
}

/* The learning rate of step (0-based) of total; steps_per_epoch sizes the
 * warm-up, a linear ramp over its first warmup_epochs that multiplies the
 * schedule (Goyal et al. 2017). */
static float lr_at(const fer_train_opts *o, long step, long total, long steps_per_epoch)
{
    double lr = o->lr;
    if (o->schedule == FER_LR_COSINE && total > 0)
        lr *= 0.5 * (1.0 + cos(M_PI * (double)step / (double)total));
    const double warmup = (double)o->warmup_epochs * steps_per_epoch;
    if (step < warmup) lr *= (double)(step + 1) / warmup;
    return (float)lr;
}

/* ---- the per-epoch log ------------------------------------------------------- */

#define LOG_HEADER "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,images_per_s\n"

/* Reads out_dir/log.csv keeping rows of epochs <= keep_epochs (a resumed run
 * redoes the rest). Returns a malloc'd string starting with the header. */
static char *log_load(const char *path, int keep_epochs)
{
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    len = (size_t)snprintf(out, cap, "%s", LOG_HEADER);
    FILE *f = fopen(path, "r");
    if (!f) return out;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        int epoch;
        if (sscanf(line, "%d,", &epoch) != 1 || epoch < 1 || epoch > keep_epochs) continue;
        size_t l = strlen(line);
        if (len + l + 1 > cap) {
            char *p = realloc(out, cap *= 2);
            if (!p) break;
            out = p;
        }
        memcpy(out + len, line, l + 1);
        len += l;
    }
    fclose(f);
    return out;
}

static nn_status log_append(char **log, const char *path, const fer_epoch_result *r, nn_error *err)
{
    char row[256];
    int n = snprintf(row, sizeof row, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.1f,%.1f\n", r->epoch,
                     r->train_loss, r->train_acc, r->val_loss, r->val_acc, r->lr, r->seconds,
                     r->images_per_s);
    size_t len = strlen(*log);
    char *p = realloc(*log, len + (size_t)n + 1);
    if (!p) return nn_fail(err, NN_ERR_NOMEM, "out of memory for the log");
    memcpy(p + len, row, (size_t)n + 1);
    *log = p;
    return nn_atomic_write_file(path, p, len + (size_t)n, err);
}

/* ---- evaluation on the validation rows ------------------------------------------ */

static nn_status evaluate(nn_model *m, const fer_dataset *ds, const fer_indices *val,
                          const fer_standardizer *norm, fer_tta tta, float *probs, double *loss,
                          double *acc, nn_error *err)
{
    const int K = m->n_classes;
    nn_status st = fer_predict_rows(m, norm, ds, val->idx, val->n, tta, probs, err);
    if (st) return st;
    double loss_sum = 0;
    long correct = 0;
    for (uint32_t i = 0; i < val->n; i++) {
        const float *p = probs + (size_t)i * K;
        int label = ds->labels[val->idx[i]], best = 0;
        for (int k = 1; k < K; k++)
            if (p[k] > p[best]) best = k;
        correct += best == label;
        loss_sum -= log(fmax(p[label], 1e-12));
    }
    *loss = val->n ? loss_sum / val->n : NAN;
    *acc = val->n ? (double)correct / val->n : NAN;
    return NN_OK;
}

/* ---- saving ------------------------------------------------------------------------ */

static nn_status save_model(const char *dir, const char *file, const nn_model *m,
                            const fer_standardizer *norm, const nn_adam *adam,
                            const fer_train_state *ts, const char *meta, nn_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    fer_model_contents c = {.net = m, .norm = norm, .n_classes = m->n_classes,
                            .class_names = fer_class_names, .adam = adam, .train = ts, .meta = meta};
    return fer_model_save(path, &c, err);
}

static void make_meta(char *buf, size_t n, const fer_train_opts *o,
                      const char *recipe, int epoch, double val_acc)
{
    snprintf(buf, n,
             "made by: fer-train\ncommand: %s\ndata: %s\nrecipe: %s\nepoch: %d\n"
             "val_split: %s\nval_acc: %.4f\nthreads: %d\n",
             o->command ? o->command : "(library call)", o->data_path, recipe, epoch,
             o->val_split, val_acc, o->threads);
}

/* ---- the run ----------------------------------------------------------------------- */

typedef struct {
    fer_dataset ds;
    fer_indices train, val;
    fer_standardizer norm;
    fer_model_file ckpt;     /* when resuming: owns net, adam, norm */
    nn_model *net;           /* fresh run: owned here */
    nn_adam adam;
    int own_adam;
    float *val_probs;
    int32_t *labels;
    uint32_t *perm;
    char *log;
} run_state;

static void run_free(run_state *r)
{
    fer_dataset_free(&r->ds);
    fer_indices_free(&r->train);
    fer_indices_free(&r->val);
    fer_standardizer_free(&r->norm);
    fer_model_file_free(&r->ckpt);
    nn_model_free(r->net);
    if (r->own_adam) nn_adam_free(&r->adam);
    free(r->val_probs);
    free(r->labels);
    free(r->perm);
    free(r->log);
}

static nn_status prepare_splits(const fer_train_opts *o, run_state *r, const fer_train_callbacks *cb,
                                nn_error *err)
{
    fer_load_opts lo = {.skip_bad_rows = o->skip_bad_rows, .max_rows = o->max_rows};
    fer_load_report rep;
    double t0 = now_s();
    nn_status st = fer_dataset_load(&r->ds, o->data_path, &lo, &rep, err);
    if (st) return st;
    info(cb, "loaded %s: %ld rows of %dx%d in %.1f s", o->data_path, rep.rows_loaded, r->ds.h,
         r->ds.w, now_s() - t0);
    if (rep.rows_skipped) {
        info(cb, "skipped %ld bad rows, e.g.:", rep.rows_skipped);
        for (int i = 0; i < rep.n_reasons; i++) info(cb, "  %s", rep.reasons[i]);
    }
    fer_split val_split;
    if ((st = fer_split_parse(o->val_split, &val_split, err))) return st;
    if (val_split == FER_SPLIT_TRAINING)
        return nn_fail(err, NN_ERR_ARG, "the validation split cannot be Training");
    fer_indices all_train = {0};
    if ((st = fer_split_indices(&r->ds, FER_SPLIT_TRAINING, &all_train, err))) return st;
    if ((st = fer_split_indices(&r->ds, val_split, &r->val, err))) {
        fer_indices_free(&all_train);
        return st;
    }
    if (r->val.n == 0) {
        fer_indices_free(&r->val);
        nn_rng rng = stream(o->seed, STREAM_HOLDOUT, 0, 0);
        st = fer_holdout(&r->ds, &all_train, o->holdout, &rng, &r->train, &r->val, err);
        fer_indices_free(&all_train);
        if (st) return nn_error_prefix(err, "%s has no %s rows; holding out %g of Training",
                                       o->data_path, o->val_split, o->holdout);
        info(cb, "no %s rows: validating on a stratified %.0f%% hold-out of Training", o->val_split,
             100.0 * o->holdout);
    } else {
        r->train = all_train;
    }
    if (r->train.n == 0) return nn_fail(err, NN_ERR_FORMAT, "%s: no Training rows", o->data_path);
    info(cb, "train %u rows, validation %u rows", r->train.n, r->val.n);
    return NN_OK;
}

nn_status fer_train_run(const fer_train_opts *o, const fer_train_callbacks *cb, nn_error *err)
{
    nn_error local;
    if (!err) err = &local;
    if (!o || !o->data_path || !o->out_dir) return nn_fail(err, NN_ERR_ARG, "train: data and output paths are required");
    if (o->epochs < 1 || o->batch < 1 || !(o->lr > 0) || o->threads < 1)
        return nn_fail(err, NN_ERR_ARG, "train: epochs, batch, lr and threads must be positive");
    if (!(o->warmup_epochs >= 0.0f && o->warmup_epochs <= (float)o->epochs))
        return nn_fail(err, NN_ERR_ARG, "train: warm-up of %g epochs is not in 0..%d (--epochs)",
                       (double)o->warmup_epochs, o->epochs);
    if (!(o->label_smoothing >= 0.0f && o->label_smoothing < 1.0f))
        return nn_fail(err, NN_ERR_ARG, "train: label smoothing %g is not in [0, 1)",
                       (double)o->label_smoothing);
    if (!fer_tta_views((fer_tta)o->tta))
        return nn_fail(err, NN_ERR_ARG, "train: unknown test-time augmentation %d", o->tta);
    nn_status st = fer_augment_check(&o->aug, err);
    if (st) return st;
    if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
        return nn_fail(err, NN_ERR_IO, "%s: cannot create: %s", o->out_dir, strerror(errno));

    run_state r;
    memset(&r, 0, sizeof r);
    const char *arch_text = o->arch ? o->arch : NN_ARCH_FER_DCNN;
    nn_arch arch;
    if ((st = nn_arch_parse(arch_text, &arch, err))) return nn_error_prefix(err, "architecture");
    char arch_canon[4096], recipe[1024], ckpt_path[4096], log_path[4096];
    nn_arch_format(&arch, arch_canon, sizeof arch_canon);
    make_recipe(o, arch_canon, recipe, sizeof recipe);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoint.bin", o->out_dir);
    snprintf(log_path, sizeof log_path, "%s/log.csv", o->out_dir);
    /* A run killed while saving (kill -9, power cut) leaves its temporary
     * file behind, as large as a checkpoint: clear those out. */
    static const char *outputs[] = {"checkpoint.bin", "model.bin", "best.bin", "log.csv"};
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        char out_path[4096];
        snprintf(out_path, sizeof out_path, "%s/%s", o->out_dir, outputs[i]);
        nn_atomic_remove_stale(out_path);
    }

    if ((st = prepare_splits(o, &r, cb, err))) goto done;
    if (arch.in_h != r.ds.h || arch.in_w != r.ds.w || arch.in_c != 1) {
        st = nn_fail(err, NN_ERR_SHAPE, "%s has %dx%d images, the network expects %dx%dx%d",
                     o->data_path, r.ds.h, r.ds.w, arch.in_h, arch.in_w, arch.in_c);
        goto done;
    }

    for (int i = 0; i < r.ds.n; i++)
        if (r.ds.labels[i] >= arch.layers[arch.n_layers - 1].units) {
            st = nn_fail(err, NN_ERR_FORMAT, "%s:%u: label %d, but the network has %d classes",
                         o->data_path, r.ds.lines[i], r.ds.labels[i],
                         arch.layers[arch.n_layers - 1].units);
            goto done;
        }

    fer_train_state ts = {.seed = o->seed};
    snprintf(ts.recipe, sizeof ts.recipe, "%s", recipe);
    nn_model *m;
    nn_adam *adam;
    const fer_standardizer *norm;
    if (o->resume) {
        if ((st = fer_model_load(ckpt_path, o->batch, NN_WITH_GRADS, &r.ckpt, err))) goto done;
        if (r.ckpt.kind != FER_FILE_CHECKPOINT) {
            st = nn_fail(err, NN_ERR_FORMAT, "%s is not a checkpoint", ckpt_path);
            goto done;
        }
        if (strcmp(r.ckpt.train.recipe, recipe) != 0) {
            char diff[400];
            recipe_diff(r.ckpt.train.recipe, recipe, diff, sizeof diff);
            st = nn_fail(err, NN_ERR_ARG,
                         "%s was made with a different recipe (checkpoint -> this run: %s); "
                         "resume with the same options",
                         ckpt_path, *diff ? diff : "see the model file's recipe line");
            goto done;
        }
        ts = r.ckpt.train;
        m = r.ckpt.net;
        adam = &r.ckpt.adam;
        norm = &r.ckpt.norm;
        info(cb, "resuming from %s: %d epochs and %d batches done", ckpt_path, ts.epoch, ts.batch);
        if (ts.epoch >= o->epochs) {
            info(cb, "nothing to do: %d of %d epochs already done", ts.epoch, o->epochs);
            goto done;
        }
    } else {
        if ((st = fer_standardizer_fit(&r.norm, &r.ds, r.train.idx, r.train.n, err))) goto done;
        if (!(r.net = nn_model_create(&arch, o->batch, NN_WITH_GRADS, err))) {
            st = err->code;
            goto done;
        }
        nn_rng init = stream(o->seed, STREAM_INIT, 0, 0);
        nn_model_init_glorot(r.net, &init);
        if ((st = nn_adam_init(&r.adam, nn_model_param_count(r.net), err))) goto done;
        r.own_adam = 1;
        m = r.net;
        adam = &r.adam;
        norm = &r.norm;
    }
    if ((st = nn_graph_set_threads(m->graph, o->threads, err))) goto done;
    if ((st = nn_softmax_xent_set_smoothing(m->loss, o->label_smoothing, err))) goto done;
    info(cb, "network: %zu parameters; batch %d, lr %g (%s), augmentation: flip %s, rotate +-%g deg%s",
         nn_model_param_count(m), o->batch, o->lr,
         o->schedule == FER_LR_COSINE ? "cosine" : "constant", o->aug.flip ? "on" : "off",
         o->aug.max_deg, o->aug.max_zoom > 0 || o->aug.max_shift > 0 ? "," : "");
    if (o->aug.max_zoom > 0 || o->aug.max_shift > 0)
        info(cb, "  zoom +-%g, shift +-%g px", o->aug.max_zoom, o->aug.max_shift);
    if (o->label_smoothing > 0)
        info(cb, "label smoothing %g (train_loss is against the smoothed targets, val_loss is not)",
             o->label_smoothing);

    const int K = m->n_classes;
    r.val_probs = malloc(((size_t)r.val.n + 1) * K * sizeof *r.val_probs);
    r.labels = malloc((size_t)o->batch * sizeof *r.labels);
    r.perm = malloc((size_t)r.train.n * sizeof *r.perm);
    r.log = log_load(log_path, ts.epoch);
    if (!r.val_probs || !r.labels || !r.perm || !r.log) {
        st = nn_fail(err, NN_ERR_NOMEM, "out of memory for training buffers");
        goto done;
    }

    const int batches = (int)((r.train.n + (uint32_t)o->batch - 1) / (uint32_t)o->batch);
    const long total_steps = (long)o->epochs * batches;
    char meta[8192];
    for (int e = ts.epoch; e < o->epochs; e++) {
        memcpy(r.perm, r.train.idx, (size_t)r.train.n * sizeof *r.perm);
        nn_rng shuffle = stream(o->seed, STREAM_SHUFFLE, (uint64_t)e, 0);
        nn_rng_shuffle(&shuffle, r.perm, r.train.n);
        const double t_epoch = now_s();
        const int first_batch = ts.batch;
        long images_this_session = 0;
        float lr = o->lr;
        for (int b = first_batch; b < batches; b++) {
            const int n = (int)(r.train.n - (uint32_t)b * o->batch < (uint32_t)o->batch
                                    ? r.train.n - (uint32_t)b * o->batch
                                    : (uint32_t)o->batch);
            nn_rng aug = stream(o->seed, STREAM_AUGMENT, (uint64_t)e, (uint64_t)b);
            if ((st = nn_graph_set_batch(m->graph, n, err))) goto done;
            if ((st = fer_batch_fill(&r.ds, r.perm + (size_t)b * o->batch, n, norm, &o->aug, &aug,
                                     nn_value(m->input), r.labels, err)))
                goto done;
            nn_rng drop = stream(o->seed, STREAM_DROPOUT, (uint64_t)e, (uint64_t)b);
            nn_graph_set_rng(m->graph, &drop);
            nn_graph_set_labels(m->graph, r.labels);
            nn_graph_set_training(m->graph, 1);
            nn_graph_forward(m->graph);
            if ((st = nn_graph_backward(m->graph, m->loss, err))) goto done;
            lr = lr_at(o, (long)e * batches + b, total_steps, batches);
            adam->lr = lr;
            nn_adam_step(adam, nn_graph_params(m->graph), nn_graph_param_grads(m->graph), o->threads);

            const float loss = nn_value(m->loss)[0];
            if (!isfinite(loss)) {
                st = nn_fail(err, NN_ERR_FORMAT,
                             "training diverged: loss is %g at epoch %d batch %d (try a lower --lr)",
                             loss, e + 1, b + 1);
                goto done;
            }
            const float *p = nn_softmax_xent_probs(m->loss);
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int k = 1; k < K; k++)
                    if (p[(size_t)i * K + k] > p[(size_t)i * K + best]) best = k;
                ts.correct += best == r.labels[i];
            }
            ts.loss_sum += (double)loss * n;
            ts.seen += n;
            ts.batch = b + 1;
            images_this_session += n;
            if (cb && cb->on_batch) {
                double dt = now_s() - t_epoch, ips = images_this_session / (dt > 0 ? dt : 1e-9);
                long left = (long)r.train.n - ts.seen;
                fer_batch_progress pr = {e + 1, o->epochs, b + 1, batches,
                                         ts.loss_sum / ts.seen, (double)ts.correct / ts.seen, ips,
                                         left > 0 ? left / ips : 0};
                cb->on_batch(cb->ctx, &pr);
            }
            if (o->stop && *o->stop && b + 1 < batches) {
                ts.seconds += now_s() - t_epoch;
                make_meta(meta, sizeof meta, o, recipe, e, NAN);
                if ((st = save_model(o->out_dir, "checkpoint.bin", m, norm, adam, &ts, meta, err)))
                    goto done;
                st = nn_fail(err, NN_ERR_INTERRUPTED,
                             "stopped at epoch %d batch %d/%d; checkpoint saved to %s "
                             "(continue with --resume)",
                             e + 1, b + 1, batches, ckpt_path);
                goto done;
            }
        }
        const double train_s = now_s() - t_epoch;
        fer_epoch_result res = {.epoch = e + 1, .epochs = o->epochs, .lr = lr,
                                .train_loss = ts.loss_sum / ts.seen,
                                .train_acc = (double)ts.correct / ts.seen};
        if ((st = evaluate(m, &r.ds, &r.val, norm, (fer_tta)o->tta, r.val_probs, &res.val_loss,
                           &res.val_acc, err)))
            goto done;
        ts.seconds += now_s() - t_epoch;
        res.seconds = now_s() - t_epoch;
        res.images_per_s = images_this_session / (train_s > 0 ? train_s : 1e-9);
        ts.epoch = e + 1;
        ts.batch = 0;
        ts.loss_sum = 0;
        ts.correct = ts.seen = 0;
        if (res.val_acc > ts.best_val_acc || ts.best_epoch == 0) {
            ts.best_val_acc = (float)res.val_acc;
            ts.best_epoch = e + 1;
            res.is_best = 1;
        }
        make_meta(meta, sizeof meta, o, recipe, e + 1, res.val_acc);
        /* Log first, checkpoint last: a crash in between leaves a log row the
         * resumed run drops and redoes, never a checkpoint without its row. */
        if ((st = log_append(&r.log, log_path, &res, err))) goto done;
        if (res.is_best && (st = save_model(o->out_dir, "best.bin", m, norm, NULL, NULL, meta, err)))
            goto done;
        if ((st = save_model(o->out_dir, "model.bin", m, norm, NULL, NULL, meta, err))) goto done;
        if ((st = save_model(o->out_dir, "checkpoint.bin", m, norm, adam, &ts, meta, err))) goto done;
        if (cb && cb->on_epoch) cb->on_epoch(cb->ctx, &res);
        if (o->stop && *o->stop && e + 1 < o->epochs) {
            st = nn_fail(err, NN_ERR_INTERRUPTED,
                         "stopped after epoch %d; checkpoint saved to %s (continue with --resume)",
                         e + 1, ckpt_path);
            goto done;
        }
    }
    info(cb, "done: best validation accuracy %.4f at epoch %d; models in %s (best.bin, model.bin)",
         ts.best_val_acc, ts.best_epoch, o->out_dir);
done:
    run_free(&r);
    return st;
}
