/* Architecture descriptions (nn/model.c, nn_arch_parse), as stored in model
 * files: parse, check the canonical form parses back to the same arch. */
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "tests/fuzz/targets.h"

int fer_fuzz_arch(const uint8_t *data, size_t n)
{
    if (n > 8192) return 0;
    char *text = malloc(n + 1);
    if (!text) return 0;
    memcpy(text, data, n);
    text[n] = '\0';
    nn_arch a;
    nn_error err = {0};
    nn_status st = nn_arch_parse(text, &a, &err);
    int rc = 0;
    if (st != NN_OK) {
        if (err.code != st || !err.msg[0]) rc = fer_fuzz_violation("arch", "status %d without a message", st);
    } else {
        char canon[8192];
        size_t len = nn_arch_format(&a, canon, sizeof canon);
        nn_arch b;
        if (len >= sizeof canon)
            rc = fer_fuzz_violation("arch", "canonical form of %zu bytes", len);
        else if (nn_arch_parse(canon, &b, &err))
            rc = fer_fuzz_violation("arch", "canonical form '%s' does not parse: %s", canon, err.msg);
        else if (memcmp(&a, &b, sizeof a) != 0)
            rc = fer_fuzz_violation("arch", "canonical form '%s' parses to another arch", canon);
    }
    free(text);
    return rc;
}
