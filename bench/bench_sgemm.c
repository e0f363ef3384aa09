/* sgemm throughput of the linked BLAS, the ceiling for a training step:
 *   build/bench/bench_sgemm [--threads N] [--size N]
 * prints "sgemm_gflops <value>" for square N x N x N products (best of 5). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn/blas.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int threads = 1, n = 2048;
    static const struct option opts[] = {{"threads", required_argument, 0, 't'},
                                         {"size", required_argument, 0, 's'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 't') threads = atoi(optarg);
        else if (c == 's') n = atoi(optarg);
        else return 2;
    }
    if (threads < 1 || n < 64) return 2;
    float *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b),
          *r = malloc((size_t)n * n * sizeof *r);
    if (!a || !b || !r) return 1;
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    nn_blas_set_threads(threads);
    double best = 1e30;
    for (int rep = 0; rep < 6; rep++) {
        double t0 = now();
        nn_gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, r, n);
        double dt = now() - t0;
        if (rep > 0 && dt < best) best = dt; /* rep 0 warms up */
    }
    printf("threads %d\nsgemm_gflops %.1f\n", threads, 2.0 * n * n * n / best * 1e-9);
    free(a);
    free(b);
    free(r);
    return 0;
}
