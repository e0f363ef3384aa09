/* fer-export: model files to and from Keras 2.x (fer.json + fer.h5). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export/keras.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fer-export MODEL.bin --keras DIR [--no-normalization-layer]\n"
            "       fer-export --from-keras FER.json FER.h5 -o MODEL.bin [options]\n"
            "       fer-export --from-keras KERAS_MODEL.h5 -o MODEL.bin [options]\n"
            "\n"
            "Converts between the toolkit's model file and Keras 2.x (docs/model-format.md).\n"
            "\n"
            "  --keras DIR           write DIR/fer.json (the Sequential model, for\n"
            "                        keras.models.model_from_json) and DIR/fer.h5 (its\n"
            "                        weights, for model.load_weights); DIR is created if\n"
            "                        missing. A Normalization layer placed first carries the\n"
            "                        per-pixel statistics, so the Keras model takes raw grey\n"
            "                        levels 0..255. The export is read back and checked.\n"
            "  --no-normalization-layer\n"
            "                        the paper's layer list alone (for Keras before 2.7); the\n"
            "                        statistics then travel in fer.h5's /fer_standardization,\n"
            "                        which Keras ignores: Keras callers standardise inputs\n"
            "  --from-keras          read a Keras Sequential (JSON + weights, or a full-model\n"
            "                        file from model.save()) of Conv2D, MaxPooling2D, Dropout,\n"
            "                        Flatten, Dense, Activation, Normalization, Rescaling layers\n"
            "  -o, --out FILE        the model file to write (with --from-keras)\n"
            "  --stats-from FILE     take the per-pixel statistics from another model file\n"
            "                        (when the Keras model carries none, or to replace them)\n"
            "  --divide-by X         statistics: mean 0 and std X at every pixel (e.g. 255\n"
            "                        for a model trained on images divided by 255)\n"
            "  --classes A,B,...     class names in output order (default: those stored in\n"
            "                        fer.h5, else the seven FER2013 names)\n"
            "  -h, --help            this text\n");
}

static int fail(const char *msg)
{
    fprintf(stderr, "fer-export: %s\n", msg);
    return 1;
}

/* mkdir -p */
static int make_dirs(const char *dir, char *msg, size_t size)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(msg, size, "%s: path too long", dir);
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        struct stat sb;
        if (mkdir(path, 0777) != 0 && (errno != EEXIST || stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
            snprintf(msg, size, "%s: cannot create directory: %s", path, errno == EEXIST ? "a file is in the way" : strerror(errno));
            return -1;
        }
        if (!c) return 0;
        *p = c;
    }
}

/* The deployable bytes of a model file (what export must give back). */
static nn_status deployable_bytes(fer_model_file *mf, uint8_t **data, size_t *len, nn_error *err)
{
    const char *names[FER_MAX_CLASSES];
    for (int k = 0; k < mf->n_classes; k++) names[k] = mf->class_names[k];
    fer_model_contents c = {.net = mf->net, .norm = &mf->norm, .n_classes = mf->n_classes,
                            .class_names = names, .meta = mf->meta};
    return fer_model_serialize(&c, data, len, err);
}

static int export_keras(const char *model_path, const char *dir, int no_norm)
{
    nn_error err = {0};
    char msg[4400], json_path[4200], h5_path[4200];
    if (make_dirs(dir, msg, sizeof msg)) return fail(msg);
    snprintf(json_path, sizeof json_path, "%s/fer.json", dir);
    snprintf(h5_path, sizeof h5_path, "%s/fer.h5", dir);

    fer_model_file mf, back;
    if (fer_model_load(model_path, 1, NN_NO_GRADS, &mf, &err)) return fail(err.msg);
    const char *names[FER_MAX_CLASSES];
    for (int k = 0; k < mf.n_classes; k++) names[k] = mf.class_names[k];
    fer_model_contents c = {.net = mf.net, .norm = &mf.norm, .n_classes = mf.n_classes,
                            .class_names = names, .meta = mf.meta};
    fer_keras_export_opts opts = {.no_normalization_layer = no_norm};
    int rc = 1;
    uint8_t *want = NULL, *got = NULL;
    size_t want_len = 0, got_len = 0;
    if (fer_keras_export(&c, json_path, h5_path, &opts, &err)) {
        fail(err.msg);
        goto done;
    }
    /* Read the pair back: the export is only done if it gives back this model. */
    if (fer_keras_import(json_path, h5_path, 1, &back, NULL, &err)) {
        fprintf(stderr, "fer-export: reading the export back failed: %s\n", err.msg);
        goto done;
    }
    nn_status st = deployable_bytes(&mf, &want, &want_len, &err);
    if (!st) st = deployable_bytes(&back, &got, &got_len, &err);
    fer_model_file_free(&back);
    if (st) {
        fail(err.msg);
        goto done;
    }
    if (want_len != got_len || memcmp(want, got, want_len)) {
        fprintf(stderr, "fer-export: %s + %s do not read back as %s (a bug: please report it)\n", json_path,
                h5_path, model_path);
        goto done;
    }
    printf("wrote %s and %s: %zu weights in %d layers%s; reads back bit-identical\n", json_path, h5_path,
           nn_model_param_count(mf.net), mf.net->arch.n_layers,
           no_norm ? " (statistics in /fer_standardization)" : ", a Normalization layer first");
    if (mf.kind == FER_FILE_CHECKPOINT) printf("(a checkpoint: optimiser and training state are not exported)\n");
    rc = 0;
done:
    free(want);
    free(got);
    fer_model_file_free(&mf);
    return rc;
}

/* Splits "a,b,c" into mf's class names. */
static int set_classes(fer_model_file *mf, const char *list, char *msg, size_t size)
{
    int k = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (k == mf->n_classes) {
            snprintf(msg, size, "--classes: more names than the model's %d outputs", mf->n_classes);
            return -1;
        }
        if (len == 0 || len >= FER_CLASS_NAME_MAX) {
            snprintf(msg, size, "--classes: name %d must be 1..%d characters", k + 1, FER_CLASS_NAME_MAX - 1);
            return -1;
        }
        memcpy(mf->class_names[k], p, len);
        mf->class_names[k++][len] = '\0';
        if (!end) break;
        p = end + 1;
    }
    if (k != mf->n_classes) {
        snprintf(msg, size, "--classes: %d names for the model's %d outputs", k, mf->n_classes);
        return -1;
    }
    return 0;
}

typedef struct {
    const char *json, *h5, *out, *stats_from, *classes;
    double divide_by;
} import_args;

static int import_keras(const import_args *a)
{
    nn_error err = {0};
    char msg[512];
    fer_model_file mf;
    fer_keras_import_info info;
    if (fer_keras_import(a->json, a->h5, 1, &mf, &info, &err)) return fail(err.msg);
    const char *src = a->json ? a->json : a->h5;
    int rc = 1;
    const size_t px = (size_t)mf.norm.h * mf.norm.w;
    if (a->stats_from) {
        fer_model_file other;
        if (fer_model_load(a->stats_from, 1, NN_NO_GRADS, &other, &err)) {
            fail(err.msg);
            goto done;
        }
        if (other.norm.h != mf.norm.h || other.norm.w != mf.norm.w) {
            fprintf(stderr, "fer-export: %s has %dx%d statistics, %s takes %dx%d images\n", a->stats_from,
                    other.norm.h, other.norm.w, src, mf.norm.h, mf.norm.w);
            fer_model_file_free(&other);
            goto done;
        }
        if (info.stats != FER_KERAS_STATS_NONE)
            fprintf(stderr, "fer-export: note: replacing the statistics %s carries with those of %s\n", src,
                    a->stats_from);
        memcpy(mf.norm.mean, other.norm.mean, px * sizeof(float));
        memcpy(mf.norm.std, other.norm.std, px * sizeof(float));
        fer_model_file_free(&other);
    } else if (a->divide_by > 0) {
        if (info.stats != FER_KERAS_STATS_NONE)
            fprintf(stderr, "fer-export: note: replacing the statistics %s carries with --divide-by\n", src);
        for (size_t i = 0; i < px; i++) {
            mf.norm.mean[i] = 0.0f;
            mf.norm.std[i] = (float)a->divide_by;
        }
    } else if (info.stats == FER_KERAS_STATS_NONE) {
        fprintf(stderr, "fer-export: warning: %s carries no standardisation (no Normalization or Rescaling "
                "layer, no /fer_standardization); the model will see raw grey levels 0..255. If it was "
                "trained on standardised or scaled images, give --stats-from MODEL.bin or --divide-by X.\n",
                src);
    }
    if (a->classes && set_classes(&mf, a->classes, msg, sizeof msg)) {
        fail(msg);
        goto done;
    }
    if (!a->classes && !info.class_names_stored)
        fprintf(stderr, "fer-export: note: no class names stored; using %s (--classes to set them)\n",
                mf.n_classes == 7 ? "the seven FER2013 names" : "class_0, class_1, ...");
    if (!info.softmax_output)
        fprintf(stderr, "fer-export: note: the Keras model outputs logits; fer models add a softmax "
                "(same ranking of classes)\n");
    const char *names[FER_MAX_CLASSES];
    for (int k = 0; k < mf.n_classes; k++) names[k] = mf.class_names[k];
    fer_model_contents c = {.net = mf.net, .norm = &mf.norm, .n_classes = mf.n_classes,
                            .class_names = names, .meta = mf.meta};
    if (fer_model_save(a->out, &c, &err)) {
        fail(err.msg);
        goto done;
    }
    char arch[4096];
    nn_arch_format(&mf.net->arch, arch, sizeof arch);
    printf("wrote %s: %zu weights, %d classes\narchitecture: %s\n", a->out, nn_model_param_count(mf.net),
           mf.n_classes, arch);
    rc = 0;
done:
    fer_model_file_free(&mf);
    return rc;
}

int main(int argc, char **argv)
{
    const char *keras_dir = NULL;
    int from_keras = 0, no_norm = 0;
    import_args ia = {0};
    enum { OPT_KERAS = 256, OPT_FROM, OPT_NONORM, OPT_STATS, OPT_DIV, OPT_CLASSES };
    static const struct option longopts[] = {
        {"keras", required_argument, 0, OPT_KERAS},
        {"from-keras", no_argument, 0, OPT_FROM},
        {"no-normalization-layer", no_argument, 0, OPT_NONORM},
        {"out", required_argument, 0, 'o'},
        {"stats-from", required_argument, 0, OPT_STATS},
        {"divide-by", required_argument, 0, OPT_DIV},
        {"classes", required_argument, 0, OPT_CLASSES},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_KERAS: keras_dir = optarg; break;
        case OPT_FROM: from_keras = 1; break;
        case OPT_NONORM: no_norm = 1; break;
        case 'o': ia.out = optarg; break;
        case OPT_STATS: ia.stats_from = optarg; break;
        case OPT_DIV:
            ia.divide_by = strtod(optarg, &end);
            if (end == optarg || *end || !(ia.divide_by > 0) || ia.divide_by > 1e30)
                return fail("--divide-by needs a positive number");
            break;
        case OPT_CLASSES: ia.classes = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const int n_pos = argc - optind;
    if (keras_dir && !from_keras) {
        if (n_pos != 1 || ia.out || ia.stats_from || ia.divide_by > 0 || ia.classes) {
            usage(stderr);
            return 2;
        }
        return export_keras(argv[optind], keras_dir, no_norm);
    }
    if (from_keras && !keras_dir) {
        if (n_pos < 1 || n_pos > 2 || !ia.out || no_norm) {
            usage(stderr);
            return 2;
        }
        if (ia.stats_from && ia.divide_by > 0) return fail("--stats-from and --divide-by exclude each other");
        ia.json = n_pos == 2 ? argv[optind] : NULL;
        ia.h5 = argv[optind + n_pos - 1];
        return import_keras(&ia);
    }
    usage(stderr);
    return 2;
}
