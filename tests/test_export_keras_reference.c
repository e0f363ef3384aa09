/* Our inference against an independent NumPy forward pass with Keras'
 * semantics (scripts/keras_reference.py) over the exported fer.h5, on face
 * crops: max |difference| of the class probabilities <= 1e-5. That the
 * weights go across unpermuted is what this proves: a channels-first layout
 * mistake (the first dense layer's rows in (c, h, w) order) is shown below
 * to miss by far more.
 *
 * Fixtures (tests/fixtures/keras/README.md): small/ is a small network of our
 * own, exported; keras2/ a model written the way Keras itself writes one.
 * FER_KERAS_REFERENCE_DIR=DIR runs the first tests on another directory
 * holding model.bin, fer.json, fer.h5 and reference.bin (e.g. a trained DCNN).
 */
#include <math.h>

#include "export/keras.h"
#include "test_export_keras_helpers.h"

#define TOLERANCE 1e-5

typedef struct {
    int n, h, w, k;
    uint8_t *images;
    double *probs;
} reference;

static void reference_load(const char *dir, reference *r)
{
    char path[512];
    path_in(path, sizeof path, dir, "reference.bin");
    size_t len;
    char *data = test_read_file(path, &len);
    cr_assert(len >= 24 && memcmp(data, "FERKREF1", 8) == 0, "%s: not a reference file", path);
    uint32_t hdr[4];
    memcpy(hdr, data + 8, sizeof hdr);
    r->n = (int)hdr[0], r->h = (int)hdr[1], r->w = (int)hdr[2], r->k = (int)hdr[3];
    size_t px = (size_t)r->n * r->h * r->w, np = (size_t)r->n * r->k;
    cr_assert_eq(len, 24 + px + 8 * np, "%s: size", path);
    r->images = malloc(px);
    r->probs = malloc(np * sizeof *r->probs);
    memcpy(r->images, data + 24, px);
    memcpy(r->probs, data + 24 + px, np * sizeof *r->probs);
    free(data);
}

static void reference_free(reference *r)
{
    free(r->images);
    free(r->probs);
}

/* max |ours - reference| over all images and classes */
static double max_diff(fer_model_file *mf, const reference *r)
{
    cr_assert_eq(mf->norm.h, r->h);
    cr_assert_eq(mf->norm.w, r->w);
    cr_assert_eq(mf->n_classes, r->k);
    float *scratch = malloc(fer_model_scratch_floats(mf, r->n) * sizeof(float));
    float *probs = malloc((size_t)r->n * r->k * sizeof(float));
    nn_error err = {0};
    cr_assert_eq(fer_model_classify_u8(mf, r->images, r->n, scratch, probs, &err), NN_OK, "%s", err.msg);
    double worst = 0;
    for (int i = 0; i < r->n * r->k; i++) worst = fmax(worst, fabs(probs[i] - r->probs[i]));
    free(scratch);
    free(probs);
    return worst;
}

static const char *main_dir(void)
{
    const char *d = getenv("FER_KERAS_REFERENCE_DIR");
    return d && *d ? d : "tests/fixtures/keras/small";
}

Test(keras_reference, our_inference_matches_numpy_keras_semantics)
{
    const char *dir = main_dir();
    char path[512];
    path_in(path, sizeof path, dir, "model.bin");
    reference r;
    reference_load(dir, &r);
    fer_model_file mf;
    nn_error err = {0};
    cr_assert_eq(fer_model_load(path, 4, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    double d = max_diff(&mf, &r);
    fprintf(stderr, "keras_reference: %s: %d images, max |p_ours - p_numpy| = %.3g\n", dir, r.n, d);
    cr_expect_leq(d, TOLERANCE, "max difference %.3g", d);
    fer_model_file_free(&mf);
    reference_free(&r);
}

/* The negative control: feed the first dense layer its rows as a
 * channels-first engine would read Keras' kernel, (c, h, w) instead of
 * (h, w, c). If this still matched, the test above would prove nothing. */
Test(keras_reference, a_channels_first_flatten_order_would_fail)
{
    const char *dir = main_dir();
    char path[512];
    path_in(path, sizeof path, dir, "model.bin");
    reference r;
    reference_load(dir, &r);
    fer_model_file mf;
    nn_error err = {0};
    cr_assert_eq(fer_model_load(path, 4, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    nn_model *m = mf.net;
    int flat = -1;
    for (int i = 0; i < m->arch.n_layers && flat < 0; i++)
        if (m->arch.layers[i].kind == NN_LAYER_FLATTEN) flat = i;
    cr_assert_geq(flat, 1);
    const nn_node *map = m->layer_out[flat - 1];
    const int H = map->shape[1], W = map->shape[2], C = map->shape[3];
    nn_node *k = m->layer_kernel[flat + 1] ? m->layer_kernel[flat + 1] : m->layer_kernel[flat + 2];
    cr_assert_not_null(k);
    const int units = k->shape[1];
    float *orig = malloc(k->size * sizeof *orig);
    memcpy(orig, k->value, k->size * sizeof *orig);
    for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++)
            for (int c = 0; c < C; c++)
                memcpy(k->value + ((size_t)(h * W + w) * C + c) * units,
                       orig + ((size_t)(c * H + h) * W + w) * units, units * sizeof *orig);
    double d = max_diff(&mf, &r);
    fprintf(stderr, "keras_reference: channels-first rows would miss by %.3g\n", d);
    cr_expect_gt(d, 1000 * TOLERANCE, "a wrong layout must be caught (difference only %.3g)", d);
    free(orig);
    fer_model_file_free(&mf);
    reference_free(&r);
}

/* The committed Keras pair reads back as the committed model file: the
 * reader keeps accepting what earlier exports wrote. */
Test(keras_reference, committed_pair_imports_to_the_committed_model)
{
    const char *dir = main_dir();
    char json[512], h5[512], bin[512];
    path_in(json, sizeof json, dir, "fer.json");
    path_in(h5, sizeof h5, dir, "fer.h5");
    path_in(bin, sizeof bin, dir, "model.bin");
    fer_model_file mf, want;
    nn_error err = {0};
    cr_assert_eq(fer_keras_import(json, h5, 1, &mf, NULL, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_model_load(bin, 1, NN_NO_GRADS, &want, &err), NN_OK, "%s", err.msg);
    uint8_t *a, *b;
    size_t alen, blen;
    deployable_bytes(&mf, &a, &alen);
    deployable_bytes(&want, &b, &blen);
    cr_assert(alen == blen && memcmp(a, b, alen) == 0, "the imported model differs from model.bin");
    free(a);
    free(b);
    fer_model_file_free(&mf);
    fer_model_file_free(&want);
}

/* ---- a model as Keras writes it ------------------------------------------------ */

#define KERAS2 "tests/fixtures/keras/keras2"

static void check_keras2(fer_model_file *mf, const fer_keras_import_info *info)
{
    char arch[1024];
    nn_arch_format(&mf->net->arch, arch, sizeof arch);
    cr_expect_str_eq(arch,
                     "input(48,48,1) conv(4,3,same,relu) conv(6,2,relu) maxpool(2) dropout(0.25) "
                     "conv(8,3,relu) maxpool(2) flatten dense(16,relu) dense(7)",
                     "ReLU and Activation layers fold into the layer before");
    cr_expect_eq(info->stats, FER_KERAS_STATS_LAYERS);
    cr_expect_eq(info->class_names_stored, 0);
    cr_expect_str_eq(mf->class_names[0], "angry");
    cr_expect_str_eq(mf->class_names[6], "neutral");
    cr_expect(info->softmax_output);
    cr_expect_not_null(strstr(mf->meta, "converted from Keras"));
    /* conv2d_1 has no bias in Keras: zeros here */
    const nn_node *b = mf->net->layer_bias[1];
    for (size_t i = 0; i < b->size; i++) cr_expect_eq(b->value[i], 0.0f);
    /* Rescaling(1/255) then Normalization(mean 0.52, var 0.061) per pixel */
    cr_expect_float_eq(mf->norm.mean[0], 0.52f * 255.0f, 1e-3);
    cr_expect_float_eq(mf->norm.std[100], sqrtf(0.061f) * 255.0f, 1e-3);
    reference r;
    reference_load(KERAS2, &r);
    double d = max_diff(mf, &r);
    fprintf(stderr, "keras_reference: keras2: max |p_ours - p_numpy| = %.3g\n", d);
    cr_expect_leq(d, TOLERANCE, "max difference %.3g", d);
    reference_free(&r);
}

Test(keras_reference, keras_written_pair_matches_numpy)
{
    fer_model_file mf;
    fer_keras_import_info info;
    nn_error err = {0};
    cr_assert_eq(fer_keras_import(KERAS2 "/fer.json", KERAS2 "/fer.h5", 4, &mf, &info, &err), NN_OK, "%s",
                 err.msg);
    check_keras2(&mf, &info);
    fer_model_file_free(&mf);
}

Test(keras_reference, keras_full_model_file_matches_numpy)
{
    fer_model_file mf;
    fer_keras_import_info info;
    nn_error err = {0};
    cr_assert_eq(fer_keras_import(NULL, KERAS2 "/model.h5", 4, &mf, &info, &err), NN_OK, "%s", err.msg);
    check_keras2(&mf, &info);
    fer_model_file_free(&mf);
}

/* Exporting the committed model today writes the committed description,
 * byte for byte: changes to the JSON writer are deliberate (regenerate the
 * fixture, README.md beside it). */
Test(keras_reference, export_writes_the_committed_json)
{
    const char *dir = "tests/fixtures/keras/small";
    char bin[512], json[512], out_json[512], out_h5[512];
    path_in(bin, sizeof bin, dir, "model.bin");
    path_in(json, sizeof json, dir, "fer.json");
    char *tmp = scratch_dir();
    path_in(out_json, sizeof out_json, tmp, "fer.json");
    path_in(out_h5, sizeof out_h5, tmp, "fer.h5");
    fer_model_file mf;
    nn_error err = {0};
    cr_assert_eq(fer_model_load(bin, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    const char *names[FER_MAX_CLASSES];
    for (int k = 0; k < mf.n_classes; k++) names[k] = mf.class_names[k];
    fer_model_contents c = {.net = mf.net, .norm = &mf.norm, .n_classes = mf.n_classes, .class_names = names,
                            .meta = mf.meta};
    cr_assert_eq(fer_keras_export(&c, out_json, out_h5, NULL, &err), NN_OK, "%s", err.msg);
    char *want = test_read_file(json, NULL), *got = test_read_file(out_json, NULL);
    cr_expect_str_eq(got, want);
    free(want);
    free(got);
    fer_model_file_free(&mf);
    scratch_remove(tmp);
}
