/* Keras import of bad input: every failure is an error naming the file and
 * the problem -- never a crash, never a half-built model. */
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>

#include "export/keras.h"
#include "test_export_keras_helpers.h"

/* An exported pair to break: layers normalization_1, conv2d_1,
 * max_pooling2d_1, flatten_1, dense_1. */
#define ARCH "input(12,10,1) conv(3,3,relu) maxpool(2) flatten dense(5)"

typedef struct {
    char *dir;
    char json[256], h5[256], bin[256], bad_json[256], bad_h5[256];
} pair;

static void pair_make(pair *p)
{
    test_model t;
    test_model_make(&t, ARCH, 21, "m");
    p->dir = scratch_dir();
    path_in(p->json, sizeof p->json, p->dir, "fer.json");
    path_in(p->h5, sizeof p->h5, p->dir, "fer.h5");
    path_in(p->bin, sizeof p->bin, p->dir, "model.bin");
    path_in(p->bad_json, sizeof p->bad_json, p->dir, "bad.json");
    path_in(p->bad_h5, sizeof p->bad_h5, p->dir, "bad.h5");
    nn_error err = {0};
    cr_assert_eq(fer_keras_export(&t.c, p->json, p->h5, NULL, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_model_save(p->bin, &t.c, &err), NN_OK, "%s", err.msg);
    test_model_free(&t);
}

static void pair_free(pair *p) { scratch_remove(p->dir); }

/* Imports and expects failure with `code` and every given fragment in the
 * message; the output must own nothing. */
static void expect_fail(const char *json, const char *h5, nn_status code, const char *const *frags)
{
    fer_model_file mf;
    nn_error err = {0};
    nn_status st = fer_keras_import(json, h5, 1, &mf, NULL, &err);
    cr_assert_neq(st, NN_OK, "import of %s + %s should fail", json ? json : "-", h5);
    cr_expect_eq(st, code, "status %d (%s), wanted %d: %s", st, nn_status_name(st), code, err.msg);
    cr_expect_null(mf.net, "a failed import owns nothing");
    cr_expect_null(mf.meta);
    for (int i = 0; frags[i]; i++) cr_expect(strstr(err.msg, frags[i]), "'%s' not in: %s", frags[i], err.msg);
}

#define FRAGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* fer.json with one change, written as bad.json */
static cJSON *json_layer(cJSON *root, int i)
{
    cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "layers"), i);
    cr_assert_not_null(l);
    return l;
}

static cJSON *json_config(cJSON *root, int i) { return cJSON_GetObjectItem(json_layer(root, i), "config"); }

static cJSON *json_load(const pair *p)
{
    char *text = test_read_file(p->json, NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(root);
    return root;
}

static void json_save(const pair *p, cJSON *root)
{
    char *text = cJSON_Print(root);
    write_text(p->bad_json, text);
    free(text);
    cJSON_Delete(root);
}

/* cJSON_InsertItemInArray of Debian's cJSON 1.7.15 drops the item: rebuild
 * the tail instead. */
static void insert_layer(cJSON *root, int at, const char *layer_json)
{
    cJSON *layers = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "layers");
    cJSON *tail = cJSON_CreateArray();
    while (cJSON_GetArraySize(layers) > at) cJSON_AddItemToArray(tail, cJSON_DetachItemFromArray(layers, at));
    cr_assert(cJSON_AddItemToArray(layers, cJSON_Parse(layer_json)));
    while (cJSON_GetArraySize(tail) > 0) cJSON_AddItemToArray(layers, cJSON_DetachItemFromArray(tail, 0));
    cJSON_Delete(tail);
}

static void set_str(cJSON *obj, const char *key, const char *v)
{
    cJSON_DeleteItemFromObject(obj, key);
    cJSON_AddStringToObject(obj, key, v);
}

/* ---- files ------------------------------------------------------------------- */

Test(keras_errors, missing_files_are_named)
{
    pair p;
    pair_make(&p);
    char missing[300];
    path_in(missing, sizeof missing, p.dir, "nope.json");
    expect_fail(missing, p.h5, NN_ERR_IO, FRAGS("nope.json", "No such file"));
    path_in(missing, sizeof missing, p.dir, "nope.h5");
    expect_fail(p.json, missing, NN_ERR_IO, FRAGS("nope.h5", "No such file"));
    pair_free(&p);
}

Test(keras_errors, weights_file_that_is_not_hdf5)
{
    pair p;
    pair_make(&p);
    write_text(p.bad_h5, "this is not HDF5\n");
    expect_fail(p.json, p.bad_h5, NN_ERR_FORMAT, FRAGS("bad.h5", "not an HDF5 file"));
    expect_fail(p.json, p.bin, NN_ERR_FORMAT, FRAGS("model.bin", "a fer model file"));
    expect_fail(p.h5, p.json, NN_ERR_FORMAT, FRAGS("fer.h5", "swapped"));
    pair_free(&p);
}

Test(keras_errors, truncated_weights_file)
{
    pair p;
    pair_make(&p);
    size_t len;
    char *data = test_read_file(p.h5, &len);
    FILE *f = fopen(p.bad_h5, "wb");
    fwrite(data, 1, len / 2, f);
    fclose(f);
    free(data);
    fer_model_file mf;
    nn_error err = {0};
    cr_assert_neq(fer_keras_import(p.json, p.bad_h5, 1, &mf, NULL, &err), NN_OK);
    cr_expect(strstr(err.msg, "bad.h5"), "%s", err.msg);
    pair_free(&p);
}

Test(keras_errors, hdf5_without_keras_layout)
{
    pair p;
    pair_make(&p);
    hid_t f = H5Fcreate(p.bad_h5, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    H5Fclose(f);
    expect_fail(p.json, p.bad_h5, NN_ERR_FORMAT, FRAGS("bad.h5", "no layer_names"));
    expect_fail(NULL, p.bad_h5, NN_ERR_FORMAT, FRAGS("bad.h5", "no model_config", "JSON"));
    pair_free(&p);
}

Test(keras_errors, json_syntax_error_names_the_line)
{
    pair p;
    pair_make(&p);
    write_text(p.bad_json, "{\n  \"class_name\": \"Sequential\",\n  \"config\": {\"layers\": [,]}\n}\n");
    expect_fail(p.bad_json, p.h5, NN_ERR_FORMAT, FRAGS("bad.json:3:", "not valid JSON"));
    write_text(p.bad_json, "[1, 2]");
    expect_fail(p.bad_json, p.h5, NN_ERR_FORMAT, FRAGS("bad.json", "not a Keras model description"));
    pair_free(&p);
}

/* ---- unsupported models ------------------------------------------------------ */

Test(keras_errors, unsupported_layer_is_named)
{
    pair p;
    pair_make(&p);
    cJSON *root = json_load(&p);
    insert_layer(root, 2, "{\"class_name\": \"BatchNormalization\", \"config\": "
                          "{\"name\": \"batch_normalization_1\", \"axis\": -1}}");
    json_save(&p, root);
    expect_fail(p.bad_json, p.h5, NN_ERR_UNSUPPORTED,
                FRAGS("bad.json", "layer 3 'batch_normalization_1' (BatchNormalization)", "not supported"));
    pair_free(&p);
}

Test(keras_errors, functional_model_is_refused)
{
    pair p;
    pair_make(&p);
    cJSON *root = json_load(&p);
    set_str(root, "class_name", "Functional");
    json_save(&p, root);
    expect_fail(p.bad_json, p.h5, NN_ERR_UNSUPPORTED, FRAGS("bad.json", "only Sequential"));
    pair_free(&p);
}

typedef void (*mutation)(cJSON *root);

static void m_strides(cJSON *r)
{
    cJSON *c = json_config(r, 1);
    cJSON_DeleteItemFromObject(c, "strides");
    cJSON_AddItemToObject(c, "strides", cJSON_CreateIntArray((int[]){2, 2}, 2));
}
static void m_channels_first(cJSON *r) { set_str(json_config(r, 1), "data_format", "channels_first"); }
static void m_tanh(cJSON *r) { set_str(json_config(r, 1), "activation", "tanh"); }
static void m_softmax_inside(cJSON *r) { set_str(json_config(r, 1), "activation", "softmax"); }
static void m_channels(cJSON *r)
{
    cJSON *c = json_config(r, 0);
    cJSON_DeleteItemFromObject(c, "batch_input_shape");
    cJSON_AddItemToObject(c, "batch_input_shape", cJSON_Parse("[null, 12, 10, 3]"));
}
static void m_no_input(cJSON *r) { cJSON_DeleteItemFromObject(json_config(r, 0), "batch_input_shape"); }
static void m_no_flatten(cJSON *r)
{
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "config"), "layers"), 3);
}
static void m_pool3(cJSON *r)
{
    cJSON *c = json_config(r, 2);
    cJSON_DeleteItemFromObject(c, "pool_size");
    cJSON_AddItemToObject(c, "pool_size", cJSON_CreateIntArray((int[]){3, 3}, 2));
}
static void m_dilation(cJSON *r)
{
    cJSON *c = json_config(r, 1);
    cJSON_DeleteItemFromObject(c, "dilation_rate");
    cJSON_AddNumberToObject(c, "dilation_rate", 2);
}
static void m_bad_type(cJSON *r)
{
    cJSON *c = json_config(r, 1);
    cJSON_DeleteItemFromObject(c, "filters");
    cJSON_AddStringToObject(c, "filters", "three");
}

static void expect_json_refused(mutation m, nn_status code, const char *const *frags)
{
    pair p;
    pair_make(&p);
    cJSON *root = json_load(&p);
    m(root);
    json_save(&p, root);
    expect_fail(p.bad_json, p.h5, code, frags);
    pair_free(&p);
}

Test(keras_errors, unsupported_options_are_named)
{
    expect_json_refused(m_strides, NN_ERR_UNSUPPORTED, FRAGS("bad.json", "'conv2d_1' (Conv2D)", "strides (2, 2)"));
    expect_json_refused(m_channels_first, NN_ERR_UNSUPPORTED, FRAGS("conv2d_1", "channels_first"));
    expect_json_refused(m_tanh, NN_ERR_UNSUPPORTED, FRAGS("conv2d_1", "\"tanh\""));
    expect_json_refused(m_softmax_inside, NN_ERR_UNSUPPORTED, FRAGS("conv2d_1", "softmax"));
    expect_json_refused(m_channels, NN_ERR_UNSUPPORTED, FRAGS("bad.json", "3 channels"));
    expect_json_refused(m_pool3, NN_ERR_UNSUPPORTED, FRAGS("max_pooling2d_1", "pool_size (3, 3)"));
    expect_json_refused(m_dilation, NN_ERR_UNSUPPORTED, FRAGS("conv2d_1", "dilation_rate"));
    expect_json_refused(m_no_flatten, NN_ERR_UNSUPPORTED, FRAGS("dense_1", "Flatten before it"));
}

Test(keras_errors, malformed_descriptions_are_named)
{
    expect_json_refused(m_no_input, NN_ERR_FORMAT, FRAGS("bad.json", "no input shape"));
    expect_json_refused(m_bad_type, NN_ERR_FORMAT, FRAGS("conv2d_1", "\"filters\" must be an integer"));
}

/* ---- the description and the weights disagree ---------------------------------- */

static void m_filters(cJSON *r)
{
    cJSON *c = json_config(r, 1);
    cJSON_DeleteItemFromObject(c, "filters");
    cJSON_AddNumberToObject(c, "filters", 5);
}

Test(keras_errors, kernel_shape_mismatch_names_dataset_and_shapes)
{
    expect_json_refused(m_filters, NN_ERR_SHAPE,
                        FRAGS("fer.h5", "/conv2d_1/conv2d_1/kernel:0", "(3, 3, 1, 3)", "bad.json",
                              "'conv2d_1' (Conv2D)", "(3, 3, 1, 5)"));
}

static void m_extra_dense(cJSON *r)
{
    insert_layer(r, 4, "{\"class_name\": \"Dense\", \"config\": "
                       "{\"name\": \"dense_9\", \"units\": 8, \"activation\": \"relu\"}}");
}

Test(keras_errors, layer_count_mismatch_lists_both_sides)
{
    expect_json_refused(m_extra_dense, NN_ERR_SHAPE,
                        FRAGS("fer.h5 holds weights for 3 layers (normalization_1, conv2d_1, dense_1)",
                              "bad.json describes 4"));
}

static void h5_edit(const pair *p, void (*edit)(hid_t f))
{
    size_t len;
    char *data = test_read_file(p->h5, &len);
    FILE *out = fopen(p->bad_h5, "wb");
    cr_assert_eq(fwrite(data, 1, len, out), len);
    fclose(out);
    free(data);
    hid_t f = H5Fopen(p->bad_h5, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    edit(f);
    H5Fclose(f);
}

static void e_nan(hid_t f)
{
    float bias[5] = {0, 0, NAN, 0, 0};
    hid_t d = H5Dopen2(f, "/dense_1/dense_1/bias:0", H5P_DEFAULT);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, bias), 0);
    H5Dclose(d);
}

static void e_drop_dataset(hid_t f) { cr_assert_geq(H5Ldelete(f, "/conv2d_1/conv2d_1/bias:0", H5P_DEFAULT), 0); }

static void e_drop_group(hid_t f) { cr_assert_geq(H5Ldelete(f, "/flatten_1", H5P_DEFAULT), 0); }

Test(keras_errors, broken_weights_are_named)
{
    pair p;
    pair_make(&p);
    h5_edit(&p, e_nan);
    expect_fail(p.json, p.bad_h5, NN_ERR_FORMAT, FRAGS("bad.h5", "/dense_1/dense_1/bias:0", "NaN"));
    h5_edit(&p, e_drop_dataset);
    expect_fail(p.json, p.bad_h5, NN_ERR_FORMAT, FRAGS("bad.h5", "no dataset /conv2d_1/conv2d_1/bias:0"));
    h5_edit(&p, e_drop_group);
    expect_fail(p.json, p.bad_h5, NN_ERR_FORMAT, FRAGS("bad.h5", "'flatten_1'", "no group"));
    pair_free(&p);
}

/* The same pair, intact, imports: the breakages above are what failed. */
Test(keras_errors, the_intact_pair_imports)
{
    pair p;
    pair_make(&p);
    fer_model_file mf;
    nn_error err = {0};
    cr_assert_eq(fer_keras_import(p.json, p.h5, 1, &mf, NULL, &err), NN_OK, "%s", err.msg);
    fer_model_file_free(&mf);
    pair_free(&p);
}
