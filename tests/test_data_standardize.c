/* Per-pixel standardisation (data/standardize.h) against values computed by
 * hand. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data/standardize.h"

/* Three 2x2 images:
 *   pixel 0: 0, 2, 4      -> mean 2,  population std sqrt(8/3)
 *   pixel 1: 10, 10, 10   -> mean 10, std 0, floored to FER_STD_FLOOR
 *   pixel 2: 20, 40, 60   -> mean 40, std sqrt(800/3)
 *   pixel 3: 30, 90, 150  -> mean 90, std sqrt(7200/3) = sqrt(2400) */
static void three_images(fer_dataset *ds)
{
    static const uint8_t px[3][4] = {{0, 10, 20, 30}, {2, 10, 40, 90}, {4, 10, 60, 150}};
    nn_error err;
    cr_assert_eq(fer_dataset_alloc(ds, 3, 2, 2, &err), NN_OK, "%s", err.msg);
    memcpy(ds->pixels, px, sizeof px);
}

Test(data_standardize, stats_of_all_rows_by_hand)
{
    fer_dataset ds;
    three_images(&ds);
    fer_standardizer st;
    nn_error err;
    cr_assert_eq(fer_standardizer_fit(&st, &ds, NULL, 3, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(st.h, 2);
    cr_expect_eq(st.w, 2);
    const double mean[4] = {2, 10, 40, 90};
    const double sd[4] = {sqrt(8.0 / 3), FER_STD_FLOOR, sqrt(800.0 / 3), sqrt(2400.0)};
    for (int p = 0; p < 4; p++) {
        cr_expect_float_eq(st.mean[p], mean[p], 1e-5, "mean[%d] = %g", p, (double)st.mean[p]);
        cr_expect_float_eq(st.std[p], sd[p], 1e-5 * sd[p], "std[%d] = %g, want %g", p, (double)st.std[p], sd[p]);
    }
    cr_expect_eq(fer_standardizer_check(&st, &err), NN_OK, "%s", err.msg);
    fer_standardizer_free(&st);
    cr_expect(st.mean == NULL && st.std == NULL);
    fer_standardizer_free(&st);
    fer_dataset_free(&ds);
}

Test(data_standardize, stats_of_a_subset_and_apply)
{
    fer_dataset ds;
    three_images(&ds);
    fer_standardizer st;
    nn_error err;
    const uint32_t rows[2] = {2, 0}; /* images 0 and 2: pixel 0 {0,4}, 2 {20,60}, 3 {30,150} */
    cr_assert_eq(fer_standardizer_fit(&st, &ds, rows, 2, &err), NN_OK, "%s", err.msg);
    const float mean[4] = {2, 10, 40, 90}, sd[4] = {2, 1, 20, 60};
    for (int p = 0; p < 4; p++) {
        cr_expect_float_eq(st.mean[p], mean[p], 1e-6, "mean[%d]", p);
        cr_expect_float_eq(st.std[p], sd[p], 1e-6, "std[%d]", p);
    }
    const uint8_t img[4] = {5, 12, 0, 255};
    const float want[4] = {1.5f, 2.0f, -2.0f, 2.75f};
    float out[4];
    fer_standardize_u8(&st, img, out);
    for (int p = 0; p < 4; p++) cr_expect_float_eq(out[p], want[p], 1e-6, "u8 pixel %d: %g", p, (double)out[p]);
    float f[4] = {5, 12, 0, 255};
    fer_standardize_f32(&st, f);
    for (int p = 0; p < 4; p++) cr_expect_float_eq(f[p], want[p], 1e-6, "f32 pixel %d", p);
    fer_standardizer_free(&st);
    fer_dataset_free(&ds);
}

Test(data_standardize, exact_on_many_rows)
{
    /* 100,000 1x1 images alternating 200 and 255: mean 227.5, std 27.5. A
     * float running sum of squares would be off here; integer sums are not. */
    fer_dataset ds;
    nn_error err;
    const int n = 100000;
    cr_assert_eq(fer_dataset_alloc(&ds, n, 1, 1, &err), NN_OK);
    for (int i = 0; i < n; i++) ds.pixels[i] = i % 2 ? 255 : 200;
    fer_standardizer st;
    cr_assert_eq(fer_standardizer_fit(&st, &ds, NULL, (uint32_t)n, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(st.mean[0], 227.5f);
    cr_expect_eq(st.std[0], 27.5f);
    fer_standardizer_free(&st);
    fer_dataset_free(&ds);
}

Test(data_standardize, errors)
{
    fer_dataset ds;
    three_images(&ds);
    fer_standardizer st;
    nn_error err;
    cr_expect_eq(fer_standardizer_fit(&st, &ds, NULL, 0, &err), NN_ERR_ARG);
    cr_expect_eq(fer_standardizer_fit(&st, &ds, NULL, 4, &err), NN_ERR_ARG);
    const uint32_t bad[2] = {0, 3};
    cr_expect_eq(fer_standardizer_fit(&st, &ds, bad, 2, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "row 3 out of range") != NULL, "%s", err.msg);
    cr_expect(st.mean == NULL, "failed fit leaves st empty");

    cr_assert_eq(fer_standardizer_alloc(&st, 2, 3, &err), NN_OK);
    cr_expect_eq(st.std[5], 1.0f);
    cr_expect_eq(st.mean[5], 0.0f);
    cr_expect_eq(fer_standardizer_check(&st, &err), NN_OK);
    st.std[4] = 0.0f;
    cr_expect_eq(fer_standardizer_check(&st, &err), NN_ERR_FORMAT);
    cr_expect(strstr(err.msg, "pixel 4 (row 1, column 1)") != NULL, "%s", err.msg);
    st.std[4] = 1.0f;
    st.mean[0] = NAN;
    cr_expect_eq(fer_standardizer_check(&st, &err), NN_ERR_FORMAT);
    fer_standardizer_free(&st);
    cr_expect_eq(fer_standardizer_check(&st, &err), NN_ERR_FORMAT);
    cr_expect_eq(fer_standardizer_alloc(&st, 0, 3, &err), NN_ERR_ARG);
    fer_dataset_free(&ds);
}
