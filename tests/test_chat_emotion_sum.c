/* Per-turn emotion accumulator: soft-vote argmax, share, unknown when no
 * face was seen, rejection of non-probabilities, and exact totals with one
 * thread taking summaries while others add. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "chat/emotion_sum.h"

static chat_emotion_sum acc;

static void setup(void)
{
    nn_error err;
    cr_assert_eq(chat_emotion_sum_init(&acc, &err), NN_OK);
}

static void teardown(void)
{
    chat_emotion_sum_destroy(&acc);
}

TestSuite(chat_emotion_sum, .init = setup, .fini = teardown);

Test(chat_emotion_sum, names_follow_fer2013_order)
{
    const char *want[] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
    for (int k = 0; k < CHAT_N_EMOTIONS; k++) cr_assert_str_eq(chat_emotion_name(k), want[k]);
    cr_assert_str_eq(chat_emotion_name(CHAT_EMOTION_UNKNOWN), "unknown");
    cr_assert_str_eq(chat_emotion_name(7), "unknown");
    cr_assert_str_eq(chat_emotion_adjective(CHAT_EMOTION_DISGUST), "disgusted");
    cr_assert_str_eq(chat_emotion_adjective(CHAT_EMOTION_FEAR), "afraid");
    cr_assert_str_eq(chat_emotion_adjective(CHAT_EMOTION_UNKNOWN), "unknown");
}

Test(chat_emotion_sum, no_frames_is_unknown_never_a_class)
{
    chat_emotion_summary s;
    chat_emotion_sum_take(&acc, &s);
    cr_assert_eq(s.emotion, CHAT_EMOTION_UNKNOWN);
    cr_assert_eq(s.frames, 0);
    cr_assert_eq(s.share, 0.0);
    double zero[CHAT_N_EMOTIONS] = {0};
    chat_emotion_summarize(zero, 0, &s);
    cr_assert_eq(s.emotion, CHAT_EMOTION_UNKNOWN);
}

Test(chat_emotion_sum, argmax_of_sums_not_of_votes)
{
    /* Two confident happy frames against three mildly sad ones: a majority
     * vote of per-frame argmaxes says sad (3 to 2); the sums say happy
     * (2*0.9 + 3*0.2 = 2.4 against 3*0.4 + 2*0.02 = 1.24), which is the
     * paper's heuristic. */
    float happy[7] = {0.02f, 0.02f, 0.02f, 0.90f, 0.02f, 0.01f, 0.01f};
    float mild_sad[7] = {0.05f, 0.05f, 0.05f, 0.20f, 0.40f, 0.05f, 0.20f};
    nn_error err;
    for (int i = 0; i < 2; i++) cr_assert_eq(chat_emotion_sum_add(&acc, happy, &err), NN_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(chat_emotion_sum_add(&acc, mild_sad, &err), NN_OK, "%s", err.msg);
    chat_emotion_summary s;
    chat_emotion_sum_take(&acc, &s);
    cr_assert_eq(s.emotion, CHAT_EMOTION_HAPPY, "got %s", chat_emotion_name(s.emotion));
    cr_assert_eq(s.frames, 5);
    cr_assert_float_eq(s.sum[CHAT_EMOTION_HAPPY], 2.4, 1e-5);
    cr_assert_float_eq(s.sum[CHAT_EMOTION_SAD], 1.24, 1e-5);
    cr_assert_float_eq(s.share, 2.4 / 5.0, 1e-5);
    /* take resets */
    chat_emotion_sum_take(&acc, &s);
    cr_assert_eq(s.emotion, CHAT_EMOTION_UNKNOWN);
    cr_assert_eq(s.frames, 0);
}

Test(chat_emotion_sum, peek_keeps_and_reset_clears)
{
    float sad[7] = {0, 0, 0, 0, 1, 0, 0};
    nn_error err;
    cr_assert_eq(chat_emotion_sum_add(&acc, sad, &err), NN_OK);
    chat_emotion_summary s;
    chat_emotion_sum_peek(&acc, &s);
    cr_assert_eq(s.emotion, CHAT_EMOTION_SAD);
    cr_assert_eq(s.share, 1.0);
    chat_emotion_sum_peek(&acc, &s);
    cr_assert_eq(s.frames, 1, "peek must not reset");
    chat_emotion_sum_reset(&acc);
    chat_emotion_sum_peek(&acc, &s);
    cr_assert_eq(s.emotion, CHAT_EMOTION_UNKNOWN);
}

Test(chat_emotion_sum, ties_go_to_the_lower_class)
{
    double sum[7] = {0, 0, 0, 1.5, 1.5, 0, 0};
    chat_emotion_summary s;
    chat_emotion_summarize(sum, 3, &s);
    cr_assert_eq(s.emotion, CHAT_EMOTION_HAPPY);
    cr_assert_float_eq(s.share, 0.5, 1e-12);
}

Test(chat_emotion_sum, rejects_non_probabilities)
{
    nn_error err;
    float negative[7] = {-0.1f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.1f};
    float logits[7] = {2.0f, 0.5f, 0.1f, 3.0f, 0.2f, 0.1f, 0.4f};
    float nan[7] = {NAN, 0, 0, 1, 0, 0, 0};
    cr_assert_eq(chat_emotion_sum_add(&acc, negative, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "angry"), "%s", err.msg);
    cr_assert_eq(chat_emotion_sum_add(&acc, logits, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "sum to"), "%s", err.msg);
    cr_assert_eq(chat_emotion_sum_add(&acc, nan, &err), NN_ERR_ARG);
    chat_emotion_summary s;
    chat_emotion_sum_take(&acc, &s);
    cr_assert_eq(s.frames, 0, "refused frames must not be counted");
}

/* Thread safety: 4 threads add 100000 one-hot vectors each while the main
 * thread keeps taking summaries; every frame must be counted exactly once.
 * One-hot sums are exact in double, so totals are compared exactly. */
#define ADDERS 4
#define PER_THREAD 100000

static atomic_int adders_done;

static void *adder(void *arg)
{
    int id = (int)(long)arg;
    nn_error err;
    void *rc = NULL;
    for (int i = 0; i < PER_THREAD && !rc; i++) {
        float p[7] = {0};
        p[(id + i) % CHAT_N_EMOTIONS] = 1.0f;
        if (chat_emotion_sum_add(&acc, p, &err)) rc = (void *)1;
    }
    atomic_fetch_add(&adders_done, 1);
    return rc;
}

static void take_into(double total[7], uint64_t *frames)
{
    chat_emotion_summary s;
    chat_emotion_sum_take(&acc, &s);
    double sum = 0;
    for (int k = 0; k < 7; k++) {
        total[k] += s.sum[k];
        sum += s.sum[k];
    }
    *frames += s.frames;
    cr_assert_eq(sum, (double)s.frames, "a summary mixed two states");
}

Test(chat_emotion_sum, concurrent_add_and_take_lose_nothing)
{
    pthread_t th[ADDERS];
    atomic_store(&adders_done, 0);
    for (long i = 0; i < ADDERS; i++) cr_assert_eq(pthread_create(&th[i], NULL, adder, (void *)i), 0);
    double total[7] = {0};
    uint64_t frames = 0;
    int takes = 0;
    while (atomic_load(&adders_done) < ADDERS) {
        take_into(total, &frames);
        takes++;
    }
    for (int i = 0; i < ADDERS; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        cr_assert_null(rc);
    }
    take_into(total, &frames);
    cr_assert_eq(frames, (uint64_t)ADDERS * PER_THREAD, "frames lost or doubled: %llu",
                 (unsigned long long)frames);
    /* Expected per-class counts: thread id adds class (id+i)%7 for i < N. */
    double want[7] = {0};
    for (int id = 0; id < ADDERS; id++)
        for (int i = 0; i < PER_THREAD; i++) want[(id + i) % 7] += 1;
    for (int k = 0; k < 7; k++)
        cr_assert_eq(total[k], want[k], "class %d: %f vs %f", k, total[k], want[k]);
    cr_assert_gt(takes, 1, "the main thread never overlapped the adders");
}
