/* util.c: helpers shared by the fuzz targets (see targets.h). */
#include "tests/fuzz/targets.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

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
