/* trainer.h: trains a network on a FER CSV, the engine under fer-train.
 *
 * The loop: each epoch shuffles the training rows, and for each batch of
 * `batch` rows fills the input (augment, then standardise), runs forward,
 * backward and one Adam step. After each epoch it measures the validation
 * split, appends a row to log.csv, and writes into out_dir:
 *   checkpoint.bin  weights + Adam + position, for --resume (atomic)
 *   best.bin        deployable model of the best validation accuracy so far
 *   model.bin       deployable model of the latest epoch
 * A stop request (Ctrl-C) is honoured after the current batch: a checkpoint
 * of that exact position is written and the run returns NN_ERR_INTERRUPTED.
 *
 * Randomness: weights come from stream 0 of the seed; the permutation of
 * epoch e, and the augmentation and dropout draws of batch b of epoch e, come
 * from streams derived from (seed, e, b). So a run is a pure function of its
 * seed, options and thread count, and resuming at any (epoch, batch) gives
 * bit-identical weights to a run that never stopped.
 */
#ifndef TRAIN_TRAINER_H
#define TRAIN_TRAINER_H

#include <signal.h>
#include <stdint.h>

#include "data/augment.h"
#include "nn/error.h"

typedef enum { FER_LR_CONSTANT, FER_LR_COSINE } fer_lr_schedule;

typedef struct {
    const char *data_path;
    const char *out_dir;     /* created if missing */
    const char *arch;        /* network description (nn/model.h); NULL = the paper's DCNN */
    int epochs;              /* total epochs (a resumed run may raise it) */
    int batch;
    float lr;
    fer_lr_schedule schedule; /* cosine: lr * (1 + cos(pi * step / total)) / 2 */
    float warmup_epochs;     /* 0 (default) or a linear ramp from lr/steps to the
                                schedule's lr over this many epochs */
    uint64_t seed;
    int threads;
    fer_augment_opts aug;
    float label_smoothing;   /* 0 (default): one-hot targets; eps: see
                                nn_softmax_xent_set_smoothing */
    const char *val_split;   /* "PublicTest" (default); if the file lacks it, hold out */
    float holdout;           /* fraction of Training held out when there is no val split */
    int tta;                 /* validation's test-time augmentation, a fer_tta
                                (export/predict.h): 0 none, 1 mirror, 2 shifts */
    int skip_bad_rows;
    long max_rows;           /* 0 = all (quick experiments) */
    int resume;              /* continue from out_dir/checkpoint.bin */
    const char *command;     /* the command line, recorded in the model's metadata */
    const volatile sig_atomic_t *stop; /* set non-zero to stop after the current batch */
} fer_train_opts;

/* Defaults: the paper's recipe (DCNN, 30 epochs, batch 64, Adam lr 0.001
 * constant, flip + 10 degree rotation, validation on PublicTest, seed 1). */
fer_train_opts fer_train_defaults(void);

typedef struct {
    int epoch, epochs;
    int batch, batches;     /* within the epoch, 1-based */
    double loss, acc;       /* running means over the epoch so far */
    double images_per_s;    /* this session's speed in this epoch */
    double eta_s;           /* until the end of the epoch */
} fer_batch_progress;

typedef struct {
    int epoch, epochs;
    double train_loss, train_acc, val_loss, val_acc;
    double seconds, images_per_s;
    float lr;
    int is_best;
} fer_epoch_result;

typedef struct {
    void (*on_info)(void *ctx, const char *msg);
    void (*on_batch)(void *ctx, const fer_batch_progress *p);
    void (*on_epoch)(void *ctx, const fer_epoch_result *r);
    void *ctx;
} fer_train_callbacks;

/* Runs (or resumes) training. Returns NN_OK when all epochs are done,
 * NN_ERR_INTERRUPTED after a requested stop (checkpoint saved), or an error.
 * cb may be NULL. */
nn_status fer_train_run(const fer_train_opts *opts, const fer_train_callbacks *cb, nn_error *err);

#endif
