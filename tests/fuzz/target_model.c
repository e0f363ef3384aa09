/* Model and checkpoint files (export/model_file.c, fer_model_parse).
 *
 * A mutated file almost never keeps a valid CRC-32, so the bytes are parsed
 * twice: as they are (exercising the header and checksum checks) and with
 * the trailing CRC recomputed (exercising everything behind it: section
 * table, architecture, class names, statistics, weights, optimiser and
 * training state) -- a file that a buggy or hostile writer produced with a
 * correct checksum. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "export/model_file.h"
#include "tests/fuzz/targets.h"

static int parse_one(const uint8_t *data, size_t n, const char *label)
{
    fer_model_file mf;
    nn_error err = {0};
    nn_status st = fer_model_parse(data, n, label, 2, NN_NO_GRADS, &mf, &err);
    if (st != NN_OK) {
        static const fer_model_file zero;
        if (err.code != st || !err.msg[0])
            return fer_fuzz_violation("model", "%s: status %d without a message", label, st);
        if (memcmp(&mf, &zero, sizeof mf) != 0)
            return fer_fuzz_violation("model", "%s: failed parse left the output non-zero", label);
        return 0;
    }
    int rc = 0;
    if (!mf.net || mf.n_classes < 1 || mf.n_classes > FER_MAX_CLASSES ||
        mf.n_classes != mf.net->n_classes || mf.norm.h != mf.net->arch.in_h ||
        mf.norm.w != mf.net->arch.in_w)
        rc = fer_fuzz_violation("model", "%s: inconsistent model", label);
    for (int i = 0; !rc && i < mf.n_classes; i++)
        if (!mf.class_names[i][0] || strlen(mf.class_names[i]) >= FER_CLASS_NAME_MAX)
            rc = fer_fuzz_violation("model", "%s: class name %d", label, i);
    if (!rc && (mf.kind == FER_FILE_CHECKPOINT) != (mf.has_optimizer && mf.has_train_state))
        rc = fer_fuzz_violation("model", "%s: checkpoint without its state", label);
    if (!rc && mf.has_train_state && strlen(mf.train.recipe) >= sizeof mf.train.recipe)
        rc = fer_fuzz_violation("model", "%s: recipe", label);
    if (!rc) {
        /* The loaded model must be usable: classify one mid-grey image. */
        size_t px = (size_t)mf.norm.h * mf.norm.w;
        uint8_t *img = malloc(px);
        float *scratch = malloc(fer_model_scratch_floats(&mf, 1) * sizeof(float));
        float *probs = malloc((size_t)mf.n_classes * sizeof(float));
        if (img && scratch && probs) {
            memset(img, 128, px);
            nn_status cs = fer_model_classify_u8(&mf, img, 1, scratch, probs, &err);
            if (cs == NN_OK) {
                float sum = 0;
                for (int i = 0; i < mf.n_classes; i++) sum += probs[i];
                /* Finite weights can still overflow to inf/NaN in a forward
                 * pass; the sum is only checked when it is a number. */
                if (sum == sum && (sum < 0.99f || sum > 1.01f))
                    rc = fer_fuzz_violation("model", "%s: probabilities sum to %g", label, sum);
            }
        }
        free(img);
        free(scratch);
        free(probs);
    }
    fer_model_file_free(&mf);
    return rc;
}

int fer_fuzz_model(const uint8_t *data, size_t n)
{
    if (parse_one(data, n, "fuzz.bin")) return -1;
    if (n < 28) return 0;
    uint8_t *copy = malloc(n);
    if (!copy) return 0;
    memcpy(copy, data, n);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), copy, (uInt)(n - 4));
    for (int i = 0; i < 4; i++) copy[n - 4 + i] = (uint8_t)(crc >> (8 * i));
    int rc = parse_one(copy, n, "fuzz-crc.bin");
    free(copy);
    return rc;
}
