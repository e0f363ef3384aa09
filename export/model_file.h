/* model_file.h: the toolkit's model file (docs/model-format.md, byte by byte).
 *
 * One self-describing little-endian file holds everything inference needs --
 * the architecture description, input size, per-pixel standardisation, class
 * names and float32 weights -- and, in a checkpoint, the Adam state and the
 * training state (epoch, random generators, best accuracy) that --resume
 * needs. A CRC-32 (zlib) over the whole file guards against truncation and
 * bit flips. Writes are atomic (nn/atomic_file.h): a crash leaves the old
 * file or the new one, never a mix.
 *
 * Loading validates magic, version, CRC, every section's bounds, and every
 * size against the architecture, and checks that weights and statistics are
 * finite. It never returns a half-loaded model: on error the output is zeroed
 * and owns nothing.
 */
#ifndef EXPORT_MODEL_FILE_H
#define EXPORT_MODEL_FILE_H

#include <stdint.h>

#include "data/standardize.h"
#include "nn/adam.h"
#include "nn/model.h"

#define FER_MODEL_VERSION 1
/* Most values one image may flow through (the input and every layer's
 * output, nn_arch_sizes): 64 Mi floats, 256 MiB an image, 170 times the
 * paper's DCNN. A larger description is refused before anything is
 * allocated: it is far more likely a corrupt file than a model. */
#define FER_MODEL_MAX_VALUES ((size_t)1 << 26)
#define FER_MAX_CLASSES 64
#define FER_CLASS_NAME_MAX 32

typedef enum { FER_FILE_MODEL = 1, FER_FILE_CHECKPOINT = 2 } fer_file_kind;

/* Where a training run stands. Every random stream of a run (shuffling,
 * augmentation, dropout) is derived from (seed, epoch, batch), so the position
 * alone lets --resume continue bit-for-bit, mid-epoch too. */
typedef struct {
    int32_t epoch;          /* epochs completed */
    int32_t batch;          /* batches completed of epoch `epoch + 1` (0 at a boundary) */
    int32_t best_epoch;     /* epoch of the best validation accuracy (0: none yet) */
    float best_val_acc;
    uint64_t seed;          /* the run's seed */
    double loss_sum;        /* running training figures of the partial epoch */
    int64_t correct, seen;
    double seconds;         /* training wall time so far, all sessions */
    char recipe[1024];      /* options that must not change on resume, "key=value ..." */
} fer_train_state;

/* A loaded file. Everything is owned by the struct: fer_model_file_free. */
typedef struct {
    fer_file_kind kind;
    nn_model *net;             /* built from the stored architecture, weights loaded */
    fer_standardizer norm;     /* per-pixel mean/std, input h x w */
    int n_classes;
    char class_names[FER_MAX_CLASSES][FER_CLASS_NAME_MAX];
    char *meta;                /* free text (how it was made), may be NULL */
    int has_optimizer;         /* checkpoints: adam holds the moments */
    nn_adam adam;
    int has_train_state;
    fer_train_state train;
} fer_model_file;

/* What to write. net, norm and class names are required; adam and train
 * make the file a checkpoint (both or neither). meta may be NULL. */
typedef struct {
    const nn_model *net;
    const fer_standardizer *norm;
    int n_classes;
    const char *const *class_names;
    const nn_adam *adam;
    const fer_train_state *train;
    const char *meta;
} fer_model_contents;

/* Writes atomically. On failure the previous file at path is intact. */
nn_status fer_model_save(const char *path, const fer_model_contents *c, nn_error *err);

/* Serialises to a malloc'd buffer (the exact bytes fer_model_save writes). */
nn_status fer_model_serialize(const fer_model_contents *c, uint8_t **out, size_t *out_len,
                              nn_error *err);

/* Reads and validates a model or checkpoint; builds the network for batches
 * of up to max_batch (with gradients if grads says so, e.g. to resume). */
nn_status fer_model_load(const char *path, int max_batch, nn_grad_mode grads, fer_model_file *out,
                         nn_error *err);
/* The same from memory (label names the source in messages). */
nn_status fer_model_parse(const uint8_t *data, size_t len, const char *label, int max_batch,
                          nn_grad_mode grads, fer_model_file *out, nn_error *err);

void fer_model_file_free(fer_model_file *mf);

/* Class probabilities of n grey images (n * h * w bytes, the model's input
 * size) into probs (n * n_classes): standardise with the stored statistics,
 * then the network in inference mode. scratch must hold
 * fer_model_scratch_floats(mf, n) floats (caller-owned, so nothing allocates
 * per frame). */
size_t fer_model_scratch_floats(const fer_model_file *mf, int n);
nn_status fer_model_classify_u8(fer_model_file *mf, const uint8_t *images, int n, float *scratch,
                                float *probs, nn_error *err);

#endif
