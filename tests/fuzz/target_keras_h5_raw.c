/* Keras weights files as raw bytes (export/keras_h5_read.c behind libhdf5),
 * read for a fixed model description -- the tiny network of
 * tests/fuzz/model/seeds/tiny_model.bin as fer-export writes it
 * (Normalization, Conv2D 2x3x3, Flatten, Dense 7).
 *
 * Most of what this finds is in libhdf5 itself, which parses the container:
 * Debian's libhdf5 1.10.8 overflows a heap buffer in H5O__msg_iterate_real
 * within a minute of fuzzing (docs/bad-inputs.md). That is not ours to fix,
 * so this target is not in make fuzz's default list (run it with
 * FUZZ_TARGETS=keras_h5_raw); target_keras_h5.c fuzzes our reader with
 * files libhdf5 itself wrote. */
#include <stdlib.h>
#include <string.h>

#include "export/keras_h5.h"
#include "export/keras_json.h"
#include "tests/fuzz/targets.h"


int fer_fuzz_keras_h5_raw(const uint8_t *data, size_t n)
{
    static fer_keras_model km;
    static int ready;
    nn_error err = {0};
    if (!ready) {
        if (fer_keras_json_parse(fer_fuzz_tiny_keras_json, strlen(fer_fuzz_tiny_keras_json),
                                 "tiny.json", &km, &err))
            return fer_fuzz_violation("keras_h5_raw", "the fixed description: %s", err.msg);
        ready = 1;
    }
    nn_model *net = nn_model_create(&km.arch, 1, NN_NO_GRADS, &err);
    if (!net) return fer_fuzz_violation("keras_h5_raw", "cannot build: %s", err.msg);
    char path[256];
    int rc = 0;
    if (fer_fuzz_tmpfile(data, n, path) == 0) { /* libhdf5 cannot open a memfd path */
        fer_keras_h5_extras x;
        nn_status st = fer_keras_h5_load(path, "tiny.json", &km, net, &x, &err);
        if (st != NN_OK) {
            if (err.code != st || !err.msg[0])
                rc = fer_fuzz_violation("keras_h5_raw", "status %d without a message", st);
            if (x.norm_mean || x.std_mean || x.meta || x.n_classes)
                rc = fer_fuzz_violation("keras_h5_raw", "failed load left extras behind");
        } else {
            if (x.n_classes < 0 || x.n_classes > FER_MAX_CLASSES)
                rc = fer_fuzz_violation("keras_h5_raw", "%d class names", x.n_classes);
            for (int i = 0; !rc && i < x.n_classes; i++)
                if (!memchr(x.class_names[i], '\0', FER_CLASS_NAME_MAX))
                    rc = fer_fuzz_violation("keras_h5_raw", "class name %d not terminated", i);
            fer_keras_h5_extras_free(&x);
        }
        fer_fuzz_tmpfile_remove(path);
    } else {
        rc = -1;
    }
    nn_model_free(net);
    return rc;
}
