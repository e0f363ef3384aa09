/* util.c: helpers shared by the fuzz targets (see targets.h). */
#include "tests/fuzz/targets.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "export/keras_h5.h"
#include "export/keras_json.h"

int fer_fuzz_memfile(const uint8_t *data, size_t n, char path[64])
{
    int fd = memfd_create("fer-fuzz", MFD_CLOEXEC);
    if (fd < 0) {
        perror("fuzz: memfd_create");
        return -1;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w <= 0) {
            perror("fuzz: write to memfd");
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

void fer_fuzz_memfile_close(int fd)
{
    if (fd >= 0) close(fd);
}

int fer_fuzz_tmpfile(const uint8_t *data, size_t n, char path[256])
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, 256, "%s/fer-fuzz-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("fuzz: mkstemp");
        return -1;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w <= 0) {
            perror("fuzz: write to temporary file");
            close(fd);
            unlink(path);
            return -1;
        }
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

void fer_fuzz_tmpfile_remove(const char *path)
{
    unlink(path);
}

int fer_fuzz_violation(const char *target, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz %s: contract broken: ", target);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

/* The tiny model of tests/fuzz/model/seeds/tiny_model.bin as fer-export
 * --keras writes it. */
const char fer_fuzz_tiny_keras_json[] =
    "{\"class_name\":\"Sequential\",\"config\":{\"name\":\"fer\",\"layers\":[{\"class_name\":\"Normalization\","
    "\"config\":{\"name\":\"normalization_1\",\"trainable\":true,\"batch_input_shape\":[null,4,4,1],\"dtyp"
    "e\":\"float32\",\"axis\":[1,2,3],\"mean\":null,\"variance\":null}},{\"class_name\":\"Conv2D\",\"config\":"
    "{\"name\":\"conv2d_1\",\"trainable\":true,\"dtype\":\"float32\",\"filters\":2,\"kernel_size\":[3,3],\"str"
    "ides\":[1,1],\"padding\":\"valid\",\"data_format\":\"channels_last\",\"dilation_rate\":[1,1],\"activat"
    "ion\":\"relu\",\"use_bias\":true,\"kernel_initializer\":{\"class_name\":\"VarianceScaling\",\"config\":"
    "{\"scale\":1,\"mode\":\"fan_avg\",\"distribution\":\"uniform\",\"seed\":null}},\"bias_initializer\":{\"cl"
    "ass_name\":\"Zeros\",\"config\":{}},\"kernel_regularizer\":null,\"bias_regularizer\":null,\"activity"
    "_regularizer\":null,\"kernel_constraint\":null,\"bias_constraint\":null}},{\"class_name\":\"Flatte"
    "n\",\"config\":{\"name\":\"flatten_1\",\"trainable\":true,\"dtype\":\"float32\",\"data_format\":\"channels"
    "_last\"}},{\"class_name\":\"Dense\",\"config\":{\"name\":\"dense_1\",\"trainable\":true,\"dtype\":\"float3"
    "2\",\"units\":7,\"activation\":\"softmax\",\"use_bias\":true,\"kernel_initializer\":{\"class_name\":\"Va"
    "rianceScaling\",\"config\":{\"scale\":1,\"mode\":\"fan_avg\",\"distribution\":\"uniform\",\"seed\":null}}"
    ",\"bias_initializer\":{\"class_name\":\"Zeros\",\"config\":{}},\"kernel_regularizer\":null,\"bias_reg"
    "ularizer\":null,\"activity_regularizer\":null,\"kernel_constraint\":null,\"bias_constraint\":null"
    "}}]},\"keras_version\":\"2.7.0\",\"backend\":\"tensorflow\"}"
;

int fer_fuzz_check_tiny_keras_h5(const char *target, const uint8_t *data, size_t n)
{
    static fer_keras_model km; /* parsed once: the description never changes */
    static int parsed;
    nn_error err = {0};
    if (!parsed) {
        if (fer_keras_json_parse(fer_fuzz_tiny_keras_json, strlen(fer_fuzz_tiny_keras_json),
                                 "tiny.json", &km, &err))
            return fer_fuzz_violation(target, "the fixed description: %s", err.msg);
        parsed = 1;
    }
    nn_model *net = nn_model_create(&km.arch, 1, NN_NO_GRADS, &err);
    if (!net) return fer_fuzz_violation(target, "cannot build: %s", err.msg);
    char path[256];
    if (fer_fuzz_tmpfile(data, n, path) != 0) { /* libhdf5 cannot open a memfd path */
        nn_model_free(net);
        return -1;
    }
    int rc = 0;
    fer_keras_h5_extras x;
    nn_status st = fer_keras_h5_load(path, "tiny.json", &km, net, &x, &err);
    if (getenv("FER_FUZZ_VERBOSE")) /* what a seed does, when writing seeds */
        fprintf(stderr, "%s: %s\n", target, st ? err.msg : "loaded");
    if (st != NN_OK) {
        if (err.code != st || !err.msg[0]) rc = fer_fuzz_violation(target, "status %d without a message", st);
        if (x.norm_mean || x.std_mean || x.meta || x.n_classes)
            rc = fer_fuzz_violation(target, "failed load left extras behind");
    } else {
        if (x.n_classes < 0 || x.n_classes > FER_MAX_CLASSES)
            rc = fer_fuzz_violation(target, "%d class names", x.n_classes);
        for (int i = 0; !rc && i < x.n_classes; i++)
            if (!memchr(x.class_names[i], '\0', FER_CLASS_NAME_MAX))
                rc = fer_fuzz_violation(target, "class name %d not terminated", i);
        fer_keras_h5_extras_free(&x);
    }
    fer_fuzz_tmpfile_remove(path);
    nn_model_free(net);
    return rc;
}
