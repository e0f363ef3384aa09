/* bench_csv_load: how fast fer_dataset_load reads a FER CSV, and a check of
 * what it read.
 *
 *   build/bench/bench_csv_load [--plain] [--repeat N] [--check] [FILE]
 *
 * FILE defaults to /work/shared/data/fer2013-dev.csv.gz. --plain also
 * gunzips FILE to /tmp/<name without .gz> (once) and times loading that.
 * Prints seconds, MB/s (uncompressed CSV bytes) and rows/s of the best of N
 * loads, the rows per split and per class, the pixel statistics of the
 * Training split, and the speed of fer_batch_fill with and without
 * augmentation (and with augmentation on 2 threads). With --check (implied for a file named fer2013-dev*), exits
 * 1 unless the split and class counts are those of the shared FER2013 copy
 * (/work/shared/data/README.md).
 */
#include "data/batch.h"
#include "data/fer_dataset.h"
#include "data/standardize.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* gunzip src to dst (via dst.tmp, renamed when complete). */
static int gunzip_to(const char *src, const char *dst)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", dst);
    gzFile in = gzopen(src, "rb");
    FILE *out = fopen(tmp, "wb");
    if (!in || !out) {
        fprintf(stderr, "bench_csv_load: cannot open %s or %s: %s\n", src, tmp, strerror(errno));
        if (in) gzclose(in);
        if (out) fclose(out);
        return -1;
    }
    static char buf[1 << 20];
    int got, zerr = Z_OK;
    while ((got = gzread(in, buf, sizeof buf)) > 0)
        if (fwrite(buf, 1, (size_t)got, out) != (size_t)got) break;
    const char *zmsg = gzerror(in, &zerr);
    int bad = got != 0 || zerr != Z_OK;
    gzclose(in);
    if (fclose(out) != 0) bad = 1;
    if (bad || rename(tmp, dst) != 0) {
        fprintf(stderr, "bench_csv_load: gunzip %s -> %s failed (%s)\n", src, dst, zerr != Z_OK ? zmsg : strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static int load_timed(const char *path, int repeat, fer_dataset *ds)
{
    double best = 1e30;
    fer_load_report rep;
    nn_error err;
    for (int r = 0; r < repeat; r++) {
        fer_dataset_free(ds);
        double t0 = now();
        if (fer_dataset_load(ds, path, NULL, &rep, &err)) {
            fprintf(stderr, "bench_csv_load: %s\n", err.msg);
            return -1;
        }
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("%-40s file %7.1f MB  csv %7.1f MB  %6.3f s  %7.1f MB/s  %8.0f rows/s  (%d rows %dx%d, best of %d)\n",
           path, file_size(path) / 1e6, (double)rep.bytes / 1e6, best, (double)rep.bytes / 1e6 / best,
           ds->n / best, ds->n, ds->h, ds->w, repeat);
    return 0;
}

static const long expect_rows[FER_NUM_SPLITS] = {28709, 3589, 0};
static const long expect_classes[2][FER_NUM_CLASSES] = {
    {3995, 436, 4097, 7215, 4830, 3171, 4965},
    {467, 56, 496, 895, 653, 415, 607},
};

static int report_counts(const fer_dataset *ds, int check)
{
    int ok = 1;
    nn_error err;
    for (int s = 0; s < FER_NUM_SPLITS; s++) {
        fer_indices ix;
        if (fer_split_indices(ds, (fer_split)s, &ix, &err)) {
            fprintf(stderr, "bench_csv_load: %s\n", err.msg);
            return 0;
        }
        long counts[FER_NUM_CLASSES];
        fer_class_counts(ds, ix.idx, ix.n, counts);
        printf("  %-12s %6u rows:", fer_split_name((fer_split)s), ix.n);
        for (int c = 0; c < FER_NUM_CLASSES; c++) printf(" %s %ld", fer_class_name(c), counts[c]);
        printf("\n");
        if (check) {
            if ((long)ix.n != expect_rows[s]) ok = 0;
            for (int c = 0; s < 2 && c < FER_NUM_CLASSES; c++)
                if (counts[c] != expect_classes[s][c]) ok = 0;
        }
        fer_indices_free(&ix);
    }
    if (check) printf("  split and class counts %s /work/shared/data/README.md\n", ok ? "match" : "DO NOT MATCH");
    return ok;
}

static int bench_prepare(const fer_dataset *ds)
{
    nn_error err;
    fer_indices train;
    fer_standardizer st;
    if (fer_split_indices(ds, FER_SPLIT_TRAINING, &train, &err) || train.n == 0) {
        fprintf(stderr, "bench_csv_load: no Training rows\n");
        return -1;
    }
    double t0 = now();
    if (fer_standardizer_fit(&st, ds, train.idx, train.n, &err)) {
        fprintf(stderr, "bench_csv_load: %s\n", err.msg);
        fer_indices_free(&train);
        return -1;
    }
    double t_fit = now() - t0;
    /* Whole-split grey-level statistics, to compare with the README. */
    size_t hw = (size_t)ds->h * (size_t)ds->w;
    double s1 = 0, s2 = 0, mstd = 0;
    for (uint32_t i = 0; i < train.n; i++) {
        const uint8_t *px = fer_dataset_image(ds, (int)train.idx[i]);
        for (size_t p = 0; p < hw; p++) s1 += px[p], s2 += (double)px[p] * px[p];
    }
    for (size_t p = 0; p < hw; p++) mstd += st.std[p];
    double cnt = (double)train.n * (double)hw, mean = s1 / cnt;
    printf("  Training pixels: mean %.2f, std %.2f; per-pixel std: corner %.2f, centre %.2f, average %.2f; fit %.3f s\n", mean,
           sqrt(s2 / cnt - mean * mean), (double)st.std[0], (double)st.std[hw / 2 + ds->w / 2], mstd / (double)hw,
           t_fit);

    enum { B = 128 };
    float *img = malloc(B * hw * sizeof *img);
    int32_t lab[B];
    if (!img) {
        fprintf(stderr, "bench_csv_load: out of memory\n");
        fer_standardizer_free(&st);
        fer_indices_free(&train);
        return -1;
    }
    fer_augment_opts aug = fer_augment_defaults();
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    for (int pass = 0; pass < 3; pass++) {
        aug.threads = pass == 2 ? 2 : 1;
        t0 = now();
        for (uint32_t b = 0; b < train.n; b += B) {
            int n = train.n - b < B ? (int)(train.n - b) : B;
            if (fer_batch_fill(ds, train.idx + b, n, &st, pass ? &aug : NULL, &rng, img, lab, &err)) {
                fprintf(stderr, "bench_csv_load: %s\n", err.msg);
                break;
            }
        }
        double t = now() - t0;
        printf("  fer_batch_fill, batches of %d, %s: %.3f s per Training epoch, %.0f images/s\n", B,
               pass == 0 ? "no augmentation" : pass == 1 ? "flip + rotation 10 deg" : "flip + rotation, 2 threads",
               t, train.n / t);
    }
    free(img);
    fer_standardizer_free(&st);
    fer_indices_free(&train);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = "/work/shared/data/fer2013-dev.csv.gz";
    int plain = 0, repeat = 1, check = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--plain")) plain = 1;
        else if (!strcmp(argv[i], "--check")) check = 1;
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--plain] [--repeat N] [--check] [FILE]\n", argv[0]);
            return 2;
        } else path = argv[i];
    }
    if (repeat < 1) repeat = 1;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (!strncmp(base, "fer2013-dev", 11)) check = 1;

    fer_dataset ds = {0};
    if (load_timed(path, repeat, &ds)) return 1;
    if (plain) {
        char dst[4096];
        size_t len = strlen(base);
        if (len <= 3 || strcmp(base + len - 3, ".gz")) {
            fprintf(stderr, "bench_csv_load: --plain needs a .gz file\n");
            return 2;
        }
        snprintf(dst, sizeof dst, "/tmp/%.*s", (int)(len - 3), base);
        if (file_size(dst) < 0 && gunzip_to(path, dst)) return 1;
        fer_dataset plain_ds = {0};
        if (load_timed(dst, repeat, &plain_ds)) return 1;
        int same = plain_ds.n == ds.n &&
                   !memcmp(plain_ds.pixels, ds.pixels, (size_t)ds.n * (size_t)ds.h * (size_t)ds.w) &&
                   !memcmp(plain_ds.labels, ds.labels, (size_t)ds.n);
        printf("  plain and gzip loads %s\n", same ? "agree" : "DIFFER");
        fer_dataset_free(&plain_ds);
        if (!same) return 1;
    }
    int ok = report_counts(&ds, check);
    if (bench_prepare(&ds)) ok = 0;
    fer_dataset_free(&ds);
    return ok ? 0 : 1;
}
