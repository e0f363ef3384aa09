/* fer-eval: accuracy, confusion matrix and classification report of a model
 * on a FER CSV, as text, JSON, CSV and a heatmap PNG. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/fer_dataset.h"
#include "eval/heatmap.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "export/model_file.h"
#include "export/predict.h"
#include "nn/command_line.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fer-eval [options] MODEL.bin DATA.csv[.gz]\n"
            "\n"
            "Measures a model on a FER2013-style CSV: accuracy, the confusion matrix\n"
            "(counts and row-normalised) and per-class precision, recall, F1 and support\n"
            "with macro and weighted averages (the layout of the paper's Fig. 6).\n"
            "\n"
            "  -u, --usage NAME   evaluate one split: Training, PublicTest or PrivateTest\n"
            "                     (default: every row)\n"
            "  -o, --out DIR      also write DIR/report.txt, metrics.json, confusion.csv,\n"
            "                     confusion_normalised.csv and confusion.png (+ confusion.gp)\n"
            "      --tta[=MODE]   test-time augmentation: average the probabilities of\n"
            "                     views of each face; MODE mirror (default: the image and\n"
            "                     its mirror) or shifts (those two, each also moved 2 px\n"
            "                     left, right, up and down: 10 views)\n"
            "      --title TEXT   heatmap title (default: \"<model> on <split>\")\n"
            "  -j, --threads N    threads (default: all cores)\n"
            "      --skip-bad-rows  leave malformed rows out (default: stop at the first)\n"
            "  -h, --help         this text\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int fail(const char *msg)
{
    fprintf(stderr, "fer-eval: %s\n", msg);
    return 1;
}

int main(int argc, char **argv)
{
    const char *usage_name = NULL, *out_dir = NULL, *title = NULL;
    int tta = 0, skip_bad = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores > 0 ? (int)cores : 1;
    enum { OPT_TTA = 256, OPT_TITLE, OPT_SKIP };
    static const struct option longopts[] = {
        {"usage", required_argument, 0, 'u'}, {"out", required_argument, 0, 'o'},
        {"tta", optional_argument, 0, OPT_TTA},     {"title", required_argument, 0, OPT_TITLE},
        {"threads", required_argument, 0, 'j'}, {"skip-bad-rows", no_argument, 0, OPT_SKIP},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "u:o:j:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u': usage_name = optarg; break;
        case 'o': out_dir = optarg; break;
        case OPT_TTA:
            tta = fer_tta_parse(optarg);
            if (tta < 0) return fail("--tta is --tta, --tta=mirror or --tta=shifts");
            break;
        case OPT_TITLE: title = optarg; break;
        case OPT_SKIP: skip_bad = 1; break;
        case 'j':
            threads = atoi(optarg);
            if (threads < 1) return fail("--threads needs a positive integer");
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 2) {
        usage(stderr);
        return 2;
    }
    const char *model_path = argv[optind], *data_path = argv[optind + 1];
    nn_error err = {0};

    fer_split split = FER_SPLIT_TRAINING;
    if (usage_name && fer_split_parse(usage_name, &split, &err)) return fail(err.msg);

    fer_model_file mf;
    if (fer_model_load(model_path, 256, NN_NO_GRADS, &mf, &err)) return fail(err.msg);
    if (nn_graph_set_threads(mf.net->graph, threads, &err)) {
        fer_model_file_free(&mf);
        return fail(err.msg);
    }

    fer_dataset ds;
    fer_load_opts lo = {.skip_bad_rows = skip_bad};
    fer_load_report rep;
    int rc = 1;
    fer_indices idx = {0};
    float *probs = NULL;
    int *labels = NULL;
    fer_metrics m = {0};
    if (fer_dataset_load(&ds, data_path, &lo, &rep, &err)) {
        fer_model_file_free(&mf);
        return fail(err.msg);
    }
    if (rep.rows_skipped) fprintf(stderr, "fer-eval: skipped %ld bad rows\n", rep.rows_skipped);
    if (ds.h != mf.norm.h || ds.w != mf.norm.w) {
        fprintf(stderr, "fer-eval: %s has %dx%d images but %s expects %dx%d\n", data_path, ds.h,
                ds.w, model_path, mf.norm.h, mf.norm.w);
        goto done;
    }
    if (usage_name && !ds.has_usage) {
        fprintf(stderr, "fer-eval: %s has no Usage column, so --usage %s cannot select rows\n",
                data_path, usage_name);
        goto done;
    }
    if (usage_name ? fer_split_indices(&ds, split, &idx, &err) : fer_all_indices(&ds, &idx, &err)) {
        fprintf(stderr, "fer-eval: %s\n", err.msg);
        goto done;
    }
    if (idx.n == 0) {
        fprintf(stderr, "fer-eval: %s has no %s rows\n", data_path, usage_name ? usage_name : "");
        goto done;
    }
    for (uint32_t i = 0; i < idx.n; i++)
        if (ds.labels[idx.idx[i]] >= mf.n_classes) {
            fprintf(stderr, "fer-eval: %s:%u: label %d, but the model has %d classes\n", data_path,
                    ds.lines[idx.idx[i]], ds.labels[idx.idx[i]], mf.n_classes);
            goto done;
        }

    const int K = mf.n_classes;
    probs = malloc((size_t)idx.n * K * sizeof *probs);
    labels = malloc((size_t)idx.n * sizeof *labels);
    if (!probs || !labels) {
        fprintf(stderr, "fer-eval: out of memory\n");
        goto done;
    }
    double t0 = now_s();
    if (fer_predict_rows(mf.net, &mf.norm, &ds, idx.idx, idx.n, (fer_tta)tta, probs, &err)) {
        fprintf(stderr, "fer-eval: %s\n", err.msg);
        goto done;
    }
    double secs = now_s() - t0;
    for (uint32_t i = 0; i < idx.n; i++) labels[i] = ds.labels[idx.idx[i]];

    const char *names[FER_MAX_CLASSES];
    for (int k = 0; k < K; k++) names[k] = mf.class_names[k];
    if (fer_metrics_compute(&m, K, names, idx.n, labels, probs, &err)) {
        fprintf(stderr, "fer-eval: %s\n", err.msg);
        goto done;
    }
    char command[4096];
    nn_command_line(command, sizeof command, argc, argv);
    const fer_report_kv tta_mode[] = {{"tta_mode", fer_tta_name((fer_tta)tta)}};
    fer_report_meta meta = {.model_path = model_path, .data_path = data_path,
                            .split = usage_name ? usage_name : "all rows", .tta = tta,
                            .extra = tta ? tta_mode : NULL, .n_extra = tta ? 1 : 0,
                            .command = command};
    if (fer_report_text(stdout, &m, &meta, 4, &err)) {
        fprintf(stderr, "fer-eval: %s\n", err.msg);
        goto done;
    }
    fprintf(stderr, "fer-eval: %u images in %.2f s (%.0f images/s, %d threads%s)\n", idx.n, secs,
            idx.n / secs, threads, tta == FER_TTA_SHIFTS ? ", with 10-view TTA" : tta ? ", with mirror TTA" : "");

    if (out_dir) {
        if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "fer-eval: %s: cannot create: %s\n", out_dir, strerror(errno));
            goto done;
        }
        char path[4096], script[4096], default_title[512];
        snprintf(path, sizeof path, "%s/report.txt", out_dir);
        if (fer_report_write_text(path, &m, &meta, 4, &err)) goto io_fail;
        snprintf(path, sizeof path, "%s/metrics.json", out_dir);
        if (fer_report_write_json(path, &m, &meta, &err)) goto io_fail;
        snprintf(path, sizeof path, "%s/confusion.csv", out_dir);
        if (fer_report_write_confusion_csv(path, &m, 0, &err)) goto io_fail;
        snprintf(path, sizeof path, "%s/confusion_normalised.csv", out_dir);
        if (fer_report_write_confusion_csv(path, &m, 1, &err)) goto io_fail;
        if (!title) {
            const char *base = strrchr(model_path, '/');
            snprintf(default_title, sizeof default_title, "%s on %s%s", base ? base + 1 : model_path,
                     usage_name ? usage_name : "all rows",
                     tta == FER_TTA_SHIFTS ? " (10-view TTA)" : tta ? " (mirror TTA)" : "");
            title = default_title;
        }
        snprintf(path, sizeof path, "%s/confusion.png", out_dir);
        snprintf(script, sizeof script, "%s/confusion.gp", out_dir);
        fer_heatmap_options ho = {.title = title, .script_path = script};
        nn_status hs = fer_heatmap_png(path, &m, &ho, &err);
        if (hs == NN_ERR_UNSUPPORTED) fprintf(stderr, "fer-eval: no heatmap: %s\n", err.msg);
        else if (hs) goto io_fail;
        fprintf(stderr, "fer-eval: wrote %s/{report.txt,metrics.json,confusion.csv,"
                        "confusion_normalised.csv,confusion.png}\n", out_dir);
    }
    rc = 0;
    goto done;
io_fail:
    fprintf(stderr, "fer-eval: %s\n", err.msg);
done:
    fer_metrics_free(&m);
    free(probs);
    free(labels);
    fer_indices_free(&idx);
    fer_dataset_free(&ds);
    fer_model_file_free(&mf);
    return rc;
}
