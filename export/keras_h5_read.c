/* Reading fer.h5 (or any Keras 2.x weights file of a supported model): layer
 * matching as Keras' load_weights does it, shape checks against the model
 * description, strings fixed- or variable-length, Keras' chunked attributes
 * (layer_names0, layer_names1, ... for very long lists). */
#include "export/keras_h5.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#define MAX_STRINGS (1 << 20)

typedef struct {
    const char *path;        /* the HDF5 file, for messages */
    const char *model_label; /* the JSON description, for messages */
    nn_error *err;
} rd;

/* ---- strings ---------------------------------------------------------------- */

typedef struct {
    int n;
    char **s;
} strlist;

static void strlist_free(strlist *l)
{
    for (int i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static int push(strlist *l, const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->s[l->n++] = copy;
    return 0;
}

/* Appends the strings of one attribute. An empty attribute of any type is
 * an empty list (Keras writes weightless layers' weight_names as an empty
 * float64 array). Returns 0, or -1 if it is not strings or cannot be read. */
static int append_attr(hid_t loc, const char *name, strlist *out)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t space = H5Aget_space(a), type = H5Aget_type(a), mem = -1;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int rc = -1;
    if (n == 0) rc = 0;
    if (n <= 0 || type < 0 || H5Tget_class(type) != H5T_STRING || n > MAX_STRINGS - out->n) goto done;
    char **grown = realloc(out->s, (size_t)(out->n + n) * sizeof *grown);
    if (!grown) goto done;
    out->s = grown;
    if (H5Tis_variable_str(type) > 0) {
        mem = H5Tcopy(H5T_C_S1);
        char **p = calloc((size_t)n, sizeof *p);
        if (mem >= 0 && p && H5Tset_size(mem, H5T_VARIABLE) >= 0 &&
            H5Tset_cset(mem, H5Tget_cset(type)) >= 0 && H5Aread(a, mem, p) >= 0) {
            rc = 0;
            for (hssize_t i = 0; i < n && !rc; i++) rc = push(out, p[i] ? p[i] : "", p[i] ? strlen(p[i]) : 0);
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, p);
        }
        free(p);
    } else {
        size_t w = H5Tget_size(type);
        int spacepad = H5Tget_strpad(type) == H5T_STR_SPACEPAD;
        mem = H5Tcopy(type);
        char *buf = w ? malloc((size_t)n * w) : NULL;
        if (mem >= 0 && buf && H5Aread(a, mem, buf) >= 0) {
            rc = 0;
            for (hssize_t i = 0; i < n && !rc; i++) {
                const char *s = buf + (size_t)i * w;
                size_t len = strnlen(s, w);
                while (spacepad && len && s[len - 1] == ' ') len--;
                rc = push(out, s, len);
            }
        }
        free(buf);
    }
done:
    if (mem >= 0) H5Tclose(mem);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Aclose(a);
    return rc;
}

/* Attribute `name` as strings, or Keras' chunks name0, name1, ...
 * Returns 1 if found, 0 if absent, -1 if unreadable (*out freed). */
static int read_strings(hid_t loc, const char *name, strlist *out)
{
    memset(out, 0, sizeof *out);
    int found = 0;
    if (H5Aexists(loc, name) > 0) {
        if (append_attr(loc, name, out)) goto bad;
        return 1;
    }
    for (int k = 0;; k++) {
        char chunk[160];
        snprintf(chunk, sizeof chunk, "%s%d", name, k);
        if (H5Aexists(loc, chunk) <= 0) break;
        found = 1;
        if (append_attr(loc, chunk, out)) goto bad;
    }
    return found;
bad:
    strlist_free(out);
    return -1;
}

/* ---- datasets ----------------------------------------------------------------- */

static void format_dims(char *buf, size_t size, int ndim, const hsize_t *dims)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", d ? ", " : "", (unsigned long long)dims[d]);
    if (used < size) snprintf(buf + used, size - used, ndim == 1 ? ",)" : ")");
}

/* H5Lexists needs every link on the way to exist: check them one by one. */
static int path_exists(hid_t loc, const char *path)
{
    char prefix[512];
    size_t len = strlen(path);
    if (len >= sizeof prefix) return 0;
    for (size_t i = 0; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        if (i && H5Lexists(loc, prefix, H5P_DEFAULT) <= 0) return 0;
    }
    return 1;
}

/* Opens weight `wname` of layer group `group`, checks it is floating point,
 * and reads its shape. Returns the dataset or -1 with err filled. */
static hid_t open_weight(const rd *r, hid_t g, const char *group, const char *wname, int *ndim,
                         hsize_t dims[8])
{
    if (!path_exists(g, wname) || H5Oexists_by_name(g, wname, H5P_DEFAULT) <= 0) {
        nn_fail(r->err, NN_ERR_FORMAT, "%s: layer '%s' lists weight '%s', but there is no dataset /%s/%s",
                r->path, group, wname, group, wname);
        return -1;
    }
    hid_t d = H5Dopen2(g, wname, H5P_DEFAULT);
    if (d < 0) {
        nn_fail(r->err, NN_ERR_FORMAT, "%s: /%s/%s is not a dataset", r->path, group, wname);
        return -1;
    }
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    int cls = type >= 0 ? H5Tget_class(type) : -1;
    *ndim = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (*ndim >= 0 && *ndim <= 8) H5Sget_simple_extent_dims(space, dims, NULL);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (cls != H5T_FLOAT || *ndim < 0 || *ndim > 8) {
        nn_fail(r->err, NN_ERR_FORMAT, "%s: /%s/%s is not a floating-point array", r->path, group, wname);
        H5Dclose(d);
        return -1;
    }
    return d;
}

static nn_status read_floats(const rd *r, hid_t d, const char *group, const char *wname, float *dst,
                             size_t n)
{
    herr_t rc = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst);
    H5Dclose(d);
    if (rc < 0) return nn_fail(r->err, NN_ERR_IO, "%s: cannot read /%s/%s", r->path, group, wname);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i]))
            return nn_fail(r->err, NN_ERR_FORMAT, "%s: /%s/%s contains NaN or infinity", r->path, group, wname);
    return NN_OK;
}

/* A kernel or bias: shape exactly the node's. */
static nn_status read_param(const rd *r, hid_t g, const char *group, const char *wname,
                            const fer_keras_layer *L, nn_node *node)
{
    int ndim;
    hsize_t dims[8];
    hid_t d = open_weight(r, g, group, wname, &ndim, dims);
    if (d < 0) return r->err->code;
    int same = ndim == node->ndim;
    hsize_t want[NN_MAX_DIMS];
    for (int k = 0; k < node->ndim; k++) {
        want[k] = (hsize_t)node->shape[k];
        if (same && dims[k] != want[k]) same = 0;
    }
    if (!same) {
        char got_s[96], want_s[96];
        format_dims(got_s, sizeof got_s, ndim, dims);
        format_dims(want_s, sizeof want_s, node->ndim, want);
        H5Dclose(d);
        return nn_fail(r->err, NN_ERR_SHAPE, "%s: /%s/%s has shape %s, but %s's layer '%s' (%s) needs %s",
                       r->path, group, wname, got_s, r->model_label, L->name,
                       fer_keras_class_name(L->kind), want_s);
    }
    return read_floats(r, d, group, wname, node->value, node->size);
}

/* Per-pixel statistics: h*w values, or one value for every pixel. Returns a
 * malloc'd h*w array in *out. */
static nn_status read_stat(const rd *r, hid_t g, const char *group, const char *wname, int h, int w,
                           float **out)
{
    int ndim;
    hsize_t dims[8];
    hid_t d = open_weight(r, g, group, wname, &ndim, dims);
    if (d < 0) return r->err->code;
    size_t n = 1, px = (size_t)h * w;
    for (int k = 0; k < ndim; k++) n *= dims[k];
    if (n != px && n != 1) {
        H5Dclose(d);
        return nn_fail(r->err, NN_ERR_SHAPE, "%s: /%s/%s has %zu values; statistics of a %dx%d input need %zu "
                       "(one per pixel) or 1", r->path, group, wname, n, h, w, px);
    }
    if (!(*out = malloc(px * sizeof **out))) {
        H5Dclose(d);
        return nn_fail(r->err, NN_ERR_NOMEM, "%s: out of memory", r->path);
    }
    nn_status st = read_floats(r, d, group, wname, *out, n);
    for (size_t i = 1; !st && n == 1 && i < px; i++) (*out)[i] = (*out)[0];
    return st;
}

/* ---- layers ------------------------------------------------------------------ */

typedef struct {
    char *group;
    strlist weights;
} h5_layer;

static nn_status load_layer(const rd *r, hid_t root, const h5_layer *hl, const fer_keras_layer *L,
                            nn_model *net, fer_keras_h5_extras *x)
{
    const int want = fer_keras_layer_weights(L), have = hl->weights.n;
    const int ok_count = have == want || (L->kind == FER_KL_NORMALIZATION && have == 2);
    if (!ok_count)
        return nn_fail(r->err, NN_ERR_SHAPE, "%s: layer '%s' has %d weights, but %s's layer '%s' (%s) needs %d",
                       r->path, hl->group, have, r->model_label, L->name, fer_keras_class_name(L->kind), want);
    hid_t g = H5Gopen2(root, hl->group, H5P_DEFAULT);
    if (g < 0) return nn_fail(r->err, NN_ERR_FORMAT, "%s: cannot open group /%s", r->path, hl->group);
    nn_status st = NN_OK;
    char **wn = hl->weights.s;
    if (L->kind == FER_KL_CONV2D || L->kind == FER_KL_DENSE) {
        nn_node *bias = net->layer_bias[L->arch_layer];
        st = read_param(r, g, hl->group, wn[0], L, net->layer_kernel[L->arch_layer]);
        if (!st && L->use_bias) st = read_param(r, g, hl->group, wn[1], L, bias);
        if (!st && !L->use_bias) memset(bias->value, 0, bias->size * sizeof(float));
    } else if (L->kind == FER_KL_NORMALIZATION) {
        const int h = net->arch.in_h, w = net->arch.in_w;
        st = read_stat(r, g, hl->group, wn[0], h, w, &x->norm_mean);
        if (!st) st = read_stat(r, g, hl->group, wn[1], h, w, &x->norm_var);
        for (int i = 0; !st && i < h * w; i++)
            if (x->norm_var[i] < 0)
                st = nn_fail(r->err, NN_ERR_FORMAT, "%s: /%s/%s has a negative variance", r->path, hl->group,
                             wn[1]);
    }
    H5Gclose(g);
    return st;
}

/* The layers of layer_names that have weights, in file order. */
static nn_status weighted_layers(const rd *r, hid_t root, h5_layer *out, int *n_out)
{
    strlist names;
    int found = read_strings(root, "layer_names", &names);
    if (found <= 0)
        return nn_fail(r->err, NN_ERR_FORMAT, "%s: %s: not Keras 2 weights (Keras 3's .weights.h5 layout is "
                       "not supported)", r->path, found < 0 ? "unreadable layer_names attribute"
                                                           : "no layer_names attribute");
    nn_status st = NN_OK;
    *n_out = 0;
    for (int i = 0; i < names.n && !st; i++) {
        const char *name = names.s[i];
        if (!*name || H5Lexists(root, name, H5P_DEFAULT) <= 0) {
            st = nn_fail(r->err, NN_ERR_FORMAT, "%s: layer_names lists '%s', but there is no group /%s", r->path,
                         name, name);
            break;
        }
        hid_t g = H5Gopen2(root, name, H5P_DEFAULT);
        strlist w = {0};
        int wf = g >= 0 ? read_strings(g, "weight_names", &w) : -1;
        if (g >= 0) H5Gclose(g);
        if (wf <= 0) {
            st = nn_fail(r->err, NN_ERR_FORMAT, "%s: group /%s has no readable weight_names attribute", r->path,
                         name);
        } else if (w.n == 0) {
            strlist_free(&w);
        } else if (*n_out == FER_KERAS_MAX_LAYERS) {
            strlist_free(&w);
            st = nn_fail(r->err, NN_ERR_FORMAT, "%s: more than %d layers with weights", r->path,
                         FER_KERAS_MAX_LAYERS);
        } else {
            out[*n_out].weights = w;
            out[*n_out].group = names.s[i];
            names.s[i] = NULL; /* moved */
            ++*n_out;
        }
    }
    strlist_free(&names);
    return st;
}

/* "conv2d_1, conv2d_2, ..." for messages. */
static void list_names(char *buf, size_t size, const char *const *names, int n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
}

static nn_status read_extras(const rd *r, hid_t root, const nn_model *net, fer_keras_h5_extras *x)
{
    strlist s;
    int found = read_strings(root, "fer_class_names", &s);
    if (found < 0) return nn_fail(r->err, NN_ERR_FORMAT, "%s: unreadable fer_class_names", r->path);
    if (found) {
        nn_status st = NN_OK;
        if (s.n != net->n_classes)
            st = nn_fail(r->err, NN_ERR_FORMAT, "%s: fer_class_names has %d names for %d outputs", r->path, s.n,
                         net->n_classes);
        for (int i = 0; !st && i < s.n; i++) {
            size_t len = strlen(s.s[i]);
            if (len == 0 || len >= FER_CLASS_NAME_MAX)
                st = nn_fail(r->err, NN_ERR_FORMAT, "%s: class name %d must be 1..%d bytes", r->path, i,
                             FER_CLASS_NAME_MAX - 1);
            else
                memcpy(x->class_names[i], s.s[i], len + 1);
        }
        if (!st) x->n_classes = s.n;
        strlist_free(&s);
        if (st) return st;
    }
    found = read_strings(root, "fer_meta", &s);
    if (found < 0 || (found && s.n != 1)) {
        if (found > 0) strlist_free(&s);
        return nn_fail(r->err, NN_ERR_FORMAT, "%s: unreadable fer_meta", r->path);
    }
    if (found) {
        x->meta = s.s[0];
        s.s[0] = NULL;
        strlist_free(&s);
    }
    if (H5Lexists(root, "fer_standardization", H5P_DEFAULT) > 0) {
        hid_t g = H5Gopen2(root, "fer_standardization", H5P_DEFAULT);
        if (g < 0) return nn_fail(r->err, NN_ERR_FORMAT, "%s: /fer_standardization is not a group", r->path);
        const int h = net->arch.in_h, w = net->arch.in_w;
        nn_status st = read_stat(r, g, "fer_standardization", "mean", h, w, &x->std_mean);
        if (!st) st = read_stat(r, g, "fer_standardization", "std", h, w, &x->std_std);
        H5Gclose(g);
        if (st) return st;
    }
    return NN_OK;
}

static nn_status load(const rd *r, hid_t file, const fer_keras_model *km, nn_model *net,
                      fer_keras_h5_extras *x)
{
    /* A full-model file (model.save()) keeps the same layout under /model_weights. */
    hid_t root = file;
    if (H5Aexists(file, "layer_names") <= 0 && H5Aexists(file, "layer_names0") <= 0 &&
        H5Lexists(file, "model_weights", H5P_DEFAULT) > 0)
        root = H5Gopen2(file, "model_weights", H5P_DEFAULT);
    if (root < 0) return nn_fail(r->err, NN_ERR_FORMAT, "%s: cannot open /model_weights", r->path);

    h5_layer *hl = calloc(FER_KERAS_MAX_LAYERS, sizeof *hl);
    int n_h5 = 0;
    nn_status st = hl ? weighted_layers(r, root, hl, &n_h5) : nn_fail(r->err, NN_ERR_NOMEM, "out of memory");
    int n_model = 0;
    const fer_keras_layer *wl[FER_KERAS_MAX_LAYERS];
    for (int i = 0; i < km->n_layers; i++)
        if (fer_keras_layer_weights(&km->layers[i]) > 0) wl[n_model++] = &km->layers[i];
    if (!st && n_h5 != n_model) {
        char have[256], want[256];
        const char *names[FER_KERAS_MAX_LAYERS];
        for (int i = 0; i < n_h5; i++) names[i] = hl[i].group;
        list_names(have, sizeof have, names, n_h5);
        for (int i = 0; i < n_model; i++) names[i] = wl[i]->name;
        list_names(want, sizeof want, names, n_model);
        st = nn_fail(r->err, NN_ERR_SHAPE, "%s holds weights for %d layers (%s), but %s describes %d (%s)",
                     r->path, n_h5, have, r->model_label, n_model, want);
    }
    for (int i = 0; !st && i < n_model; i++) st = load_layer(r, root, &hl[i], wl[i], net, x);
    if (!st) st = read_extras(r, root, net, x);
    for (int i = 0; hl && i < n_h5; i++) {
        free(hl[i].group);
        strlist_free(&hl[i].weights);
    }
    free(hl);
    if (root != file) H5Gclose(root);
    return st;
}

void fer_keras_h5_extras_free(fer_keras_h5_extras *x)
{
    if (!x) return;
    free(x->norm_mean);
    free(x->norm_var);
    free(x->std_mean);
    free(x->std_std);
    free(x->meta);
    memset(x, 0, sizeof *x);
}

/* Opens path read-only as HDF5, with a message that says what it is instead
 * when it is not. Call inside H5E_BEGIN_TRY. */
static hid_t open_file(const char *path, nn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nn_fail(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    unsigned char head[8] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (H5Fis_hdf5(path) <= 0) {
        size_t i = 0;
        while (i < got && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) i++;
        if (got >= 4 && !memcmp(head, "\x89" "FER", 4))
            nn_fail(err, NN_ERR_FORMAT, "%s: a fer model file, not Keras weights", path);
        else if (i < got && head[i] == '{')
            nn_fail(err, NN_ERR_FORMAT, "%s: a JSON file, not HDF5 weights (are the JSON and HDF5 "
                    "arguments swapped?)", path);
        else
            nn_fail(err, NN_ERR_FORMAT, "%s: not an HDF5 file", path);
        return -1;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* Lock where the file system can; read anyway where locking is disabled. */
    if (fapl >= 0) H5Pset_file_locking(fapl, 1, 1);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    if (fapl >= 0) H5Pclose(fapl);
    if (file < 0) nn_fail(err, NN_ERR_FORMAT, "%s: HDF5 cannot open it (truncated or corrupt?)", path);
    return file;
}

nn_status fer_keras_h5_load(const char *path, const char *model_label, const fer_keras_model *km,
                            nn_model *net, fer_keras_h5_extras *x, nn_error *err)
{
    nn_error local;
    if (!err) err = &local; /* codes travel through err below */
    memset(x, 0, sizeof *x);
    if (!path || !km || !net) return nn_fail(err, NN_ERR_ARG, "Keras weights: NULL argument");
    rd r = {path, model_label ? model_label : "the model description", err};
    nn_status st = NN_OK;
    H5E_BEGIN_TRY
    {
        hid_t file = open_file(path, err);
        if (file < 0) {
            st = err->code;
        } else {
            st = load(&r, file, km, net, x);
            H5Fclose(file);
        }
    }
    H5E_END_TRY;
    if (st) fer_keras_h5_extras_free(x);
    return st;
}

nn_status fer_keras_h5_model_config(const char *path, char **json, nn_error *err)
{
    nn_error local;
    if (!err) err = &local;
    *json = NULL;
    nn_status st = NN_OK;
    H5E_BEGIN_TRY
    {
        hid_t file = open_file(path, err);
        if (file < 0) {
            st = err->code;
        } else {
            strlist s;
            int found = read_strings(file, "model_config", &s);
            if (found < 0 || (found && s.n != 1))
                st = nn_fail(err, NN_ERR_FORMAT, "%s: unreadable model_config attribute", path);
            if (found > 0 && !st) {
                *json = s.s[0];
                s.s[0] = NULL;
            }
            if (found > 0) strlist_free(&s);
            H5Fclose(file);
        }
    }
    H5E_END_TRY;
    return st;
}
