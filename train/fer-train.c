/* fer-train: trains the paper's DCNN (or another network) on a FER CSV. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/command_line.h"
#include "nn/model.h"
#include "export/predict.h"
#include "train/trainer.h"

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    if (stop_requested) _exit(130); /* a second Ctrl-C: give up at once */
    stop_requested = 1;
    static const char msg[] = "\nfer-train: stopping after this batch to save a checkpoint "
                              "(Ctrl-C again to quit without saving)\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fer-train [options] DATA.csv[.gz]\n"
            "       fer-train --summary [--arch DESC]\n"
            "\n"
            "Trains the DCNN of Iyer & Vojjala on a FER2013-style CSV (emotion,pixels,Usage).\n"
            "Defaults are the paper's recipe: 30 epochs, batch 64, Adam lr 0.001, dropout as\n"
            "in the architecture, flip + rotation augmentation, validation on PublicTest.\n"
            "\n"
            "  -o, --out DIR        output folder (default runs/dcnn): model.bin, best.bin,\n"
            "                       checkpoint.bin, log.csv\n"
            "  -e, --epochs N       epochs (default 30)\n"
            "  -b, --batch N        batch size (default 64)\n"
            "      --lr X           Adam learning rate (default 0.001)\n"
            "      --schedule S     constant (default) or cosine learning-rate decay\n"
            "      --warmup E       ramp the learning rate up linearly over the first E\n"
            "                       epochs (default 0)\n"
            "  -s, --seed N         random seed (default 1)\n"
            "  -j, --threads N      threads (default: all cores)\n"
            "      --no-flip        no random horizontal flips\n"
            "      --rotate DEG     random rotation in [-DEG, DEG] (default 10; 0 = off)\n"
            "      --zoom Z         random zoom by 1+z, z in [-Z, Z] (default 0 = off; <= 0.5)\n"
            "      --shift PX       random shift in [-PX, PX] pixels along each axis\n"
            "                       (default 0 = off; <= 16)\n"
            "      --label-smoothing E\n"
            "                       train towards 1-E+E/K on the label and E/K on the\n"
            "                       other K-1 classes (default 0: one-hot)\n"
            "      --val SPLIT      validation split (default PublicTest); if the file has\n"
            "                       none, a stratified hold-out of Training is used\n"
            "      --holdout F      fraction held out in that case (default 0.1)\n"
            "      --tta[=MODE]     validate with test-time augmentation: each image\n"
            "                       averaged with its mirror (MODE mirror, the default) or\n"
            "                       with 10 views (MODE shifts; see fer-eval --help)\n"
            "      --skip-bad-rows  leave malformed rows out (default: stop at the first)\n"
            "      --max-rows N     read only the first N rows (quick experiments)\n"
            "      --arch DESC      network description (default: the paper's DCNN)\n"
            "      --resume         continue from DIR/checkpoint.bin\n"
            "      --summary        print the network layer by layer and exit\n"
            "  -h, --help           this text\n"
            "\n"
            "Ctrl-C stops after the current batch and saves a checkpoint; --resume continues\n"
            "exactly where it stopped.\n");
}

typedef struct {
    int tty;
    double last_print;
} progress_state;

static void on_info(void *ctx, const char *msg)
{
    (void)ctx;
    printf("%s\n", msg);
    fflush(stdout);
}

static void on_batch(void *ctx, const fer_batch_progress *p)
{
    progress_state *s = ctx;
    if (!s->tty) return;
    const int width = 30;
    int filled = (int)((double)p->batch / p->batches * width);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    int eta = (int)(p->eta_s + 0.5);
    fprintf(stderr, "\repoch %d/%d [%s] %d/%d loss %.4f acc %.4f  %.0f img/s  ETA %d:%02d  ",
            p->epoch, p->epochs, bar, p->batch, p->batches, p->loss, p->acc, p->images_per_s,
            eta / 60, eta % 60);
    fflush(stderr);
}

static void on_epoch(void *ctx, const fer_epoch_result *r)
{
    progress_state *s = ctx;
    if (s->tty) fprintf(stderr, "\r%*s\r", 110, "");
    printf("epoch %d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  %.0f s  %.0f img/s%s\n",
           r->epoch, r->epochs, r->train_loss, r->train_acc, r->val_loss, r->val_acc, r->seconds,
           r->images_per_s, r->is_best ? "  (best)" : "");
    fflush(stdout);
}

static int parse_positive(const char *opt, const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1) {
        fprintf(stderr, "fer-train: %s needs a positive integer, got '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_float(const char *opt, const char *s, float *out)
{
    char *end;
    float v = strtof(s, &end);
    if (end == s || *end) {
        fprintf(stderr, "fer-train: %s needs a number, got '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    fer_train_opts o = fer_train_defaults();
    o.out_dir = "runs/dcnn";
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = cores > 0 ? (int)cores : 1;
    int summary = 0;
    enum { OPT_LR = 256, OPT_SCHEDULE, OPT_NO_FLIP, OPT_ROTATE, OPT_ZOOM, OPT_SHIFT, OPT_SMOOTH, OPT_WARMUP, OPT_VAL, OPT_HOLDOUT, OPT_TTA,
           OPT_SKIP, OPT_MAX_ROWS, OPT_ARCH, OPT_RESUME, OPT_SUMMARY };
    static const struct option longopts[] = {
        {"out", required_argument, 0, 'o'},       {"epochs", required_argument, 0, 'e'},
        {"batch", required_argument, 0, 'b'},     {"lr", required_argument, 0, OPT_LR},
        {"schedule", required_argument, 0, OPT_SCHEDULE},
        {"seed", required_argument, 0, 's'},      {"threads", required_argument, 0, 'j'},
        {"no-flip", no_argument, 0, OPT_NO_FLIP}, {"rotate", required_argument, 0, OPT_ROTATE},
        {"zoom", required_argument, 0, OPT_ZOOM},   {"shift", required_argument, 0, OPT_SHIFT},
        {"label-smoothing", required_argument, 0, OPT_SMOOTH},
        {"warmup", required_argument, 0, OPT_WARMUP},
        {"val", required_argument, 0, OPT_VAL},   {"holdout", required_argument, 0, OPT_HOLDOUT},
        {"tta", optional_argument, 0, OPT_TTA},         {"skip-bad-rows", no_argument, 0, OPT_SKIP},
        {"max-rows", required_argument, 0, OPT_MAX_ROWS},
        {"arch", required_argument, 0, OPT_ARCH}, {"resume", no_argument, 0, OPT_RESUME},
        {"summary", no_argument, 0, OPT_SUMMARY}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "o:e:b:s:j:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case 'e': if (parse_positive("--epochs", optarg, &v)) return 2; o.epochs = (int)v; break;
        case 'b': if (parse_positive("--batch", optarg, &v)) return 2; o.batch = (int)v; break;
        case 's': {
            char *end;
            o.seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end) {
                fprintf(stderr, "fer-train: --seed needs a non-negative integer\n");
                return 2;
            }
            break;
        }
        case 'j': if (parse_positive("--threads", optarg, &v)) return 2; o.threads = (int)v; break;
        case OPT_LR:
            if (parse_float("--lr", optarg, &o.lr)) return 2;
            if (!(o.lr > 0)) { fprintf(stderr, "fer-train: --lr must be positive\n"); return 2; }
            break;
        case OPT_SCHEDULE:
            if (!strcmp(optarg, "constant")) o.schedule = FER_LR_CONSTANT;
            else if (!strcmp(optarg, "cosine")) o.schedule = FER_LR_COSINE;
            else { fprintf(stderr, "fer-train: --schedule is constant or cosine\n"); return 2; }
            break;
        case OPT_NO_FLIP: o.aug.flip = 0; break;
        case OPT_ROTATE: if (parse_float("--rotate", optarg, &o.aug.max_deg)) return 2; break;
        case OPT_ZOOM: if (parse_float("--zoom", optarg, &o.aug.max_zoom)) return 2; break;
        case OPT_SHIFT: if (parse_float("--shift", optarg, &o.aug.max_shift)) return 2; break;
        case OPT_WARMUP: if (parse_float("--warmup", optarg, &o.warmup_epochs)) return 2; break;
        case OPT_SMOOTH:
            if (parse_float("--label-smoothing", optarg, &o.label_smoothing)) return 2;
            break;
        case OPT_VAL: o.val_split = optarg; break;
        case OPT_HOLDOUT: if (parse_float("--holdout", optarg, &o.holdout)) return 2; break;
        case OPT_TTA:
            o.tta = fer_tta_parse(optarg);
            if (o.tta < 0) {
                fprintf(stderr, "fer-train: --tta is --tta, --tta=mirror or --tta=shifts\n");
                return 2;
            }
            break;
        case OPT_SKIP: o.skip_bad_rows = 1; break;
        case OPT_MAX_ROWS: if (parse_positive("--max-rows", optarg, &v)) return 2; o.max_rows = v; break;
        case OPT_ARCH: o.arch = optarg; break;
        case OPT_RESUME: o.resume = 1; break;
        case OPT_SUMMARY: summary = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    nn_error err = {0};
    if (summary) {
        nn_arch arch;
        if (nn_arch_parse(o.arch, &arch, &err)) {
            fprintf(stderr, "fer-train: --arch: %s\n", err.msg);
            return 2;
        }
        nn_model *m = nn_model_create(&arch, 1, NN_NO_GRADS, &err);
        if (!m) {
            fprintf(stderr, "fer-train: %s\n", err.msg);
            return 2;
        }
        nn_model_summary(m, stdout);
        nn_model_free(m);
        return 0;
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    o.data_path = argv[optind];

    /* The exact command, recorded in the model's metadata. */
    char command[4096];
    nn_command_line(command, sizeof command, argc, argv);
    o.command = command;

    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    o.stop = &stop_requested;

    progress_state ps = {.tty = isatty(STDERR_FILENO)};
    fer_train_callbacks cb = {on_info, on_batch, on_epoch, &ps};
    nn_status st = fer_train_run(&o, &cb, &err);
    if (ps.tty) fprintf(stderr, "\n");
    if (st == NN_ERR_INTERRUPTED) {
        fprintf(stderr, "fer-train: %s\n", err.msg);
        return 130;
    }
    if (st) {
        fprintf(stderr, "fer-train: %s\n", err.msg);
        return 1;
    }
    return 0;
}
