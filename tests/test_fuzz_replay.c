/* Replays the fuzz corpora: every file under tests/fuzz/<target>/seeds/ (the
 * starting inputs of make fuzz) and tests/fuzz/<target>/regressions/ (inputs
 * that once crashed, hung or broke a contract, kept after the fix) goes
 * through its fuzz target (tests/fuzz/targets.h). Run by make test in the
 * normal build and again under ASan + UBSan, so every finding stays fixed
 * without needing clang. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/targets.h"
#include "tests/support.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs fn on every regular file of dir (sorted, so failures are
 * reproducible); returns how many there were. A missing dir counts 0. */
static int replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        cr_assert_not_null(names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        uint8_t *data = test_read_file(path, &len);
        int rc = fn(data, len);
        free(data);
        cr_expect_eq(rc, 0, "%s: the fuzz target reports a broken contract (see stderr)", path);
        free(names[i]);
    }
    free(names);
    return (int)n;
}

static void replay(const char *target, int (*fn)(const uint8_t *, size_t))
{
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/%s/seeds", target);
    int seeds = replay_dir(dir, fn);
    cr_expect_gt(seeds, 0, "%s: no seed files (run from the repository root)", dir);
    snprintf(dir, sizeof dir, "tests/fuzz/%s/regressions", target);
    replay_dir(dir, fn);
}

#define REPLAY(name) \
    Test(fuzz_replay, name, .timeout = 120) { replay(#name, fer_fuzz_##name); }

REPLAY(csv)
REPLAY(model)
REPLAY(arch)
REPLAY(haar)
REPLAY(image)
REPLAY(exif)
REPLAY(y4m)
REPLAY(v4l2)
REPLAY(sse)
REPLAY(llm_reply)
REPLAY(template)
REPLAY(keras_json)
REPLAY(keras_h5)
REPLAY(keras_h5_raw)
