/* The model file: round trip, and rejection of truncated, bit-flipped,
 * foreign and inconsistent files -- never a crash, never a half-loaded model. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "export/model_file.h"

#define ARCH "input(6,6,1) conv(3,3,relu) maxpool(2) flatten dense(5,relu) dropout(0.1) dense(7)"

static const char *NAMES[7] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

typedef struct {
    nn_model *net;
    fer_standardizer norm;
    nn_adam adam;
    fer_train_state ts;
} fixture;

static void make_fixture(fixture *f)
{
    nn_arch arch;
    nn_error err = {0};
    cr_assert_eq(nn_arch_parse(ARCH, &arch, &err), NN_OK, "%s", err.msg);
    f->net = nn_model_create(&arch, 4, NN_NO_GRADS, &err);
    cr_assert_not_null(f->net, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    nn_model_init_glorot(f->net, &rng);
    float *p = nn_graph_params(f->net->graph);
    for (size_t i = 0; i < nn_model_param_count(f->net); i++) p[i] += 0.01f * (float)(i % 7);
    cr_assert_eq(fer_standardizer_alloc(&f->norm, 6, 6, &err), NN_OK);
    for (int i = 0; i < 36; i++) {
        f->norm.mean[i] = 100.0f + i;
        f->norm.std[i] = 50.0f + 0.5f * i;
    }
    cr_assert_eq(nn_adam_init(&f->adam, nn_model_param_count(f->net), &err), NN_OK);
    f->adam.t = 42;
    for (size_t i = 0; i < f->adam.n; i++) {
        f->adam.m[i] = 0.001f * (float)i;
        f->adam.v[i] = 0.0001f * (float)i;
    }
    f->ts = (fer_train_state){.epoch = 3, .batch = 17, .best_epoch = 2, .best_val_acc = 0.5f,
                              .seed = 99, .loss_sum = 12.5, .correct = 40, .seen = 100,
                              .seconds = 3.25};
    snprintf(f->ts.recipe, sizeof f->ts.recipe, "batch=64 lr=0.001");
}

static void free_fixture(fixture *f)
{
    nn_model_free(f->net);
    fer_standardizer_free(&f->norm);
    nn_adam_free(&f->adam);
}

static void serialize(fixture *f, int checkpoint, uint8_t **data, size_t *len)
{
    fer_model_contents c = {.net = f->net, .norm = &f->norm, .n_classes = 7, .class_names = NAMES,
                            .adam = checkpoint ? &f->adam : NULL,
                            .train = checkpoint ? &f->ts : NULL, .meta = "made by: test\n"};
    nn_error err = {0};
    cr_assert_eq(fer_model_serialize(&c, data, len, &err), NN_OK, "%s", err.msg);
}

Test(model_file, checkpoint_round_trip_is_bit_identical)
{
    fixture f;
    make_fixture(&f);
    uint8_t *data;
    size_t len;
    serialize(&f, 1, &data, &len);
    fer_model_file mf;
    nn_error err = {0};
    cr_assert_eq(fer_model_parse(data, len, "mem", 2, NN_WITH_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(mf.kind, FER_FILE_CHECKPOINT);
    size_t n = nn_model_param_count(f.net);
    cr_assert_eq(memcmp(nn_graph_params(mf.net->graph), nn_graph_params(f.net->graph), n * 4), 0);
    cr_assert_eq(memcmp(mf.norm.mean, f.norm.mean, 36 * 4), 0);
    cr_assert_eq(memcmp(mf.norm.std, f.norm.std, 36 * 4), 0);
    cr_assert_eq(memcmp(mf.adam.m, f.adam.m, n * 4), 0);
    cr_assert_eq(memcmp(mf.adam.v, f.adam.v, n * 4), 0);
    cr_assert_eq(mf.adam.t, 42);
    cr_assert_eq(mf.train.epoch, 3);
    cr_assert_eq(mf.train.batch, 17);
    cr_assert_eq(mf.train.seed, 99);
    cr_assert_eq(mf.train.correct, 40);
    cr_assert_str_eq(mf.train.recipe, "batch=64 lr=0.001");
    cr_assert_str_eq(mf.class_names[5], "surprise");
    cr_assert_str_eq(mf.meta, "made by: test\n");

    /* Saving what was loaded gives the same bytes. */
    uint8_t *again;
    size_t again_len;
    fer_model_contents c = {.net = mf.net, .norm = &mf.norm, .n_classes = 7, .class_names = NAMES,
                            .adam = &mf.adam, .train = &mf.train, .meta = mf.meta};
    cr_assert_eq(fer_model_serialize(&c, &again, &again_len, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(again_len, len);
    cr_assert_eq(memcmp(again, data, len), 0);
    free(again);
    fer_model_file_free(&mf);
    free(data);
    free_fixture(&f);
}

Test(model_file, deployable_model_has_no_optimizer_state_and_classifies)
{
    fixture f;
    make_fixture(&f);
    uint8_t *data;
    size_t len;
    serialize(&f, 0, &data, &len);
    fer_model_file mf;
    nn_error err = {0};
    cr_assert_eq(fer_model_parse(data, len, "mem", 3, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(mf.kind, FER_FILE_MODEL);
    cr_assert_eq(mf.has_optimizer, 0);
    cr_assert_eq(mf.has_train_state, 0);

    /* classify_u8 = standardise with the stored statistics, then predict. */
    uint8_t img[2 * 36];
    float x[2 * 36], want[14], got[14], scratch[2 * 36];
    for (int i = 0; i < 72; i++) img[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 72; i++) x[i] = (img[i] - f.norm.mean[i % 36]) / f.norm.std[i % 36];
    cr_assert_eq(nn_model_predict(f.net, x, 2, want, &err), NN_OK);
    cr_assert_geq(fer_model_scratch_floats(&mf, 2), 72);
    cr_assert_eq(fer_model_classify_u8(&mf, img, 2, scratch, got, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < 14; i++) cr_assert_float_eq(got[i], want[i], 1e-6, "prob %d", i);
    float sum = 0;
    for (int i = 0; i < 7; i++) sum += got[i];
    cr_assert_float_eq(sum, 1.0f, 1e-5);
    fer_model_file_free(&mf);
    free(data);
    free_fixture(&f);
}

static void expect_reject(const uint8_t *data, size_t len, const char *needle, const char *what)
{
    fer_model_file mf;
    memset(&mf, 0xab, sizeof mf);
    nn_error err = {0};
    nn_status st = fer_model_parse(data, len, "m.bin", 2, NN_NO_GRADS, &mf, &err);
    cr_assert_neq(st, NN_OK, "%s: accepted", what);
    cr_assert_null(mf.net, "%s: half-loaded model returned", what);
    cr_assert(strstr(err.msg, "m.bin"), "%s: message lacks the file name: %s", what, err.msg);
    if (needle) cr_assert(strstr(err.msg, needle), "%s: '%s' lacks '%s'", what, err.msg, needle);
}

Test(model_file, every_truncation_is_rejected)
{
    fixture f;
    make_fixture(&f);
    uint8_t *data;
    size_t len;
    serialize(&f, 1, &data, &len);
    for (size_t cut = 0; cut < len; cut += (cut < 200 ? 1 : 97)) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cut, len);
        expect_reject(data, cut, NULL, what);
    }
    free(data);
    free_fixture(&f);
}

Test(model_file, bit_flips_are_rejected)
{
    fixture f;
    make_fixture(&f);
    uint8_t *data;
    size_t len;
    serialize(&f, 1, &data, &len);
    for (size_t pos = 0; pos < len; pos += 13) {
        data[pos] ^= (uint8_t)(1u << (pos % 8));
        char what[64];
        snprintf(what, sizeof what, "bit %zu flipped at byte %zu", pos % 8, pos);
        expect_reject(data, len, NULL, what);
        data[pos] ^= (uint8_t)(1u << (pos % 8));
    }
    expect_reject((const uint8_t *)"\x89PNG\r\n\x1a\n0000000000000000000000000000", 36, "magic", "a PNG");
    expect_reject((const uint8_t *)"\x89HDF\r\n\x1a\n0000000000000000000000000000", 36, "HDF5", "an HDF5 file");
    free(data);
    free_fixture(&f);
}

/* Rewrites the CRC after a deliberate edit, so the checks behind it are reached. */
static void fix_crc(uint8_t *data, size_t len)
{
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)(len - 4));
    for (int i = 0; i < 4; i++) data[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

Test(model_file, consistent_checksum_but_wrong_content_is_rejected)
{
    fixture f;
    make_fixture(&f);
    uint8_t *data;
    size_t len;
    serialize(&f, 0, &data, &len);

    /* version from the future */
    data[8] = 9;
    fix_crc(data, len);
    expect_reject(data, len, "version 9", "future version");
    data[8] = 1;

    /* architecture edited to another width: weight count no longer matches */
    uint8_t *arch = memmem(data, len, "dense(5,relu)", 13);
    cr_assert_not_null(arch);
    arch[6] = '4';
    fix_crc(data, len);
    expect_reject(data, len, "weights stored", "architecture/weights mismatch");
    arch[6] = '5';

    /* a NaN weight */
    uint8_t *w = memmem(data, len, "WGHT", 4);
    cr_assert_not_null(w);
    memcpy(w + 16 + 8, (const uint8_t[]){0x00, 0x00, 0xc0, 0x7f}, 4);
    fix_crc(data, len);
    expect_reject(data, len, "NaN", "NaN weight");
    free(data);

    /* a non-positive standard deviation */
    f.norm.std[5] = 0.0f;
    serialize(&f, 0, &data, &len);
    expect_reject(data, len, "statistics", "zero std");
    free(data);
    free_fixture(&f);
}

Test(model_file, save_is_atomic_and_errors_name_the_path)
{
    fixture f;
    make_fixture(&f);
    char dir[] = "/tmp/fer-model-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/model.bin", dir);
    fer_model_contents c = {.net = f.net, .norm = &f.norm, .n_classes = 7, .class_names = NAMES};
    nn_error err = {0};
    cr_assert_eq(fer_model_save(path, &c, &err), NN_OK, "%s", err.msg);
    fer_model_file mf;
    cr_assert_eq(fer_model_load(path, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    fer_model_file_free(&mf);

    /* A write that cannot complete leaves the previous file as it was. */
    c.class_names = (const char *const[]){"a", "b", "c", "d", "e", "f",
                                          "a-class-name-far-too-long-for-the-format"};
    cr_assert_neq(fer_model_save(path, &c, &err), NN_OK);
    cr_assert_eq(fer_model_load(path, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    fer_model_file_free(&mf);
    c.class_names = NAMES;
    cr_assert_eq(fer_model_save("/nonexistent/dir/model.bin", &c, &err), NN_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/dir/model.bin"), "%s", err.msg);

    /* A full disk, simulated by a file-size limit (each Criterion test runs
     * in its own process, so the limit stays here): the write fails, the old
     * model survives, no temporary file is left. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {256, 256}; /* the fixture model is ~1 KB */
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    cr_assert_eq(fer_model_save(path, &c, &err), NN_ERR_IO);
    cr_assert(strstr(err.msg, "model.bin"), "%s", err.msg);
    cr_assert_eq(fer_model_load(path, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    fer_model_file_free(&mf);
    char listing[512];
    snprintf(listing, sizeof listing, "ls '%s' | grep -c tmp", dir);
    FILE *ls = popen(listing, "r");
    cr_assert_not_null(ls);
    int tmp_files = -1;
    cr_assert_eq(fscanf(ls, "%d", &tmp_files), 1);
    pclose(ls);
    cr_assert_eq(tmp_files, 0, "temporary files left in %s", dir);

    cr_assert_eq(fer_model_load("/nonexistent/model.bin", 1, NN_NO_GRADS, &mf, &err), NN_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/model.bin"), "%s", err.msg);
    unlink(path);
    rmdir(dir);
    free_fixture(&f);
}
