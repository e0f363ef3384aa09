/* emotion_sum.h: per-turn accumulation of facial-emotion probabilities.
 *
 * While the user types a message, the capture thread adds one probability
 * vector per frame in which a face was found; when the message is sent, the
 * chat loop takes the summary and the accumulator starts again from zero.
 * The dominant emotion is the argmax of the summed probabilities (the paper's
 * heuristic: a soft vote, so a long run of weakly sad frames can outweigh a
 * few confident happy ones), its share is its sum over the total sum, and a
 * turn with no face at all is CHAT_EMOTION_UNKNOWN -- never a guessed class.
 *
 * Threading: every function on a chat_emotion_sum locks the accumulator's own
 * mutex, so one thread may add while another takes or peeks; callers need no
 * lock of their own. init/destroy must not race with anything else.
 * chat_emotion_summarize is pure and needs no lock.
 *
 * Class order is FER2013's label order (0 angry ... 6 neutral), which is the
 * order of the model's softmax output.
 */
#ifndef CHAT_EMOTION_SUM_H
#define CHAT_EMOTION_SUM_H

#include <pthread.h>
#include <stdint.h>

#include "nn/error.h"

#define CHAT_N_EMOTIONS 7

typedef enum {
    CHAT_EMOTION_UNKNOWN = -1, /* no face seen during the turn */
    CHAT_EMOTION_ANGRY = 0,
    CHAT_EMOTION_DISGUST,
    CHAT_EMOTION_FEAR,
    CHAT_EMOTION_HAPPY,
    CHAT_EMOTION_SAD,
    CHAT_EMOTION_SURPRISE,
    CHAT_EMOTION_NEUTRAL,
} chat_emotion;

/* Class label as the model names it ("angry", "disgust", ..., "neutral";
 * "unknown" for CHAT_EMOTION_UNKNOWN or any out-of-range value). Static. */
const char *chat_emotion_name(int emotion);

/* The same state as a word that reads in a sentence about a person ("angry",
 * "disgusted", "afraid", "happy", "sad", "surprised", "neutral", "unknown").
 * Static. */
const char *chat_emotion_adjective(int emotion);

/* What a turn's frames amount to. */
typedef struct {
    int emotion;                    /* argmax of sum, or CHAT_EMOTION_UNKNOWN */
    double share;                   /* sum[emotion] / total in [0,1]; 0 if unknown */
    uint64_t frames;                /* vectors added during the turn */
    double sum[CHAT_N_EMOTIONS];    /* per-class sums (all 0 if unknown) */
} chat_emotion_summary;

typedef struct {
    pthread_mutex_t lock;
    double sum[CHAT_N_EMOTIONS];
    uint64_t frames;
} chat_emotion_sum;

/* Sets the sums to zero and creates the mutex. Returns NN_ERR_NOMEM or
 * NN_ERR_UNSUPPORTED if the mutex cannot be created. */
nn_status chat_emotion_sum_init(chat_emotion_sum *acc, nn_error *err);

/* Destroys the mutex; acc may then be init'ed again. */
void chat_emotion_sum_destroy(chat_emotion_sum *acc);

/* Adds one frame's softmax output p[0..6] (class order above). p must be
 * finite, non-negative and sum to 1 within 1e-3 -- anything else (logits, a
 * NaN from a broken model) is refused with NN_ERR_ARG and not added, so one
 * bad frame cannot decide the turn. Thread-safe. */
nn_status chat_emotion_sum_add(chat_emotion_sum *acc, const float p[CHAT_N_EMOTIONS],
                               nn_error *err);

/* Fills out with the current summary and resets the accumulator to zero, in
 * one locked step so no frame is counted twice or lost. Thread-safe. */
void chat_emotion_sum_take(chat_emotion_sum *acc, chat_emotion_summary *out);

/* Fills out with the current summary, leaving the sums as they are (for a
 * live display while the user types). Thread-safe. */
void chat_emotion_sum_peek(chat_emotion_sum *acc, chat_emotion_summary *out);

/* Discards everything added so far (e.g. frames seen while the reply was
 * being shown). Thread-safe. */
void chat_emotion_sum_reset(chat_emotion_sum *acc);

/* Pure: the summary of given sums and frame count. frames == 0 or a zero
 * total gives CHAT_EMOTION_UNKNOWN with share 0. Ties go to the lower class
 * index, so the result is deterministic. */
void chat_emotion_summarize(const double sum[CHAT_N_EMOTIONS], uint64_t frames,
                            chat_emotion_summary *out);

#endif
