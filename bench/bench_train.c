/* Training and inference speed of the paper's DCNN on random data.
 *
 *   build/bench/bench_train [--threads N] [--steps N] [--batch N] [--winograd 0|2|4]
 *
 * Prints one line "key value" per figure so scripts/bench.sh can tabulate:
 * training images/s (batch 64, Adam, dropout on), single-image inference
 * latency (batch 1; median and mean of single calls) and batched inference
 * images/s.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "nn/adam.h"
#include "nn/model.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int threads = 1, steps = 10, batch = 64, infer_reps = 200, winograd = 4;
    static const struct option opts[] = {{"threads", required_argument, 0, 't'},
                                         {"steps", required_argument, 0, 's'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"infer", required_argument, 0, 'i'},
                                         {"winograd", required_argument, 0, 'w'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 't') threads = atoi(optarg);
        else if (c == 's') steps = atoi(optarg);
        else if (c == 'b') batch = atoi(optarg);
        else if (c == 'i') infer_reps = atoi(optarg);
        else if (c == 'w') winograd = atoi(optarg);
        else return 2;
    }
    if (threads < 1 || steps < 1 || batch < 1 || infer_reps < 1) {
        fprintf(stderr, "bench_train: --threads, --steps, --batch and --infer must be positive\n");
        return 2;
    }
    nn_error err = {0};
    nn_arch arch;
    if (nn_arch_parse(NN_ARCH_FER_DCNN, &arch, &err)) goto fail;
    nn_model *m = nn_model_create(&arch, batch, NN_WITH_GRADS, &err);
    if (!m) goto fail;
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_model_init_glorot(m, &rng);
    if (nn_graph_set_threads(m->graph, threads, NULL)) abort();
    if (nn_graph_set_winograd(m->graph, winograd, &err)) goto fail;
    nn_graph_set_rng(m->graph, &rng);
    nn_adam adam;
    if (nn_adam_init(&adam, nn_model_param_count(m), &err)) goto fail;
    int32_t *labels = malloc(batch * sizeof *labels);
    float *x = nn_value(m->input);
    if (!labels) return 1;
    for (size_t i = 0; i < nn_node_size(m->input); i++) x[i] = nn_rng_normal(&rng);
    for (int i = 0; i < batch; i++) labels[i] = (int32_t)nn_rng_below(&rng, 7);
    nn_graph_set_labels(m->graph, labels);
    nn_graph_set_training(m->graph, 1);

    double fwd = 0, bwd = 0, opt = 0;
    for (int s = -1; s < steps; s++) { /* step -1 warms caches and thread pools */
        double t0 = now();
        nn_graph_forward(m->graph);
        double t1 = now();
        if (nn_graph_backward(m->graph, m->loss, &err)) goto fail;
        double t2 = now();
        nn_adam_step(&adam, nn_graph_params(m->graph), nn_graph_param_grads(m->graph), threads);
        double t3 = now();
        if (s >= 0) {
            fwd += t1 - t0;
            bwd += t2 - t1;
            opt += t3 - t2;
        }
    }
    double total = fwd + bwd + opt;
    double fwd_flops, train_flops;
    nn_model_flops(m, &fwd_flops, &train_flops);
    printf("threads %d\n", threads);
    printf("train_gflop_per_image %.4f\n", train_flops * 1e-9);
    printf("train_gflops_achieved %.1f\n", train_flops * 1e-9 * steps * batch / total);
    printf("train_images_per_s %.1f\n", steps * batch / total);
    printf("train_ms_forward %.1f\ntrain_ms_backward %.1f\ntrain_ms_adam %.1f\n",
           1e3 * fwd / steps, 1e3 * bwd / steps, 1e3 * opt / steps);

    /* Inference: batch 1 latency, then batched throughput. */
    nn_model *im = nn_model_create(&arch, batch, NN_NO_GRADS, &err);
    if (!im) goto fail;
    if (nn_graph_set_threads(im->graph, threads, NULL)) abort();
    if (nn_graph_set_winograd(im->graph, winograd, &err)) goto fail;
    float *probs = malloc((size_t)batch * 7 * sizeof *probs);
    if (!probs) return 1;
    nn_model_predict(im, x, 1, probs, &err);
    /* Each call timed alone: the median is what PyTorch's side reports too. */
    double *lat = malloc((size_t)infer_reps * sizeof *lat), t0, t1, total_lat = 0;
    if (!lat) return 1;
    for (int r = 0; r < infer_reps; r++) {
        t0 = now();
        if (nn_model_predict(im, x, 1, probs, &err)) goto fail;
        lat[r] = now() - t0;
        total_lat += lat[r];
    }
    qsort(lat, (size_t)infer_reps, sizeof *lat, cmp_double);
    printf("infer_ms_per_image_batch1 %.3f\n", 1e3 * lat[infer_reps / 2]);
    printf("infer_ms_per_image_batch1_mean %.3f\n", 1e3 * total_lat / infer_reps);
    free(lat);
    int reps = 5;
    t0 = now();
    for (int r = 0; r < reps; r++)
        if (nn_model_predict(im, x, batch, probs, &err)) goto fail;
    t1 = now();
    printf("infer_images_per_s_batched %.1f\n", reps * batch / (t1 - t0));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_mib %.1f\n", ru.ru_maxrss / 1024.0);
    free(probs);
    free(labels);
    nn_adam_free(&adam);
    nn_model_free(im);
    nn_model_free(m);
    return 0;
fail:
    fprintf(stderr, "bench_train: %s\n", err.msg);
    return 1;
}
