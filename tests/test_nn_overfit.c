/* A tiny network memorises a tiny synthetic data set (random images with
 * random labels, so nothing but memorisation works): the training loss must
 * fall below 0.05. And allocation failure is an error, not a crash. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "nn/adam.h"
#include "nn/model.h"

Test(overfit, tiny_network_memorises_tiny_data)
{
    nn_arch arch;
    nn_error err = {0};
    cr_assert_eq(nn_arch_parse("input(8,8,1) conv(8,3,relu) maxpool(2) flatten dense(32,relu) dense(7)",
                               &arch, &err), NN_OK, "%s", err.msg);
    enum { N = 16 };
    nn_model *m = nn_model_create(&arch, N, NN_WITH_GRADS, &err);
    cr_assert_not_null(m, "%s", err.msg);
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    nn_model_init_glorot(m, &rng);
    int32_t labels[N];
    float *x = nn_value(m->input);
    for (size_t i = 0; i < nn_node_size(m->input); i++) x[i] = nn_rng_normal(&rng);
    for (int i = 0; i < N; i++) labels[i] = (int32_t)nn_rng_below(&rng, 7);
    nn_graph_set_labels(m->graph, labels);
    nn_graph_set_training(m->graph, 1);
    nn_adam adam;
    cr_assert_eq(nn_adam_init(&adam, nn_model_param_count(m), &err), NN_OK);
    adam.lr = 0.01f;
    float first = 0, loss = 0;
    for (int step = 0; step < 300; step++) {
        nn_graph_forward(m->graph);
        loss = nn_value(m->loss)[0];
        if (step == 0) first = loss;
        cr_assert_eq(nn_graph_backward(m->graph, m->loss, &err), NN_OK, "%s", err.msg);
        nn_adam_step(&adam, nn_graph_params(m->graph), nn_graph_param_grads(m->graph), 1);
    }
    cr_assert_gt(first, 1.0f, "initial loss %g: the labels should start unpredictable", first);
    cr_assert_lt(loss, 0.05f, "loss after 300 steps: %g (from %g)", loss, first);
    nn_adam_free(&adam);
    nn_model_free(m);
}

Test(overfit, allocation_failure_is_an_error)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer aborts on impossible allocations by design");
#endif
    nn_arch arch;
    nn_error err = {0};
    cr_assert_eq(nn_arch_parse(NN_ARCH_FER_DCNN, &arch, &err), NN_OK);
    /* activations for 10 million images: terabytes, more than any machine here */
    nn_model *m = nn_model_create(&arch, 10000000, NN_WITH_GRADS, &err);
    cr_assert_null(m);
    cr_assert_eq(err.code, NN_ERR_NOMEM, "%s", err.msg);
    cr_assert(strstr(err.msg, "out of memory"), "%s", err.msg);
}
