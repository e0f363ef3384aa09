/* fer_predict_rows (export/predict.h), the routine behind validation and
 * fer-eval, against the model run by hand on each view: no augmentation,
 * mirror TTA and 10-view TTA, over several batches, with a standardiser that
 * is not mirror-symmetric (so standardising before or after moving the
 * image makes a difference the test sees). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/augment.h"
#include "export/predict.h"

#define H 10
#define W 10
#define ROWS 23 /* three batches of 8, the last one short */
#define BATCH 8

typedef struct {
    nn_model *net;
    fer_dataset ds;
    fer_standardizer norm;
    uint32_t idx[ROWS];
} fixture;

static void setup(fixture *f)
{
    nn_error err = {0};
    nn_arch arch;
    cr_assert_eq(nn_arch_parse("input(10,10,1) conv(4,3,relu) maxpool(2) flatten dense(7)", &arch,
                               &err),
                 NN_OK, "%s", err.msg);
    f->net = nn_model_create(&arch, BATCH, NN_NO_GRADS, &err);
    cr_assert(f->net, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    nn_model_init_glorot(f->net, &rng);

    f->ds = (fer_dataset){.n = ROWS, .h = H, .w = W};
    f->ds.pixels = malloc((size_t)ROWS * H * W);
    f->ds.labels = calloc(ROWS, 1);
    cr_assert(f->ds.pixels && f->ds.labels);
    for (size_t i = 0; i < (size_t)ROWS * H * W; i++) f->ds.pixels[i] = (uint8_t)nn_rng_below(&rng, 256);
    cr_assert_eq(fer_standardizer_alloc(&f->norm, H, W, &err), NN_OK);
    for (int p = 0; p < H * W; p++) { /* brighter and wider on the left */
        f->norm.mean[p] = 100.0f + 5.0f * (float)(W - p % W);
        f->norm.std[p] = 40.0f + 3.0f * (float)(W - p % W);
    }
    for (int i = 0; i < ROWS; i++) f->idx[i] = (uint32_t)(ROWS - 1 - i); /* not in file order */
}

static void teardown(fixture *f)
{
    nn_model_free(f->net);
    free(f->ds.pixels);
    free(f->ds.labels);
    fer_standardizer_free(&f->norm);
}

/* The probabilities of one row under one view, computed alone. */
static void one_view(fixture *f, uint32_t row, const fer_augment_params *view, float *probs)
{
    float img[H * W];
    fer_augment_u8(fer_dataset_image(&f->ds, (int)row), H, W, view, img);
    fer_standardize_f32(&f->norm, img);
    nn_error err = {0};
    cr_assert_eq(nn_model_predict(f->net, img, 1, probs, &err), NN_OK, "%s", err.msg);
}

static void check_mode(fer_tta tta, int views)
{
    fixture f;
    setup(&f);
    cr_assert_eq(fer_tta_views(tta), views);
    float *got = malloc((size_t)ROWS * 7 * sizeof *got);
    nn_error err = {0};
    cr_assert_eq(fer_predict_rows(f.net, &f.norm, &f.ds, f.idx, ROWS, tta, got, &err), NN_OK, "%s",
                 err.msg);
    const float shifts[5][2] = {{0, 0}, {2, 0}, {-2, 0}, {0, 2}, {0, -2}};
    double max_diff = 0, mirror_effect = 0;
    for (int i = 0; i < ROWS; i++) {
        double want[7] = {0};
        for (int v = 0; v < views; v++) {
            fer_augment_params p = {.flip = v % 2, .shift_x = shifts[v / 2][0],
                                    .shift_y = shifts[v / 2][1]};
            float probs[7];
            one_view(&f, f.idx[i], &p, probs);
            for (int k = 0; k < 7; k++) want[k] += probs[k] / views;
        }
        float plain[7];
        one_view(&f, f.idx[i], &(fer_augment_params){0}, plain);
        double sum = 0;
        for (int k = 0; k < 7; k++) {
            max_diff = fmax(max_diff, fabs(got[i * 7 + k] - want[k]));
            mirror_effect = fmax(mirror_effect, fabs(plain[k] - want[k]));
            sum += got[i * 7 + k];
        }
        cr_expect(fabs(sum - 1.0) < 1e-5, "row %d: probabilities sum to %g", i, sum);
    }
    cr_expect(max_diff < 1e-6, "%s: off by %g from the views averaged by hand", fer_tta_name(tta),
              max_diff);
    if (views > 1) cr_expect(mirror_effect > 1e-3, "the views make a difference (%g)", mirror_effect);
    free(got);
    teardown(&f);
}

Test(predict, no_tta_is_the_plain_image) { check_mode(FER_TTA_NONE, 1); }
Test(predict, mirror_tta_averages_two_views) { check_mode(FER_TTA_MIRROR, 2); }
Test(predict, shift_tta_averages_ten_views) { check_mode(FER_TTA_SHIFTS, 10); }

Test(predict, tta_names_and_bad_values)
{
    cr_expect_eq(fer_tta_parse(NULL), FER_TTA_MIRROR);
    cr_expect_eq(fer_tta_parse("mirror"), FER_TTA_MIRROR);
    cr_expect_eq(fer_tta_parse("shifts"), FER_TTA_SHIFTS);
    cr_expect_eq(fer_tta_parse("none"), FER_TTA_NONE);
    cr_expect_eq(fer_tta_parse("crops"), -1);
    cr_expect_str_eq(fer_tta_name(FER_TTA_SHIFTS), "mirror+shifts");
    cr_expect_eq(fer_tta_views((fer_tta)7), 0);

    fixture f;
    setup(&f);
    float probs[ROWS * 7];
    nn_error err = {0};
    cr_expect_eq(fer_predict_rows(f.net, &f.norm, &f.ds, f.idx, ROWS, (fer_tta)7, probs, &err),
                 NN_ERR_ARG);
    cr_expect(strstr(err.msg, "test-time augmentation"), "%s", err.msg);
    fer_standardizer small;
    cr_assert_eq(fer_standardizer_alloc(&small, 4, 4, &err), NN_OK);
    cr_expect_eq(fer_predict_rows(f.net, &small, &f.ds, f.idx, ROWS, FER_TTA_NONE, probs, &err),
                 NN_ERR_SHAPE);
    fer_standardizer_free(&small);
    teardown(&f);
}
