/* Shared by the tests/test_export_keras*.c files: a model with seeded
 * weights and statistics, a scratch directory, small file helpers. */
#ifndef TEST_EXPORT_KERAS_HELPERS_H
#define TEST_EXPORT_KERAS_HELPERS_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/keras.h"
#include "export/model_file.h"
#include "tests/support.h"

#define SMALL_ARCH                                                                                 \
    "input(12,10,1) conv(3,3,relu) conv(4,3x2,same,relu) maxpool(2) dropout(0.25) flatten "        \
    "dense(6,relu) dropout(0.2) dense(5)"

typedef struct {
    nn_model *net;
    fer_standardizer norm;
    const char *names[FER_MAX_CLASSES];
    char name_buf[FER_MAX_CLASSES][FER_CLASS_NAME_MAX];
    fer_model_contents c;
} test_model;

/* A network of `arch` with seeded Glorot weights, non-zero biases, per-pixel
 * statistics spread over several binades, and class names "class A", ... */
static inline void test_model_make(test_model *t, const char *arch_text, uint64_t seed, const char *meta)
{
    memset(t, 0, sizeof *t);
    nn_arch arch;
    nn_error err = {0};
    cr_assert_eq(nn_arch_parse(arch_text, &arch, &err), NN_OK, "%s", err.msg);
    t->net = nn_model_create(&arch, 2, NN_NO_GRADS, &err);
    cr_assert_not_null(t->net, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_model_init_glorot(t->net, &rng);
    for (int i = 0; i < arch.n_layers; i++)
        if (t->net->layer_bias[i])
            for (size_t j = 0; j < t->net->layer_bias[i]->size; j++)
                t->net->layer_bias[i]->value[j] = nn_rng_range(&rng, -0.1f, 0.1f);
    cr_assert_eq(fer_standardizer_alloc(&t->norm, arch.in_h, arch.in_w, &err), NN_OK);
    for (int p = 0; p < arch.in_h * arch.in_w; p++) {
        t->norm.mean[p] = nn_rng_range(&rng, 0.0f, 255.0f);
        t->norm.std[p] = 1.0f + nn_rng_range(&rng, 0.0f, 1.0f) * (float)(1 << (p % 7));
    }
    for (int k = 0; k < t->net->n_classes; k++) {
        snprintf(t->name_buf[k], sizeof t->name_buf[k], "class %c", 'A' + k);
        t->names[k] = t->name_buf[k];
    }
    t->c = (fer_model_contents){.net = t->net, .norm = &t->norm, .n_classes = t->net->n_classes,
                                .class_names = t->names, .meta = meta};
}

static inline void test_model_free(test_model *t)
{
    nn_model_free(t->net);
    fer_standardizer_free(&t->norm);
}

/* The bytes of a loaded model written back as a deployable model file. */
static inline void deployable_bytes(const fer_model_file *mf, uint8_t **data, size_t *len)
{
    const char *names[FER_MAX_CLASSES];
    for (int k = 0; k < mf->n_classes; k++) names[k] = mf->class_names[k];
    fer_model_contents c = {.net = mf->net, .norm = &mf->norm, .n_classes = mf->n_classes,
                            .class_names = names, .meta = mf->meta};
    nn_error err = {0};
    cr_assert_eq(fer_model_serialize(&c, data, len, &err), NN_OK, "%s", err.msg);
}

static inline char *scratch_dir(void)
{
    char *dir = strdup("/tmp/fer-keras-test-XXXXXX");
    cr_assert_not_null(dir);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp");
    return dir;
}

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static inline void scratch_remove(char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static inline void path_in(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static inline void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
}

#endif
