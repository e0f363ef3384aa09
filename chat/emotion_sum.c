#include "chat/emotion_sum.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "data/fer_dataset.h"

_Static_assert(CHAT_N_EMOTIONS == FER_NUM_CLASSES, "the chat sums the model's classes");

static const char *const adjectives[CHAT_N_EMOTIONS] = {
    "angry", "disgusted", "afraid", "happy", "sad", "surprised", "neutral",
};

const char *chat_emotion_name(int emotion)
{
    return emotion >= 0 && emotion < CHAT_N_EMOTIONS ? fer_class_names[emotion] : "unknown";
}

const char *chat_emotion_adjective(int emotion)
{
    return emotion >= 0 && emotion < CHAT_N_EMOTIONS ? adjectives[emotion] : "unknown";
}

nn_status chat_emotion_sum_init(chat_emotion_sum *acc, nn_error *err)
{
    if (!acc) return nn_fail(err, NN_ERR_ARG, "chat_emotion_sum_init: NULL accumulator");
    memset(acc->sum, 0, sizeof acc->sum);
    acc->frames = 0;
    int rc = pthread_mutex_init(&acc->lock, NULL);
    if (rc == ENOMEM) return nn_fail(err, NN_ERR_NOMEM, "emotion accumulator: no memory for mutex");
    if (rc) return nn_fail(err, NN_ERR_UNSUPPORTED, "emotion accumulator: mutex: %s", strerror(rc));
    return NN_OK;
}

void chat_emotion_sum_destroy(chat_emotion_sum *acc)
{
    if (acc) pthread_mutex_destroy(&acc->lock);
}

nn_status chat_emotion_sum_add(chat_emotion_sum *acc, const float p[CHAT_N_EMOTIONS],
                               nn_error *err)
{
    if (!acc || !p) return nn_fail(err, NN_ERR_ARG, "chat_emotion_sum_add: NULL argument");
    double total = 0;
    for (int k = 0; k < CHAT_N_EMOTIONS; k++) {
        if (!isfinite(p[k]) || p[k] < 0)
            return nn_fail(err, NN_ERR_ARG,
                           "emotion probabilities: p[%d] (%s) = %g is not a probability",
                           k, fer_class_names[k], (double)p[k]);
        total += p[k];
    }
    if (fabs(total - 1.0) > 1e-3)
        return nn_fail(err, NN_ERR_ARG,
                       "emotion probabilities sum to %.6f, not 1 (softmax output expected)",
                       total);
    pthread_mutex_lock(&acc->lock);
    for (int k = 0; k < CHAT_N_EMOTIONS; k++) acc->sum[k] += p[k];
    acc->frames++;
    pthread_mutex_unlock(&acc->lock);
    return NN_OK;
}

void chat_emotion_summarize(const double sum[CHAT_N_EMOTIONS], uint64_t frames,
                            chat_emotion_summary *out)
{
    memset(out, 0, sizeof *out);
    out->emotion = CHAT_EMOTION_UNKNOWN;
    out->frames = frames;
    if (frames == 0) return;
    double total = 0;
    int best = 0;
    for (int k = 0; k < CHAT_N_EMOTIONS; k++) {
        out->sum[k] = sum[k];
        total += sum[k];
        if (sum[k] > sum[best]) best = k;
    }
    if (!(total > 0)) return;
    out->emotion = best;
    out->share = sum[best] / total;
}

void chat_emotion_sum_peek(chat_emotion_sum *acc, chat_emotion_summary *out)
{
    double sum[CHAT_N_EMOTIONS];
    pthread_mutex_lock(&acc->lock);
    memcpy(sum, acc->sum, sizeof sum);
    uint64_t frames = acc->frames;
    pthread_mutex_unlock(&acc->lock);
    chat_emotion_summarize(sum, frames, out);
}

void chat_emotion_sum_take(chat_emotion_sum *acc, chat_emotion_summary *out)
{
    double sum[CHAT_N_EMOTIONS];
    pthread_mutex_lock(&acc->lock);
    memcpy(sum, acc->sum, sizeof sum);
    uint64_t frames = acc->frames;
    memset(acc->sum, 0, sizeof acc->sum);
    acc->frames = 0;
    pthread_mutex_unlock(&acc->lock);
    chat_emotion_summarize(sum, frames, out);
}

void chat_emotion_sum_reset(chat_emotion_sum *acc)
{
    pthread_mutex_lock(&acc->lock);
    memset(acc->sum, 0, sizeof acc->sum);
    acc->frames = 0;
    pthread_mutex_unlock(&acc->lock);
}
