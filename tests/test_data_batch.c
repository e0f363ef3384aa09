/* Batch assembly (data/batch.h) and split helpers (data/fer_dataset.h) on
 * data sets made in memory. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/batch.h"

enum { SIDE = 6, HW = SIDE * SIDE };

/* n images of side x side, label i % 7, pixels a per-image pattern. */
static void make_ds_side(fer_dataset *ds, int n, int side)
{
    nn_error err;
    int hw = side * side;
    cr_assert_eq(fer_dataset_alloc(ds, n, side, side, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < n; i++) {
        ds->labels[i] = (uint8_t)(i % FER_NUM_CLASSES);
        for (int p = 0; p < hw; p++) ds->pixels[(size_t)i * hw + p] = (uint8_t)((i * 31 + p * p * 7 + p) % 256);
    }
}

static void make_ds(fer_dataset *ds, int n)
{
    make_ds_side(ds, n, SIDE);
}

static uint32_t *iota(int n)
{
    uint32_t *idx = malloc((size_t)n * sizeof *idx);
    cr_assert(idx != NULL);
    for (int i = 0; i < n; i++) idx[i] = (uint32_t)i;
    return idx;
}

Test(data_batch, no_augmentation_gives_standardised_images_and_labels)
{
    fer_dataset ds;
    make_ds(&ds, 20);
    fer_standardizer st;
    nn_error err;
    cr_assert_eq(fer_standardizer_fit(&st, &ds, NULL, 20, &err), NN_OK);
    const uint32_t idx[4] = {7, 0, 19, 7};
    float out[4 * HW];
    int32_t lab[4];
    cr_assert_eq(fer_batch_fill(&ds, idx, 4, &st, NULL, NULL, out, lab, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(lab[i], (int32_t)(idx[i] % 7));
        const uint8_t *px = fer_dataset_image(&ds, (int)idx[i]);
        for (int p = 0; p < HW; p++) {
            float want = ((float)px[p] - st.mean[p]) / st.std[p];
            cr_expect_float_eq(out[i * HW + p], want, 1e-6, "image %d pixel %d", i, p);
        }
    }
    /* Over the whole fitted set every pixel has mean 0 and std 1 (or less,
     * where the floor applies). */
    uint32_t *all = iota(20);
    float *big = malloc(20 * HW * sizeof *big);
    cr_assert_eq(fer_batch_fill(&ds, all, 20, &st, NULL, NULL, big, NULL, &err), NN_OK);
    for (int p = 0; p < HW; p++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < 20; i++) s += big[i * HW + p], s2 += (double)big[i * HW + p] * big[i * HW + p];
        double m = s / 20, sd = sqrt(s2 / 20 - m * m);
        cr_expect(fabs(m) < 1e-5, "pixel %d mean %g", p, m);
        cr_expect(sd < 1 + 1e-4 && (sd > 1 - 1e-4 || st.std[p] == FER_STD_FLOOR), "pixel %d std %g", p, sd);
    }
    /* Without a standardiser: raw grey levels. */
    cr_assert_eq(fer_batch_fill(&ds, idx, 4, NULL, NULL, NULL, out, NULL, &err), NN_OK);
    for (int p = 0; p < HW; p++) cr_expect_eq(out[2 * HW + p], (float)fer_dataset_image(&ds, 19)[p]);
    free(big);
    free(all);
    fer_standardizer_free(&st);
    fer_dataset_free(&ds);
}

Test(data_batch, augmentation_then_standardisation)
{
    /* Flip only: each output is the standardised image or the standardised
     * mirror of the raw image (mirror first, then standardise by the
     * un-mirrored statistics). */
    fer_dataset ds;
    make_ds(&ds, 300);
    fer_standardizer st;
    nn_error err;
    cr_assert_eq(fer_standardizer_fit(&st, &ds, NULL, 300, &err), NN_OK);
    uint32_t *idx = iota(300);
    float *out = malloc(300 * HW * sizeof *out);
    fer_augment_opts flip = {.flip = 1, .max_deg = 0.0f, .threads = 0};
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    cr_assert_eq(fer_batch_fill(&ds, idx, 300, &st, &flip, &rng, out, NULL, &err), NN_OK, "%s", err.msg);
    int flipped = 0;
    for (int i = 0; i < 300; i++) {
        const uint8_t *px = fer_dataset_image(&ds, i);
        int same = 1, mirror = 1;
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++) {
                int p = y * SIDE + x;
                float plain = ((float)px[p] - st.mean[p]) / st.std[p];
                float mir = ((float)px[y * SIDE + SIDE - 1 - x] - st.mean[p]) / st.std[p];
                same &= out[i * HW + p] == plain;
                mirror &= out[i * HW + p] == mir;
            }
        cr_expect(same || mirror, "image %d is neither the image nor its mirror", i);
        flipped += mirror && !same;
    }
    cr_expect(flipped > 100 && flipped < 200, "%d of 300 flipped", flipped);
    free(out);
    free(idx);
    fer_standardizer_free(&st);
    fer_dataset_free(&ds);
}

Test(data_batch, same_seed_same_batch_whatever_the_threads_and_chunks)
{
    enum { S = 16, P = S * S };
    fer_dataset ds;
    make_ds_side(&ds, 700, S);
    fer_standardizer st;
    nn_error err;
    cr_assert_eq(fer_standardizer_fit(&st, &ds, NULL, 700, &err), NN_OK);
    uint32_t *idx = iota(700);
    nn_rng shuffle;
    nn_rng_seed(&shuffle, 11);
    nn_rng_shuffle(&shuffle, idx, 700);
    size_t bytes = 700 * P * sizeof(float);
    float *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
    int32_t la[700], lb[700];
    fer_augment_opts aug = fer_augment_defaults();
    nn_rng r1, r2, r3;
    nn_rng_seed(&r1, 99);
    nn_rng_seed(&r2, 99);
    nn_rng_seed(&r3, 100);

    cr_assert_eq(fer_batch_fill(&ds, idx, 700, &st, &aug, &r1, a, la, &err), NN_OK, "%s", err.msg);
    /* Same seed, three threads, and the batch split into two calls (more
     * than one parameter chunk each time). */
    fer_augment_opts aug3 = aug;
    aug3.threads = 3;
    cr_assert_eq(fer_batch_fill(&ds, idx, 300, &st, &aug3, &r2, b, lb, &err), NN_OK);
    cr_assert_eq(fer_batch_fill(&ds, idx + 300, 400, &st, &aug3, &r2, b + 300 * P, lb + 300, &err), NN_OK);
    cr_expect_eq(memcmp(a, b, bytes), 0, "same seed, different threads/chunking: different batch");
    cr_expect_eq(memcmp(la, lb, sizeof la), 0);
    cr_expect_eq(memcmp(&r1, &r2, sizeof r1), 0, "rng advanced by the same draws");

    cr_assert_eq(fer_batch_fill(&ds, idx, 700, &st, &aug, &r3, c, NULL, &err), NN_OK);
    cr_expect_neq(memcmp(a, c, bytes), 0, "another seed gives another batch");
    /* The rng advanced by exactly two draws per image. */
    nn_rng manual;
    nn_rng_seed(&manual, 99);
    for (int i = 0; i < 700; i++) {
        fer_augment_params p;
        fer_augment_draw(&aug, &manual, &p);
    }
    cr_expect_eq(memcmp(&manual, &r1, sizeof manual), 0);
    /* Every value finite and in the standardised range. */
    for (size_t i = 0; i < 700 * P; i++) cr_assert(isfinite(a[i]) && fabsf(a[i]) <= 255.0f, "value %zu", i);
    free(a);
    free(b);
    free(c);
    free(idx);
    fer_standardizer_free(&st);
    fer_dataset_free(&ds);
}

Test(data_batch, argument_errors)
{
    fer_dataset ds;
    make_ds(&ds, 5);
    fer_standardizer st, small;
    nn_error err;
    cr_assert_eq(fer_standardizer_fit(&st, &ds, NULL, 5, &err), NN_OK);
    cr_assert_eq(fer_standardizer_alloc(&small, 4, 4, &err), NN_OK);
    const uint32_t idx[2] = {1, 5};
    float out[2 * HW];
    fer_augment_opts aug = fer_augment_defaults(), bad = {.flip = 1, .max_deg = -5.0f, .threads = 1}, bad_threads = {.flip = 1, .max_deg = 5.0f, .threads = -1};
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    cr_expect_eq(fer_batch_fill(&ds, idx, 2, &st, NULL, NULL, out, NULL, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "row 5 (batch position 1) out of range") != NULL, "%s", err.msg);
    cr_expect_eq(fer_batch_fill(&ds, idx, 1, &small, NULL, NULL, out, NULL, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "standardiser is 4x4, images are 6x6") != NULL, "%s", err.msg);
    cr_expect_eq(fer_batch_fill(&ds, idx, 1, &st, &aug, NULL, out, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_batch_fill(&ds, idx, 1, &st, &bad, &rng, out, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_batch_fill(&ds, idx, 1, &st, &bad_threads, &rng, out, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_batch_fill(&ds, idx, -1, &st, NULL, NULL, out, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_batch_fill(&ds, NULL, 1, &st, NULL, NULL, out, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_batch_fill(&ds, idx, 0, &st, NULL, NULL, out, NULL, &err), NN_OK);
    fer_standardizer_free(&small);
    fer_standardizer_free(&st);
    fer_dataset_free(&ds);
}

/* ---- splits -------------------------------------------------------------- */

Test(data_batch, holdout_is_stratified_seeded_and_disjoint)
{
    /* 1000 rows; class 0 has 4 rows (10% rounds to 0, but one is held out),
     * class 1 a single row (kept for training). */
    fer_dataset ds;
    nn_error err;
    cr_assert_eq(fer_dataset_alloc(&ds, 1000, 2, 2, &err), NN_OK);
    int per[FER_NUM_CLASSES] = {4, 1, 70, 100, 130, 160, 0};
    int total = 0;
    for (int c = 0; c < FER_NUM_CLASSES - 1; c++) total += per[c];
    per[6] = 1000 - total;
    for (int i = 0, c = 0, k = 0; i < 1000; i++) {
        while (k == per[c]) c++, k = 0;
        ds.labels[i] = (uint8_t)c;
        k++;
    }
    fer_indices all, tr, va, tr2, va2;
    cr_assert_eq(fer_all_indices(&ds, &all, &err), NN_OK);
    cr_assert_eq(all.n, 1000);
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    cr_assert_eq(fer_holdout(&ds, &all, 0.1f, &rng, &tr, &va, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(tr.n + va.n, 1000);
    long cv[FER_NUM_CLASSES], ct[FER_NUM_CLASSES];
    fer_class_counts(&ds, va.idx, va.n, cv);
    fer_class_counts(&ds, tr.idx, tr.n, ct);
    for (int c = 0; c < FER_NUM_CLASSES; c++) {
        long want = c == 1 ? 0 : c == 0 ? 1 : lround(0.1 * per[c]);
        cr_expect_eq(cv[c], want, "class %d: %ld held out, want %ld", c, cv[c], want);
        cr_expect_eq(ct[c] + cv[c], per[c]);
    }
    /* Sorted, disjoint, covering. */
    char *seen = calloc(1000, 1);
    for (uint32_t i = 0; i < tr.n; i++) {
        cr_expect(i == 0 || tr.idx[i] > tr.idx[i - 1]);
        seen[tr.idx[i]]++;
    }
    for (uint32_t i = 0; i < va.n; i++) {
        cr_expect(i == 0 || va.idx[i] > va.idx[i - 1]);
        seen[va.idx[i]]++;
    }
    for (int i = 0; i < 1000; i++) cr_expect_eq(seen[i], 1, "row %d", i);
    free(seen);

    nn_rng_seed(&rng, 5);
    cr_assert_eq(fer_holdout(&ds, &all, 0.1f, &rng, &tr2, &va2, &err), NN_OK);
    cr_expect(va2.n == va.n && memcmp(va2.idx, va.idx, va.n * sizeof *va.idx) == 0, "same seed, same split");
    fer_indices_free(&tr2);
    fer_indices_free(&va2);
    nn_rng_seed(&rng, 6);
    cr_assert_eq(fer_holdout(&ds, &all, 0.1f, &rng, &tr2, &va2, &err), NN_OK);
    cr_expect(va2.n == va.n && memcmp(va2.idx, va.idx, va.n * sizeof *va.idx) != 0, "other seed, other split");

    fer_indices_free(&tr);
    fer_indices_free(&va);
    cr_expect_eq(fer_holdout(&ds, &all, 0.0f, &rng, &tr, &va, &err), NN_ERR_ARG);
    cr_expect_eq(fer_holdout(&ds, &all, 1.0f, &rng, &tr, &va, &err), NN_ERR_ARG);
    cr_expect_eq(fer_holdout(&ds, &all, NAN, &rng, &tr, &va, &err), NN_ERR_ARG);
    fer_indices_free(&tr);
    fer_indices_free(&va);
    fer_indices_free(&tr2);
    fer_indices_free(&va2);
    fer_indices_free(&all);
    fer_dataset_free(&ds);
}

Test(data_batch, split_indices_of_an_empty_split)
{
    fer_dataset ds;
    nn_error err;
    cr_assert_eq(fer_dataset_alloc(&ds, 3, 2, 2, &err), NN_OK);
    ds.splits[1] = FER_SPLIT_PUBLIC_TEST;
    fer_indices ix;
    cr_assert_eq(fer_split_indices(&ds, FER_SPLIT_PRIVATE_TEST, &ix, &err), NN_OK);
    cr_expect(ix.n == 0 && ix.idx == NULL);
    cr_assert_eq(fer_split_indices(&ds, FER_SPLIT_PUBLIC_TEST, &ix, &err), NN_OK);
    cr_expect(ix.n == 1 && ix.idx[0] == 1);
    fer_indices_free(&ix);
    cr_expect_eq(fer_split_indices(&ds, (fer_split)3, &ix, &err), NN_ERR_ARG);
    fer_dataset_free(&ds);
}
