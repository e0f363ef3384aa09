/* The paper's DCNN built from its description, checked number by number
 * against Fig. 1; description parsing and its errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "nn/model.h"

Test(model, paper_dcnn_summary_number_by_number)
{
    nn_arch arch;
    nn_error err = {0};
    cr_assert_eq(nn_arch_parse(NN_ARCH_FER_DCNN, &arch, &err), NN_OK, "%s", err.msg);
    nn_model *m = nn_model_create(&arch, 2, NN_NO_GRADS, &err);
    cr_assert_not_null(m, "%s", err.msg);

    static const struct {
        const char *name, *shape;
        size_t params;
    } want[] = {
        {"conv2d_1", "46x46x64", 640},      {"conv2d_2", "44x44x64", 36928},
        {"max_pooling2d_1", "22x22x64", 0}, {"dropout_1", "22x22x64", 0},
        {"conv2d_3", "20x20x64", 36928},    {"conv2d_4", "18x18x64", 36928},
        {"max_pooling2d_2", "9x9x64", 0},   {"dropout_2", "9x9x64", 0},
        {"conv2d_5", "7x7x128", 73856},     {"conv2d_6", "5x5x128", 147584},
        {"max_pooling2d_3", "2x2x128", 0},  {"flatten_1", "512", 0},
        {"dense_1", "1024", 525312},        {"dropout_3", "1024", 0},
        {"dense_2", "1024", 1049600},       {"dropout_4", "1024", 0},
        {"dense_3", "7", 7175},
    };
    cr_assert_eq(arch.n_layers, (int)(sizeof want / sizeof *want));
    for (int i = 0; i < arch.n_layers; i++) {
        char shape[32];
        nn_model_layer_shape(m, i, shape, sizeof shape);
        cr_expect_str_eq(m->layer_name[i], want[i].name, "layer %d", i);
        cr_expect_str_eq(shape, want[i].shape, "layer %d (%s)", i, want[i].name);
        cr_expect_eq(nn_model_layer_params(m, i), want[i].params, "layer %d (%s): %zu params", i,
                     want[i].name, nn_model_layer_params(m, i));
    }
    cr_assert_eq(nn_model_param_count(m), 1914951);
    cr_assert_eq(m->n_classes, 7);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    nn_model_summary(m, f);
    fclose(f);
    cr_assert(strstr(text, "conv2d_2 (Conv2D)"), "%s", text);
    cr_assert(strstr(text, "Total params: 1,914,951"), "%s", text);
    cr_assert(strstr(text, "1,049,600"), "%s", text);
    free(text);
    nn_model_free(m);
}

Test(model, description_round_trip)
{
    nn_arch a, b;
    cr_assert_eq(nn_arch_parse(NN_ARCH_FER_DCNN, &a, NULL), NN_OK);
    char text[1024];
    size_t n = nn_arch_format(&a, text, sizeof text);
    cr_assert_lt(n, sizeof text);
    cr_assert_eq(nn_arch_parse(text, &b, NULL), NN_OK, "%s", text);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "%s", text);
    cr_assert_eq(nn_arch_parse("input(9,9,2) conv(4,2x3,same,relu) flatten dense(3)", &a, NULL), NN_OK);
    cr_assert_eq(a.layers[0].kh, 2);
    cr_assert_eq(a.layers[0].kw, 3);
    cr_assert_eq(a.layers[0].padding, NN_PAD_SAME);
}

static void expect_parse_error(const char *text, const char *needle)
{
    nn_arch a;
    nn_error err = {0};
    cr_assert_neq(nn_arch_parse(text, &a, &err), NN_OK, "accepted: %s", text);
    cr_assert(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", text, err.msg, needle);
}

Test(model, description_errors)
{
    expect_parse_error("", "empty");
    expect_parse_error("conv(4,3) dense(2)", "input");
    expect_parse_error("input(8,8,1) conv(4) dense(2)", "layer 2");
    expect_parse_error("input(8,8,1) pool(2) dense(2)", "unknown layer 'pool'");
    expect_parse_error("input(8,8,1) maxpool(3) flatten dense(2)", "maxpool(2)");
    expect_parse_error("input(8,8,1) dropout(1.5) flatten dense(2)", "[0,1)");
    expect_parse_error("input(8,8,1) flatten dense(2) dropout(0.1)", "last layer must be dense");
    expect_parse_error("input(8,8,1) conv(4,3,tanh) flatten dense(2)", "unknown conv option 'tanh'");
    expect_parse_error("input(8,8,1) conv(4,3 flatten dense(2)", "layer 2");
}

Test(model, shape_errors_are_reported_not_crashes)
{
    nn_arch a;
    nn_error err = {0};
    /* dense straight after a conv: needs flatten */
    cr_assert_eq(nn_arch_parse("input(8,8,1) conv(4,3) dense(2)", &a, NULL), NN_OK);
    cr_assert_null(nn_model_create(&a, 1, NN_NO_GRADS, &err));
    cr_assert(strstr(err.msg, "flatten"), "%s", err.msg);
    /* a kernel larger than its input */
    cr_assert_eq(nn_arch_parse("input(4,4,1) conv(4,5) flatten dense(2)", &a, NULL), NN_OK);
    cr_assert_null(nn_model_create(&a, 1, NN_NO_GRADS, &err));
    cr_assert(strstr(err.msg, "does not fit"), "%s", err.msg);
    /* zero batch */
    cr_assert_eq(nn_arch_parse("input(4,4,1) flatten dense(2)", &a, NULL), NN_OK);
    cr_assert_null(nn_model_create(&a, 0, NN_NO_GRADS, &err));
    cr_assert_eq(err.code, NN_ERR_ARG);
}

Test(graph, bad_input_gives_errors)
{
    nn_error err = {0};
    nn_graph *g = nn_graph_create();
    nn_node *x = nn_input(g, "x", 4, 4, 2, 0);
    nn_node *w = nn_param(g, "w", 4, (int[]){3, 3, 5, 2}); /* 5 input channels, x has 2 */
    nn_node *b = nn_param(g, "b", 1, (int[]){2});
    nn_node *y = nn_conv2d(g, x, w, b, NN_PAD_VALID, NN_ACT_NONE);
    cr_assert_null(y);
    cr_assert_null(nn_relu(g, y)); /* NULL propagates; the first error is kept */
    cr_assert_eq(nn_graph_alloc(g, 2, NN_WITH_GRADS, &err), NN_ERR_SHAPE);
    cr_assert(strstr(err.msg, "conv2d"), "%s", err.msg);
    nn_graph_free(g);

    g = nn_graph_create();
    cr_assert_null(nn_param(g, "zero", 2, (int[]){3, 0}));
    cr_assert_eq(nn_graph_alloc(g, 1, NN_NO_GRADS, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "dimension 1 is 0"), "%s", err.msg);
    nn_graph_free(g);

    cr_assert_eq(nn_graph_alloc(NULL, 1, NN_NO_GRADS, &err), NN_ERR_ARG);
    g = nn_graph_create();
    cr_assert_eq(nn_graph_alloc(g, 1, NN_NO_GRADS, &err), NN_ERR_ARG); /* empty */
    nn_node *v = nn_input(g, "v", 3, 0, 0, 0);
    nn_node *pw = nn_param(g, "w", 2, (int[]){3, 2});
    nn_node *pb = nn_param(g, "b", 1, (int[]){2});
    nn_node *out = nn_dense(g, v, pw, pb, NN_ACT_NONE);
    cr_assert_eq(nn_graph_alloc(g, 2, NN_NO_GRADS, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(nn_graph_set_batch(g, 3, &err), NN_ERR_ARG);
    cr_assert_eq(nn_graph_backward_seeded(g, out, nn_value(out), &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "without gradients"), "%s", err.msg);
    nn_graph_free(g);
}
