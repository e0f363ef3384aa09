/* Writing fer.h5 in memory: HDF5's core driver without a backing store, then
 * H5Fget_file_image, so the caller decides where and how (atomically) the
 * bytes land. Strings are written as h5py writes Keras' numpy byte arrays:
 * fixed-length, NUL-padded ASCII. */
#include "export/keras_h5.h"

#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "export/keras_json.h"

/* Every HDF5 call below is checked through this: the first failure sticks
 * and names what was being written. */
typedef struct {
    const char *what; /* first failure, NULL while fine */
    hid_t gcpl, dcpl; /* creation properties: no timestamps, so the same
                         model always gives the same bytes */
} ctx;

static hid_t chk(ctx *c, hid_t id, const char *what)
{
    if (id < 0 && !c->what) c->what = what;
    return id;
}

static void chk_err(ctx *c, herr_t r, const char *what)
{
    if (r < 0 && !c->what) c->what = what;
}

/* A 1-D (or, with n < 0, scalar) attribute of fixed-length strings. */
static void attr_strings(ctx *c, hid_t loc, const char *name, const char *const *s, int n)
{
    int count = n < 0 ? 1 : n;
    size_t width = 1;
    for (int i = 0; i < count; i++)
        if (strlen(s[i]) > width) width = strlen(s[i]);
    char *buf = calloc((size_t)(count ? count : 1), width);
    if (!buf) {
        if (!c->what) c->what = "out of memory";
        return;
    }
    for (int i = 0; i < count; i++) memcpy(buf + (size_t)i * width, s[i], strlen(s[i]));
    hid_t type = chk(c, H5Tcopy(H5T_C_S1), name);
    if (type >= 0) {
        chk_err(c, H5Tset_size(type, width), name);
        chk_err(c, H5Tset_strpad(type, H5T_STR_NULLPAD), name);
    }
    hsize_t dims[1] = {(hsize_t)count};
    hid_t space = chk(c, n < 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL), name);
    hid_t a = -1;
    if (type >= 0 && space >= 0) a = chk(c, H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name);
    if (a >= 0 && count > 0) chk_err(c, H5Awrite(a, type, buf), name);
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    free(buf);
}

/* A scalar variable-length UTF-8 string (what h5py writes for a Python str):
 * no 64 KiB attribute limit, and "" stays distinct from absent. */
static void attr_text(ctx *c, hid_t loc, const char *name, const char *text)
{
    hid_t type = chk(c, H5Tcopy(H5T_C_S1), name);
    if (type >= 0) {
        chk_err(c, H5Tset_size(type, H5T_VARIABLE), name);
        chk_err(c, H5Tset_cset(type, H5T_CSET_UTF8), name);
    }
    hid_t space = chk(c, H5Screate(H5S_SCALAR), name);
    hid_t a = -1;
    if (type >= 0 && space >= 0) a = chk(c, H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name);
    if (a >= 0) chk_err(c, H5Awrite(a, type, &text), name);
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
}

/* A dataset (ndim 0: scalar) at path below loc, creating the group it lies
 * in ("conv2d_1/kernel:0" lies in group "conv2d_1"). */
static void dataset(ctx *c, hid_t loc, const char *path, int ndim, const hsize_t *dims,
                    hid_t file_type, hid_t mem_type, const void *data)
{
    const char *slash = strrchr(path, '/');
    hid_t parent = loc;
    if (slash) {
        char dir[2 * FER_KERAS_NAME_MAX + 16];
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) {
            if (!c->what) c->what = path;
            return;
        }
        memcpy(dir, path, n);
        dir[n] = '\0';
        parent = H5Lexists(loc, dir, H5P_DEFAULT) > 0 ? H5Gopen2(loc, dir, H5P_DEFAULT)
                                                     : H5Gcreate2(loc, dir, H5P_DEFAULT, c->gcpl, H5P_DEFAULT);
        if (chk(c, parent, path) < 0) return;
    }
    hid_t space = chk(c, ndim ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR), path);
    hid_t d = -1;
    if (space >= 0)
        d = chk(c, H5Dcreate2(parent, slash ? slash + 1 : path, file_type, space, H5P_DEFAULT, c->dcpl,
                              H5P_DEFAULT), path);
    if (d >= 0) chk_err(c, H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path);
    if (d >= 0) H5Dclose(d);
    if (space >= 0) H5Sclose(space);
    if (parent != loc) H5Gclose(parent);
}

static void node_dataset(ctx *c, hid_t g, const char *path, const nn_node *n)
{
    hsize_t dims[NN_MAX_DIMS];
    for (int d = 0; d < n->ndim; d++) dims[d] = (hsize_t)n->shape[d];
    dataset(c, g, path, n->ndim, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, n->value);
}

static void layer_group(ctx *c, hid_t file, const fer_keras_h5_contents *in, const fer_keras_layer *L,
                        const float *variance)
{
    static const char *const conv_w[] = {"kernel:0", "bias:0"};
    static const char *const norm_w[] = {"mean:0", "variance:0", "count:0"};
    const int n_w = fer_keras_layer_weights(L);
    const char *const *suffix = L->kind == FER_KL_NORMALIZATION ? norm_w : conv_w;
    char names[3][2 * FER_KERAS_NAME_MAX + 16];
    const char *ptrs[3];
    for (int k = 0; k < n_w; k++) {
        snprintf(names[k], sizeof names[k], "%s/%s", L->name, suffix[k]);
        ptrs[k] = names[k];
    }
    hid_t g = chk(c, H5Gcreate2(file, L->name, H5P_DEFAULT, c->gcpl, H5P_DEFAULT), L->name);
    if (g < 0) return;
    attr_strings(c, g, "weight_names", ptrs, n_w);
    if (L->kind == FER_KL_CONV2D || L->kind == FER_KL_DENSE) {
        node_dataset(c, g, names[0], in->net->layer_kernel[L->arch_layer]);
        node_dataset(c, g, names[1], in->net->layer_bias[L->arch_layer]);
    } else if (L->kind == FER_KL_NORMALIZATION) {
        /* axis (1, 2, 3): one statistic per (row, column, channel) */
        hsize_t dims[3] = {(hsize_t)in->norm->h, (hsize_t)in->norm->w, 1};
        int64_t count = 0; /* the number of training images is not kept */
        dataset(c, g, names[0], 3, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, in->norm->mean);
        dataset(c, g, names[1], 3, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, variance);
        dataset(c, g, names[2], 0, NULL, H5T_STD_I64LE, H5T_NATIVE_INT64, &count);
    }
    H5Gclose(g);
}

static void write_file(ctx *c, hid_t file, const fer_keras_h5_contents *in, const float *variance)
{
    const fer_keras_model *km = in->km;
    const char *names[FER_KERAS_MAX_LAYERS];
    for (int i = 0; i < km->n_layers; i++) names[i] = km->layers[i].name;
    attr_strings(c, file, "layer_names", names, km->n_layers);
    attr_strings(c, file, "backend", (const char *[]){"tensorflow"}, -1);
    attr_strings(c, file, "keras_version", (const char *[]){FER_KERAS_VERSION}, -1);
    attr_strings(c, file, "fer_class_names", in->class_names, in->n_classes);
    if (in->meta) attr_text(c, file, "fer_meta", in->meta);
    for (int i = 0; i < km->n_layers && !c->what; i++) layer_group(c, file, in, &km->layers[i], variance);
    if (fer_keras_find(km, FER_KL_NORMALIZATION) < 0) {
        hsize_t dims[2] = {(hsize_t)in->norm->h, (hsize_t)in->norm->w};
        dataset(c, file, "fer_standardization/mean", 2, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, in->norm->mean);
        dataset(c, file, "fer_standardization/std", 2, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, in->norm->std);
    }
}

static nn_status serialize(const fer_keras_h5_contents *in, const float *variance, uint8_t **image,
                           size_t *len, nn_error *err)
{
    ctx c = {0};
    hid_t fapl = chk(&c, H5Pcreate(H5P_FILE_ACCESS), "file access list");
    if (fapl >= 0) chk_err(&c, H5Pset_fapl_core(fapl, 1 << 20, 0), "core driver");
    hid_t fcpl = chk(&c, H5Pcreate(H5P_FILE_CREATE), "file creation list");
    c.gcpl = chk(&c, H5Pcreate(H5P_GROUP_CREATE), "group creation list");
    c.dcpl = chk(&c, H5Pcreate(H5P_DATASET_CREATE), "dataset creation list");
    if (fcpl >= 0) chk_err(&c, H5Pset_obj_track_times(fcpl, 0), "root group times");
    if (c.gcpl >= 0) chk_err(&c, H5Pset_obj_track_times(c.gcpl, 0), "group times");
    if (c.dcpl >= 0) chk_err(&c, H5Pset_obj_track_times(c.dcpl, 0), "dataset times");
    hid_t file = -1;
    /* HDF5 first tries to open an existing file of the given name, even for a
     * memory-only file: name one that cannot exist (below a device). */
    if (!c.what) file = chk(&c, H5Fcreate("/dev/null/fer-keras.h5", H5F_ACC_TRUNC, fcpl, fapl), "file");
    if (file >= 0) {
        write_file(&c, file, in, variance);
        if (!c.what) chk_err(&c, H5Fflush(file, H5F_SCOPE_GLOBAL), "flush");
        ssize_t n = c.what ? -1 : H5Fget_file_image(file, NULL, 0);
        if (!c.what && n <= 0) c.what = "file image";
        if (!c.what && !(*image = malloc((size_t)n))) c.what = "out of memory";
        if (!c.what && H5Fget_file_image(file, *image, (size_t)n) != n) c.what = "file image";
        if (!c.what) *len = (size_t)n;
        H5Fclose(file);
    }
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (c.gcpl >= 0) H5Pclose(c.gcpl);
    if (c.dcpl >= 0) H5Pclose(c.dcpl);
    if (c.what) {
        free(*image);
        *image = NULL;
        return nn_fail(err, NN_ERR_IO, "Keras weights: HDF5 failed writing %s", c.what);
    }
    return NN_OK;
}

nn_status fer_keras_h5_serialize(const fer_keras_h5_contents *in, uint8_t **image, size_t *len,
                                 nn_error *err)
{
    *image = NULL;
    *len = 0;
    if (!in || !in->km || !in->net || !in->norm || !in->class_names || in->n_classes < 1)
        return nn_fail(err, NN_ERR_ARG, "Keras weights: network, statistics and class names are required");
    /* Keras' Normalization stores the variance; sqrt(fl(s*s)) == s for every
     * float s in range (IEEE round-to-nearest), so std survives the trip. */
    const size_t px = (size_t)in->norm->h * in->norm->w;
    float *variance = malloc(px * sizeof *variance);
    if (!variance) return nn_fail(err, NN_ERR_NOMEM, "Keras weights: out of memory");
    for (size_t i = 0; i < px; i++) variance[i] = in->norm->std[i] * in->norm->std[i];
    nn_status st;
    H5E_BEGIN_TRY { st = serialize(in, variance, image, len, err); }
    H5E_END_TRY;
    free(variance);
    return st;
}
