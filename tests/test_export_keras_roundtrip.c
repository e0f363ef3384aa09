/* Keras export: model.bin -> fer.json + fer.h5 -> model.bin gives the same
 * bytes; the files have the layout Keras reads (checked with cJSON and the
 * HDF5 C API directly, not through our reader); a failed export leaves
 * nothing half-written. */
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <sys/stat.h>

#include "export/keras.h"
#include "test_export_keras_helpers.h"

static void round_trip(const char *arch, const char *meta, int no_norm)
{
    test_model t;
    test_model_make(&t, arch, 11, meta);
    char *dir = scratch_dir(), json[256], h5[256];
    path_in(json, sizeof json, dir, "fer.json");
    path_in(h5, sizeof h5, dir, "fer.h5");
    nn_error err = {0};
    fer_keras_export_opts opts = {.no_normalization_layer = no_norm};
    cr_assert_eq(fer_keras_export(&t.c, json, h5, &opts, &err), NN_OK, "%s", err.msg);

    fer_model_file back;
    fer_keras_import_info info;
    cr_assert_eq(fer_keras_import(json, h5, 3, &back, &info, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(info.stats, no_norm ? FER_KERAS_STATS_EXTRA : FER_KERAS_STATS_LAYERS);
    cr_expect(info.class_names_stored);
    cr_expect(info.softmax_output);
    cr_expect_eq(back.kind, FER_FILE_MODEL);

    uint8_t *want, *got;
    size_t want_len, got_len;
    cr_assert_eq(fer_model_serialize(&t.c, &want, &want_len, &err), NN_OK, "%s", err.msg);
    deployable_bytes(&back, &got, &got_len);
    cr_assert_eq(got_len, want_len, "%zu bytes back, %zu out", got_len, want_len);
    cr_assert(memcmp(got, want, want_len) == 0, "the model file read back from Keras differs");
    free(want);
    free(got);
    fer_model_file_free(&back);
    test_model_free(&t);
    scratch_remove(dir);
}

Test(keras_roundtrip, small_model_is_bit_identical)
{
    round_trip(SMALL_ARCH, "made by: test\nline two\n", 0);
}

Test(keras_roundtrip, without_normalization_layer_is_bit_identical)
{
    round_trip(SMALL_ARCH, "meta", 1);
}

Test(keras_roundtrip, no_meta_and_empty_meta_stay_apart)
{
    round_trip(SMALL_ARCH, NULL, 0);
    round_trip(SMALL_ARCH, "", 0);
}

Test(keras_roundtrip, final_relu_dense_gets_a_softmax_activation_layer)
{
    round_trip("input(8,8,1) conv(2,3) maxpool(2) flatten dense(4,relu) dense(3,relu)", "m", 0);
}

Test(keras_roundtrip, paper_dcnn_is_bit_identical)
{
    round_trip(NN_ARCH_FER_DCNN, "the paper's network", 0);
}

/* Keras keeps the variance; the export is exact only if sqrt(fl(s * s)) == s
 * for every standard deviation it can meet. Checked for every float from the
 * 1-grey-level floor to 65536. */
Test(keras_roundtrip, variance_gives_back_every_std_exactly)
{
    uint32_t lo, hi;
    float a = 1.0f, b = 65536.0f;
    memcpy(&lo, &a, 4);
    memcpy(&hi, &b, 4);
    long bad = 0;
    for (uint32_t u = lo; u < hi; u++) {
        float s;
        memcpy(&s, &u, 4);
        volatile float v = s * s; /* rounded to float, as stored */
        if (sqrtf(v) != s) bad++;
    }
    cr_assert_eq(bad, 0, "%ld standard deviations do not survive the variance", bad);
}

/* ---- the files themselves ----------------------------------------------------- */

static cJSON *layer_config(cJSON *layers, int i, const char *cls)
{
    cJSON *l = cJSON_GetArrayItem(layers, i);
    cr_assert_not_null(l, "layer %d missing", i);
    cr_assert_str_eq(cJSON_GetObjectItem(l, "class_name")->valuestring, cls, "layer %d", i);
    return cJSON_GetObjectItem(l, "config");
}

Test(keras_roundtrip, json_is_a_keras_sequential)
{
    test_model t;
    test_model_make(&t, SMALL_ARCH, 5, "m");
    char *dir = scratch_dir(), json[256], h5[256];
    path_in(json, sizeof json, dir, "fer.json");
    path_in(h5, sizeof h5, dir, "fer.h5");
    nn_error err = {0};
    cr_assert_eq(fer_keras_export(&t.c, json, h5, NULL, &err), NN_OK, "%s", err.msg);
    char *text = test_read_file(json, NULL);
    cJSON *root = cJSON_Parse(text);
    cr_assert_not_null(root);
    cr_expect_str_eq(cJSON_GetObjectItem(root, "class_name")->valuestring, "Sequential");
    cr_expect_str_eq(cJSON_GetObjectItem(root, "backend")->valuestring, "tensorflow");
    cr_expect_eq(strncmp(cJSON_GetObjectItem(root, "keras_version")->valuestring, "2.", 2), 0);
    cJSON *cfg = cJSON_GetObjectItem(root, "config");
    cr_expect_str_eq(cJSON_GetObjectItem(cfg, "name")->valuestring, "fer");
    cJSON *layers = cJSON_GetObjectItem(cfg, "layers");
    cr_assert_eq(cJSON_GetArraySize(layers), 9);

    cJSON *c = layer_config(layers, 0, "Normalization");
    cJSON *bis = cJSON_GetObjectItem(c, "batch_input_shape");
    cr_expect(cJSON_IsNull(cJSON_GetArrayItem(bis, 0)));
    cr_expect_eq(cJSON_GetArrayItem(bis, 1)->valueint, 12);
    cr_expect_eq(cJSON_GetArrayItem(bis, 2)->valueint, 10);
    cr_expect_eq(cJSON_GetArrayItem(bis, 3)->valueint, 1);

    c = layer_config(layers, 2, "Conv2D");
    cr_expect_str_eq(cJSON_GetObjectItem(c, "name")->valuestring, "conv2d_2");
    cr_expect_eq(cJSON_GetObjectItem(c, "filters")->valueint, 4);
    cr_expect_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "kernel_size"), 0)->valueint, 3);
    cr_expect_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "kernel_size"), 1)->valueint, 2);
    cr_expect_str_eq(cJSON_GetObjectItem(c, "padding")->valuestring, "same");
    cr_expect_str_eq(cJSON_GetObjectItem(c, "data_format")->valuestring, "channels_last");
    cr_expect_str_eq(cJSON_GetObjectItem(c, "activation")->valuestring, "relu");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(c, "use_bias")));
    cr_expect_not_null(cJSON_GetObjectItem(c, "kernel_initializer"));
    cr_expect_null(cJSON_GetObjectItem(c, "groups"), "Keras < 2.3 rejects 'groups'");

    c = layer_config(layers, 3, "MaxPooling2D");
    cr_expect_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "pool_size"), 0)->valueint, 2);
    c = layer_config(layers, 4, "Dropout");
    char *rate = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "rate"));
    cr_expect_str_eq(rate, "0.25");
    free(rate);
    layer_config(layers, 5, "Flatten");
    c = layer_config(layers, 6, "Dense");
    cr_expect_eq(cJSON_GetObjectItem(c, "units")->valueint, 6);
    c = layer_config(layers, 7, "Dropout");
    rate = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "rate"));
    cr_expect_str_eq(rate, "0.2", "the float 0.2f is written as 0.2");
    free(rate);
    c = layer_config(layers, 8, "Dense");
    cr_expect_eq(cJSON_GetObjectItem(c, "units")->valueint, 5);
    cr_expect_str_eq(cJSON_GetObjectItem(c, "activation")->valuestring, "softmax");
    cJSON_Delete(root);
    free(text);
    test_model_free(&t);
    scratch_remove(dir);
}

/* Fixed-length strings of one attribute, NUL-padded, as h5py hands Keras. */
static int attr_strings(hid_t loc, const char *name, char out[][64], int max)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    cr_assert_geq(a, 0, "attribute %s", name);
    hid_t type = H5Aget_type(a), space = H5Aget_space(a);
    int n = (int)H5Sget_simple_extent_npoints(space);
    cr_assert_leq(n, max);
    if (n > 0) {
        cr_assert_eq(H5Tget_class(type), H5T_STRING);
        cr_assert_leq(H5Tis_variable_str(type), 0, "%s: fixed-length, as Keras writes it", name);
        size_t w = H5Tget_size(type);
        char *buf = calloc((size_t)n, w);
        cr_assert_geq(H5Aread(a, type, buf), 0);
        for (int i = 0; i < n; i++) {
            memset(out[i], 0, 64);
            memcpy(out[i], buf + (size_t)i * w, w < 63 ? w : 63);
        }
        free(buf);
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Aclose(a);
    return n;
}

Test(keras_roundtrip, h5_has_the_keras_layout)
{
    test_model t;
    test_model_make(&t, SMALL_ARCH, 9, "m");
    char *dir = scratch_dir(), json[256], h5[256];
    path_in(json, sizeof json, dir, "fer.json");
    path_in(h5, sizeof h5, dir, "fer.h5");
    nn_error err = {0};
    cr_assert_eq(fer_keras_export(&t.c, json, h5, NULL, &err), NN_OK, "%s", err.msg);

    hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    char names[16][64];
    static const char *const want[] = {"normalization_1", "conv2d_1", "conv2d_2", "max_pooling2d_1",
                                       "dropout_1", "flatten_1", "dense_1", "dropout_2", "dense_2"};
    cr_assert_eq(attr_strings(f, "layer_names", names, 16), 9, "every layer, weightless ones too");
    for (int i = 0; i < 9; i++) cr_expect_str_eq(names[i], want[i]);
    cr_assert_eq(attr_strings(f, "backend", names, 16), 1);
    cr_expect_str_eq(names[0], "tensorflow");
    cr_assert_eq(attr_strings(f, "keras_version", names, 16), 1);
    cr_expect_eq(names[0][0], '2');

    hid_t g = H5Gopen2(f, "max_pooling2d_1", H5P_DEFAULT);
    cr_assert_eq(attr_strings(g, "weight_names", names, 16), 0, "a weightless layer lists no weights");
    H5Gclose(g);
    g = H5Gopen2(f, "conv2d_2", H5P_DEFAULT);
    cr_assert_eq(attr_strings(g, "weight_names", names, 16), 2);
    cr_expect_str_eq(names[0], "conv2d_2/kernel:0");
    cr_expect_str_eq(names[1], "conv2d_2/bias:0");
    H5Gclose(g);

    /* /<layer>/<layer>/kernel:0: float32 (kh, kw, in, out), our own memory order */
    hid_t d = H5Dopen2(f, "/conv2d_2/conv2d_2/kernel:0", H5P_DEFAULT);
    cr_assert_geq(d, 0);
    hid_t s = H5Dget_space(d), type = H5Dget_type(d);
    hsize_t dims[4];
    cr_assert_eq(H5Sget_simple_extent_ndims(s), 4);
    H5Sget_simple_extent_dims(s, dims, NULL);
    cr_expect(dims[0] == 3 && dims[1] == 2 && dims[2] == 3 && dims[3] == 4);
    cr_expect(H5Tequal(type, H5T_IEEE_F32LE) > 0);
    const nn_node *k = t.net->layer_kernel[1];
    float *buf = malloc(k->size * sizeof *buf);
    cr_assert_geq(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
    cr_expect_eq(memcmp(buf, k->value, k->size * sizeof *buf), 0);
    free(buf);
    H5Tclose(type);
    H5Sclose(s);
    H5Dclose(d);

    d = H5Dopen2(f, "/dense_1/dense_1/kernel:0", H5P_DEFAULT); /* (in, out): 5*4*4 = 80 rows */
    s = H5Dget_space(d);
    H5Sget_simple_extent_dims(s, dims, NULL);
    cr_expect(dims[0] == 80 && dims[1] == 6);
    H5Sclose(s);
    H5Dclose(d);

    /* Normalization: mean and variance = std^2 per pixel, (h, w, 1) */
    float mean[120], var[120];
    d = H5Dopen2(f, "/normalization_1/normalization_1/mean:0", H5P_DEFAULT);
    cr_assert_geq(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, mean), 0);
    H5Dclose(d);
    d = H5Dopen2(f, "/normalization_1/normalization_1/variance:0", H5P_DEFAULT);
    cr_assert_geq(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, var), 0);
    H5Dclose(d);
    for (int p = 0; p < 120; p++) {
        cr_expect_eq(mean[p], t.norm.mean[p]);
        cr_expect_eq(sqrtf(var[p]), t.norm.std[p]);
    }
    H5Fclose(f);
    test_model_free(&t);
    scratch_remove(dir);
}

/* ---- atomicity ------------------------------------------------------------------ */

static int count_entries(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    cr_assert_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

Test(keras_roundtrip, failed_export_leaves_previous_files_and_no_temporaries)
{
    test_model t;
    test_model_make(&t, SMALL_ARCH, 3, "m");
    char *dir = scratch_dir(), json[256], h5[256];
    path_in(json, sizeof json, dir, "fer.json");
    path_in(h5, sizeof h5, dir, "fer.h5");
    write_text(json, "previous json");
    cr_assert_eq(mkdir(h5, 0700), 0); /* the weights cannot be renamed into place */
    char inside[300];
    path_in(inside, sizeof inside, h5, "x"); /* a non-empty directory: rename() must fail */
    write_text(inside, "x");
    nn_error err = {0};
    cr_assert_neq(fer_keras_export(&t.c, json, h5, NULL, &err), NN_OK);
    cr_expect(strstr(err.msg, "fer.h5"), "%s", err.msg);
    char *text = test_read_file(json, NULL);
    cr_expect_str_eq(text, "previous json", "the JSON must not be replaced when the weights fail");
    free(text);
    cr_expect_eq(count_entries(dir), 2, "no temporary files left behind");
    test_model_free(&t);
    scratch_remove(dir);
}

Test(keras_roundtrip, export_into_missing_directory_fails_cleanly)
{
    test_model t;
    test_model_make(&t, SMALL_ARCH, 3, "m");
    char *dir = scratch_dir(), json[256], h5[256];
    path_in(json, sizeof json, dir, "no/such/fer.json");
    path_in(h5, sizeof h5, dir, "no/such/fer.h5");
    nn_error err = {0};
    cr_assert_eq(fer_keras_export(&t.c, json, h5, NULL, &err), NN_ERR_IO);
    cr_expect(strstr(err.msg, "no/such/fer.h5"), "%s", err.msg);
    cr_expect_eq(count_entries(dir), 0);
    test_model_free(&t);
    scratch_remove(dir);
}

/* ---- other spellings Keras has used ---------------------------------------------- */

/* Exports SMALL_ARCH without a Normalization layer, lets edit() rewrite the
 * JSON, imports the result. */
static void import_edited(void (*edit)(cJSON *root), fer_model_file *out, fer_keras_import_info *info)
{
    test_model t;
    test_model_make(&t, SMALL_ARCH, 17, "m");
    char *dir = scratch_dir(), json[256], h5[256];
    path_in(json, sizeof json, dir, "fer.json");
    path_in(h5, sizeof h5, dir, "fer.h5");
    nn_error err = {0};
    fer_keras_export_opts opts = {.no_normalization_layer = 1};
    cr_assert_eq(fer_keras_export(&t.c, json, h5, &opts, &err), NN_OK, "%s", err.msg);
    char *text = test_read_file(json, NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    edit(root);
    text = cJSON_Print(root);
    write_text(json, text);
    free(text);
    cJSON_Delete(root);
    cr_assert_eq(fer_keras_import(json, h5, 1, out, info, &err), NN_OK, "%s", err.msg);
    /* the network itself is untouched by these edits */
    char a[512], b[512];
    nn_arch_format(&out->net->arch, a, sizeof a);
    nn_arch_format(&t.net->arch, b, sizeof b);
    cr_expect_str_eq(a, b);
    cr_expect_eq(memcmp(nn_graph_params(out->net->graph), nn_graph_params(t.net->graph),
                        nn_model_param_count(t.net) * sizeof(float)), 0);
    test_model_free(&t);
    scratch_remove(dir);
}

static void bare_list(cJSON *root) /* Keras < 2.2: "config" is the layer list itself */
{
    cJSON *cfg = cJSON_DetachItemFromObject(root, "config");
    cJSON_AddItemToObject(root, "config", cJSON_DetachItemFromObject(cfg, "layers"));
    cJSON_Delete(cfg);
}

Test(keras_import, old_keras_bare_layer_list)
{
    fer_model_file mf;
    fer_keras_import_info info;
    import_edited(bare_list, &mf, &info);
    cr_expect_eq(info.stats, FER_KERAS_STATS_EXTRA);
    fer_model_file_free(&mf);
}

/* Normalization(mean=100, variance=400) in the config, no weights; and an
 * InputLayer carrying the input shape. */
static void inline_norm(cJSON *root)
{
    cJSON *layers = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "layers");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 0), "config"), "batch_input_shape");
    cJSON *tail = cJSON_CreateArray();
    while (cJSON_GetArraySize(layers) > 0) cJSON_AddItemToArray(tail, cJSON_DetachItemFromArray(layers, 0));
    cJSON_AddItemToArray(layers, cJSON_Parse("{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": "
                                             "[null, 12, 10, 1], \"name\": \"input_1\"}}"));
    cJSON_AddItemToArray(layers, cJSON_Parse("{\"class_name\": \"Normalization\", \"config\": {\"name\": \"norm\", "
                                             "\"axis\": null, \"mean\": 100, \"variance\": 400}}"));
    while (cJSON_GetArraySize(tail) > 0) cJSON_AddItemToArray(layers, cJSON_DetachItemFromArray(tail, 0));
    cJSON_Delete(tail);
}

Test(keras_import, inline_normalization_statistics)
{
    fer_model_file mf;
    fer_keras_import_info info;
    import_edited(inline_norm, &mf, &info);
    cr_expect_eq(info.stats, FER_KERAS_STATS_LAYERS);
    for (int p = 0; p < 120; p++) {
        cr_expect_eq(mf.norm.mean[p], 100.0f);
        cr_expect_eq(mf.norm.std[p], 20.0f);
    }
    fer_model_file_free(&mf);
}
