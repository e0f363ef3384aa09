/* Helpers shared by the test programs (header-only: each test is one
 * program, and the Makefile links no common test object). */
#ifndef TESTS_SUPPORT_H
#define TESTS_SUPPORT_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/read_file.h"

/* Whole file into a malloc'd buffer (caller frees) with a zero byte after
 * the last one, so text can be used as a string; *len (may be NULL) gets the
 * size. Fails the test, naming the path, if the file cannot be read.
 * Not inlined: inlined, GCC 12 takes the returned buffer for the address of
 * the local `data` (a false -Wdangling-pointer at the caller). */
__attribute__((noinline, unused)) static void *test_read_file(const char *path, size_t *len)
{
    uint8_t *data = NULL;
    size_t n;
    nn_error err;
    cr_assert_eq(nn_read_file(path, (size_t)1 << 31, "test file", &data, &n, &err), NN_OK,
                 "%s (run the tests from the repository root)", err.msg);
    if (len) *len = n;
    return data;
}

#endif
