/* Keras weights files (export/keras_h5_read.c): the content, not the
 * container. The bytes are a small program that builds an HDF5 file with
 * libhdf5 itself -- so the container is always well formed -- whose content
 * is hostile: layer_names (plain or in Keras' numbered chunks) naming
 * missing, repeated or unknown layers; weight_names that disagree with the
 * datasets; datasets of any rank, size and type (float32/64 either byte
 * order, integers); strings fixed (NUL- or space-padded) or variable
 * length; class names too long or too many; statistics of the wrong shape.
 * The file is read for the tiny model (tests/fuzz/targets.h); every
 * mismatch must be an error naming it, never a wrong read. (Corrupt
 * containers: target_keras_h5_raw.c.) */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/targets.h"

typedef struct {
    const uint8_t *p;
    size_t n, i;
} prog;

/* The next byte mod (max + 1); 0 once the program has run out. */
static unsigned take(prog *r, unsigned max)
{
    return r->i < r->n ? r->p[r->i++] % (max + 1) : 0;
}

static void pick_name(prog *r, char *out, size_t cap)
{
    static const char *names[] = {"normalization_1", "conv2d_1", "flatten_1", "dense_1",
                                  "dropout_1", "conv2d_2"};
    unsigned k = take(r, 7);
    if (k < 6) {
        snprintf(out, cap, "%s", names[k]);
        return;
    }
    size_t len = 1 + take(r, 7); /* a name of its own, [a-z0-9_] */
    for (size_t i = 0; i < len && i + 1 < cap; i++) out[i] = "abcdefghijklmnopqrstuvwxyz0123456789_"[take(r, 36)];
    out[len < cap ? len : cap - 1] = '\0';
}

/* A string attribute (a list, or a scalar when n < 0). */
static void put_strings(hid_t loc, const char *name, const char *const *s, int n, int vlen, int spacepad)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    size_t width = 1;
    int count = n < 0 ? 1 : n;
    for (int i = 0; i < count; i++)
        if (strlen(s[i]) + 1 > width) width = strlen(s[i]) + 1;
    char *buf = NULL;
    if (vlen) {
        H5Tset_size(type, H5T_VARIABLE);
    } else {
        H5Tset_size(type, width);
        H5Tset_strpad(type, spacepad ? H5T_STR_SPACEPAD : H5T_STR_NULLTERM);
        buf = calloc((size_t)(count ? count : 1), width);
        for (int i = 0; buf && i < count; i++) {
            memset(buf + (size_t)i * width, spacepad ? ' ' : 0, width);
            memcpy(buf + (size_t)i * width, s[i], strlen(s[i]));
        }
    }
    hsize_t dims[1] = {(hsize_t)count};
    hid_t space = n < 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, type, vlen ? (const void *)s : (const void *)buf);
        H5Aclose(a);
    }
    free(buf);
    H5Sclose(space);
    H5Tclose(type);
}

static void put_dataset(prog *r, hid_t file, hid_t lcpl, const char *path)
{
    int rank = (int)take(r, 4);
    hsize_t dims[4];
    size_t count = 1;
    for (int d = 0; d < rank; d++) {
        dims[d] = take(r, 9); /* 0..9, so 3x3 kernels and 0-size dims both happen */
        count *= (size_t)dims[d];
    }
    hid_t type; /* (the H5T_ names are run-time values, not constants) */
    switch (take(r, 3)) {
    case 0: type = H5T_IEEE_F32LE; break;
    case 1: type = H5T_IEEE_F32BE; break;
    case 2: type = H5T_IEEE_F64LE; break;
    default: type = H5T_STD_I64LE; break;
    }
    double *data = malloc((count ? count : 1) * sizeof *data);
    for (size_t i = 0; data && i < count; i++) {
        unsigned b = take(r, 255);
        data[i] = b == 255 ? 1.0 / 0.0 : b == 254 ? 0.0 / 0.0 : (double)b / 16 - 4;
    }
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(file, path, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0) {
        if (data) H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        H5Dclose(ds);
    }
    H5Sclose(space);
    free(data);
}

/* Builds the file the program describes; returns its bytes (malloc'd). */
static uint8_t *build(prog *r, size_t *len)
{
    unsigned flags = take(r, 255);
    int vlen = flags & 1, spacepad = flags & 32;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 16, 0);
    hid_t file = H5Fcreate("/dev/null/fer-fuzz.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (file < 0) return NULL;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);

    char names[6][32];
    const char *np[6];
    int nl = (int)take(r, 6);
    for (int i = 0; i < nl; i++) {
        pick_name(r, names[i], sizeof names[i]);
        np[i] = names[i];
    }
    if (flags & 16 && nl > 1) { /* Keras' chunks for long lists */
        put_strings(file, "layer_names0", np, 1, vlen, spacepad);
        put_strings(file, "layer_names1", np + 1, nl - 1, vlen, spacepad);
    } else if (!(flags & 64)) {
        put_strings(file, "layer_names", np, nl, vlen, spacepad);
    }
    for (int i = 0; i < nl; i++) {
        if (!take(r, 7)) continue; /* a layer without its group */
        hid_t g = H5Gopen2(file, names[i], H5P_DEFAULT);
        if (g < 0) g = H5Gcreate2(file, names[i], lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) continue;
        static const char *suffix[] = {"kernel:0", "bias:0", "mean:0", "variance:0", "count:0"};
        char wn[4][80];
        const char *wp[4];
        int nw = (int)take(r, 4);
        for (int k = 0; k < nw; k++) {
            unsigned s = take(r, 5);
            /* mostly <layer>/<weight>, sometimes another layer's name */
            const char *owner = take(r, 7) ? names[i] : names[take(r, (unsigned)(nl - 1))];
            snprintf(wn[k], sizeof wn[k], "%s/%s", owner, s < 5 ? suffix[s] : "other:0");
            wp[k] = wn[k];
        }
        put_strings(g, "weight_names", wp, nw, vlen, spacepad);
        for (int k = 0; k < nw; k++) {
            if (!take(r, 5)) continue; /* named but missing */
            char path[200];
            snprintf(path, sizeof path, "%s/%s", names[i], wn[k]);
            if (H5Lexists(file, path, H5P_DEFAULT) <= 0) put_dataset(r, file, lcpl, path);
        }
        H5Gclose(g);
    }
    if (flags & 2) {
        char cn[10][48];
        const char *cp[10];
        int nc = (int)take(r, 9);
        for (int i = 0; i < nc; i++) {
            size_t l = take(r, 40);
            memset(cn[i], 'a' + i, l);
            cn[i][l] = '\0';
            cp[i] = cn[i];
        }
        put_strings(file, "fer_class_names", cp, nc, vlen, spacepad);
    }
    if (flags & 4) put_strings(file, "fer_meta", (const char *[]){"made by a fuzzer"}, -1, vlen, 0);
    if (flags & 8) {
        put_dataset(r, file, lcpl, "fer_standardization/mean");
        put_dataset(r, file, lcpl, "fer_standardization/std");
    }
    H5Pclose(lcpl);
    uint8_t *image = NULL;
    H5Fflush(file, H5F_SCOPE_GLOBAL);
    ssize_t n = H5Fget_file_image(file, NULL, 0);
    if (n > 0 && (image = malloc((size_t)n)) && H5Fget_file_image(file, image, (size_t)n) != n) {
        free(image);
        image = NULL;
    }
    H5Fclose(file);
    *len = n > 0 ? (size_t)n : 0;
    return image;
}

int fer_fuzz_keras_h5(const uint8_t *data, size_t n)
{
    static int quiet;
    if (!quiet) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* building may fail quietly: then skip */
        quiet = 1;
    }
    prog r = {data, n, 0};
    size_t len = 0;
    uint8_t *image = NULL;
    H5E_BEGIN_TRY { image = build(&r, &len); }
    H5E_END_TRY;
    if (!image) return 0;
    int rc = fer_fuzz_check_tiny_keras_h5("keras_h5", image, len);
    free(image);
    return rc;
}
