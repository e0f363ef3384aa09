/* targets.h: the fuzz targets, one per input format the toolkit reads.
 *
 * Each target takes arbitrary bytes, hands them to the library's parser the
 * way a program would (a file path, a FILE stream or a memory buffer), and
 * then checks what the parser promised: on success a well-formed result, on
 * failure an error code with a message, and nothing leaked either way.
 * A target returns 0 when the contract held; on a broken contract it
 * prints why to stderr and returns -1. Crashes, out-of-bounds accesses,
 * undefined behaviour and leaks are left to the sanitizers.
 *
 * The same functions back two programs: tests/fuzz/fuzz_main.c turns one into
 * a libFuzzer binary (make fuzz), and tests/test_fuzz_replay.c replays every
 * file of tests/fuzz/<name>/seeds/ and tests/fuzz/<name>/regressions/ through
 * each in every test run (normal and sanitized), so a fixed finding stays
 * fixed.
 */
#ifndef TESTS_FUZZ_TARGETS_H
#define TESTS_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

int fer_fuzz_csv(const uint8_t *data, size_t n);         /* FER CSV, plain or gzip */
int fer_fuzz_model(const uint8_t *data, size_t n);       /* model / checkpoint file */
int fer_fuzz_arch(const uint8_t *data, size_t n);        /* architecture description */
int fer_fuzz_haar(const uint8_t *data, size_t n);        /* Haar cascade XML */
int fer_fuzz_image(const uint8_t *data, size_t n);       /* PNG / JPEG */
int fer_fuzz_exif(const uint8_t *data, size_t n);        /* EXIF APP1 payload */
int fer_fuzz_y4m(const uint8_t *data, size_t n);         /* YUV4MPEG2 stream */
int fer_fuzz_v4l2(const uint8_t *data, size_t n);        /* one V4L2 driver buffer */
int fer_fuzz_sse(const uint8_t *data, size_t n);         /* server-sent events */
int fer_fuzz_llm_reply(const uint8_t *data, size_t n);   /* chat completion HTTP reply */
int fer_fuzz_template(const uint8_t *data, size_t n);    /* prompt template */
int fer_fuzz_keras_json(const uint8_t *data, size_t n);  /* Keras model description */
int fer_fuzz_keras_h5(const uint8_t *data, size_t n);    /* Keras HDF5 weights: content */
int fer_fuzz_keras_h5_raw(const uint8_t *data, size_t n); /* Keras HDF5 weights: raw bytes */

/* ---- helpers shared by the targets (tests/fuzz/util.c) -------------------- */

/* Writes the bytes to an anonymous in-memory file and returns a path that
 * opens it ("/proc/self/fd/N"); close it with fer_fuzz_memfile_close. For
 * parsers whose API takes a path. Returns -1 (and prints) on failure. */
int fer_fuzz_memfile(const uint8_t *data, size_t n, char path[64]);
void fer_fuzz_memfile_close(int fd);

/* The same with a real file in $TMPDIR (or /tmp), for libraries that cannot
 * open a /proc/self/fd path (libhdf5). Returns 0 with path filled, or -1;
 * remove it with fer_fuzz_tmpfile_remove. */
int fer_fuzz_tmpfile(const uint8_t *data, size_t n, char path[256]);
void fer_fuzz_tmpfile_remove(const char *path);

/* The Keras description (fer.json) of the tiny network of
 * tests/fuzz/model/seeds/tiny_model.bin: Normalization, Conv2D (2 filters,
 * 3x3, relu), Flatten, Dense (7, softmax) on 4x4 input. */
extern const char fer_fuzz_tiny_keras_json[];

/* Loads the bytes as the Keras weights file (fer.h5) of that tiny network,
 * through a real temporary file, and checks the loader's promises: a
 * failure has its status in err and a message, and leaves no extras
 * behind; a success has 0..FER_MAX_CLASSES NUL-terminated class names.
 * Returns 0, or -1 after a violation (reported under `target`) or when the
 * file cannot be written. FER_FUZZ_VERBOSE=1 prints each file's outcome. */
int fer_fuzz_check_tiny_keras_h5(const char *target, const uint8_t *data, size_t n);

/* Prints "fuzz <target>: <message>" to stderr and returns -1. */
int fer_fuzz_violation(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
