/* bench_haar.c: single-thread speed of haar_detect on 640x480 frames.
 *
 * Uses the composed frames of tests/fixtures/haar (the same pixels
 * scripts/bench_haar_opencv.py gives OpenCV) and the default frontal-face
 * cascade, at the paper's parameters (1.32, 5) and at (1.1, 3). Prints one
 * line per frame and parameter set, then the mean over frames:
 *   haar <frame> <scale> <minN> median_ms <m> min_ms <m> faces <n>
 * Run from the repository root: build/bench/bench_haar [repeats]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/test_vision_haar_fixture.h"
#include "vision/haar.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 30;
    if (reps < 1) reps = 1;
    static hfx fx;
    if (hfx_load(&fx)) {
        fprintf(stderr, "bench_haar: %s (run from the repository root)\n", fx.err);
        return 1;
    }
    nn_error err;
    haar_cascade *c = haar_cascade_load(HAAR_DEFAULT_CASCADE, &err);
    if (!c) {
        fprintf(stderr, "bench_haar: %s\n", err.msg);
        return 1;
    }
    haar_workspace *ws = haar_workspace_new(c, &err);
    if (!ws) {
        fprintf(stderr, "bench_haar: %s\n", err.msg);
        return 1;
    }
    double *t = malloc(sizeof *t * (size_t)reps);
    const struct { double sf; int mn; } sets[] = { { 1.32, 5 }, { 1.1, 3 } };
    for (size_t si = 0; si < sizeof sets / sizeof *sets; si++) {
        double sum_med = 0;
        int nframes = 0;
        for (int i = 0; i < fx.nimages; i++) {
            const hfx_image *im = &fx.images[i];
            if (!im->composed) continue;
            haar_params p = haar_params_default();
            p.scale_factor = sets[si].sf;
            p.min_neighbors = sets[si].mn;
            haar_rect faces[64];
            int n = 0;
            for (int r = -3; r < reps; r++) {   /* 3 warm-up runs */
                double t0 = now_ms();
                if (haar_detect(c, ws, im->px, im->w, im->h, im->w, &p, faces, 64, &n, &err)) {
                    fprintf(stderr, "bench_haar: %s\n", err.msg);
                    return 1;
                }
                if (r >= 0) t[r] = now_ms() - t0;
            }
            qsort(t, (size_t)reps, sizeof *t, cmp_d);
            printf("haar %s %dx%d %.2f %d median_ms %.3f min_ms %.3f faces %d\n", im->name, im->w,
                   im->h, p.scale_factor, p.min_neighbors, t[reps / 2], t[0], n);
            sum_med += t[reps / 2];
            nframes++;
        }
        printf("haar mean %.2f %d median_ms %.3f\n", sets[si].sf, sets[si].mn, sum_med / nframes);
    }
    free(t);
    haar_workspace_free(ws);
    haar_cascade_free(c);
    hfx_free(&fx);
    return 0;
}
