/* fuzz_main.c: the libFuzzer entry point for one target, chosen when
 * compiling with -DFUZZ_TARGET=fer_fuzz_<name> (see the Makefile's fuzz
 * rules). A broken contract aborts, so libFuzzer keeps the input. */
#include <stdlib.h>

#include "tests/fuzz/targets.h"

#ifndef FUZZ_TARGET
#error "compile with -DFUZZ_TARGET=fer_fuzz_<name>"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (FUZZ_TARGET(data, n)) abort();
    return 0;
}
