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
#include "tests/fuzz/targets.h"

int fer_fuzz_keras_h5_raw(const uint8_t *data, size_t n)
{
    return fer_fuzz_check_tiny_keras_h5("keras_h5_raw", data, n);
}
