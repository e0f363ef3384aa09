/* Ctrl-C while a streamed reply is flowing: the chat client's cancel flag,
 * set by a real SIGINT handler as fer-chat's is, stops the transfer within
 * a few tens of milliseconds however fast tokens arrive; the text already
 * shown is all that was delivered (nothing after the call returns), the
 * history is untouched, and the same client answers the next turn.
 * (Ctrl-C in a silent stream and in a back-off wait: test_chat_llm_errors.c;
 * Ctrl-C in the fer-chat program: test_chat_e2e_tmux.c.) */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/history.h"
#include "chat/llm_client.h"
#include "tests/chat_test_server.h"

#define WORDS 400
#define WORD_MS 10 /* one word every 10 ms: 4 s for the whole reply */

static void no_proxy(void)
{
    const char *vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                          "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

TestSuite(chat_faults, .init = no_proxy, .timeout = 30);

/* Request 0: a long streamed reply, word by word. Request 1: a short
 * whole reply. */
static void respond(ts_server *s, int fd, int idx, const ts_request *r)
{
    (void)s;
    (void)r;
    if (idx > 0) {
        ts_send_response(fd, 200, "application/json", "",
                         "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":"
                         "\"fine\"},\"finish_reason\":\"stop\"}]}");
        return;
    }
    if (ts_send_stream_head(fd)) return;
    for (int i = 0; i < WORDS; i++) {
        char ev[160];
        int n = snprintf(ev, sizeof ev,
                         "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"w%d \"}}]}\n\n", i);
        if (ts_send_chunked_slowly(fd, ev, (size_t)n, 64, 0)) return; /* client gone */
        ts_sleep_ms(WORD_MS);
    }
    const char *done = "data: [DONE]\n\n";
    ts_send_chunked_slowly(fd, done, strlen(done), 64, 0);
    ts_send_chunked_end(fd);
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct {
    char text[WORDS * 8];
    size_t len;
    int calls_after_return;
    volatile int returned;
} sink;

static int on_text(void *user, const char *t, size_t n)
{
    sink *k = user;
    if (k->returned) k->calls_after_return++;
    if (k->len + n < sizeof k->text) {
        memcpy(k->text + k->len, t, n);
        k->len += n;
        k->text[k->len] = '\0';
    }
    return 0;
}

static pthread_t main_thread;
static double sent_at;
static void *sigint_after_first_words(void *arg)
{
    sink *k = arg;
    double t0 = ts_now();
    while (k->len < 20 && ts_now() - t0 < 10) ts_sleep_ms(1); /* the reply is flowing */
    ts_sleep_ms(3 * WORD_MS + 3);                              /* and between two words */
    sent_at = ts_now();
    pthread_kill(main_thread, SIGINT);
    return NULL;
}

Test(chat_faults, ctrl_c_while_tokens_flow)
{
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGINT, &sa, &old), 0);
    interrupted = 0;
    ts_server s;
    cr_assert_eq(ts_start(&s, respond, NULL, 2, 15), 0, "%s", s.error);

    chat_llm_config cfg;
    chat_llm_config_defaults(&cfg);
    cfg.base_url = s.base_url;
    cfg.model = "test-model";
    cfg.cancel = &interrupted;
    chat_llm *llm = NULL;
    nn_error err;
    cr_assert_eq(chat_llm_create(&llm, &cfg, &err), NN_OK, "%s", err.msg);

    chat_history h;
    chat_history_init(&h);
    cr_assert_eq(chat_history_append_turn(&h, "q0", "a0", &err), NN_OK);
    static sink k;
    memset(&k, 0, sizeof k);
    main_thread = pthread_self();
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, sigint_after_first_words, &k), 0);
    chat_llm_stats st;
    nn_status rc = chat_llm_turn(llm, &h, "tell me a long story", 1, on_text, &k, &st, &err);
    double stopped = ts_now();
    k.returned = 1;
    pthread_join(th, NULL);

    cr_assert_eq(rc, NN_ERR_INTERRUPTED, "status %d: %s", rc, err.msg);
    cr_expect_not_null(strstr(err.msg, "interrupted"), "message: %s", err.msg);
    /* cancel is checked on every byte callback: the next word (10 ms) at
     * the latest, with room for a loaded machine and the sanitizers. */
    double lag_ms = (stopped - sent_at) * 1000;
    cr_expect_lt(lag_ms, 250, "stopped %.0f ms after Ctrl-C", lag_ms);
    cr_log_info("stopped %.1f ms after SIGINT, %zu bytes of reply shown", lag_ms, k.len);
    cr_expect_geq(k.len, 20, "text before Ctrl-C: '%s'", k.text);
    cr_expect_null(strstr(k.text, "w399"), "the whole reply came through: not interrupted");
    cr_expect_eq(st.reply_bytes, k.len, "stats count %zu bytes, %zu were shown", st.reply_bytes,
                 k.len);
    cr_expect_eq(chat_history_turns(&h), 1, "an interrupted reply must not enter the history");

    /* The caller clears the flag; the same client then works. */
    interrupted = 0;
    char *reply = NULL;
    rc = chat_llm_complete(llm, &h, "and now briefly?", 0, NULL, NULL, &reply, NULL, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "turn after Ctrl-C: %s", err.msg);
    cr_expect_str_eq(reply, "fine");
    cr_expect_eq(k.calls_after_return, 0, "text delivered after the call returned");
    cr_expect_eq(s.n_requests, 2);
    free(reply);
    chat_history_free(&h);
    chat_llm_destroy(llm);
    ts_free(&s);
    sigaction(SIGINT, &old, NULL);
}

/* chat_llm_parse_response (the offline entry point the fuzz target uses)
 * agrees with the network path on a stream cut short and on one that ends
 * properly. */
Test(chat_faults, parse_response_matches_the_client)
{
    const char *stream = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
                         "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}],"
                         "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1e300}}\n\n";
    char *reply = NULL;
    chat_llm_stats st;
    int retry = -1;
    nn_error err;
    nn_status rc = chat_llm_parse_response(200, "text/event-stream", 1, stream, strlen(stream), 3,
                                           &reply, &st, &retry, &err);
    cr_assert_eq(rc, NN_ERR_NET, "a stream without [DONE] is incomplete: %d %s", rc, err.msg);
    cr_expect_not_null(strstr(err.msg, "[DONE]"), "%s", err.msg);
    cr_expect_null(reply);
    cr_expect_eq(st.reply_bytes, 5);
    cr_expect_eq(st.prompt_tokens, 5);
    cr_expect_eq(st.completion_tokens, -1, "an absurd count is unknown, not undefined behaviour");

    char whole[512];
    snprintf(whole, sizeof whole, "%sdata: [DONE]\n\n", stream);
    rc = chat_llm_parse_response(200, "text/event-stream", 1, whole, strlen(whole), 0, &reply, &st,
                                 &retry, &err);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_expect_str_eq(reply, "Hello");
    free(reply);

    rc = chat_llm_parse_response(503, "application/json", 1, "{\"error\":{\"message\":\"busy\"}}",
                                 29, 0, &reply, &st, &retry, &err);
    cr_assert_eq(rc, NN_ERR_NET);
    cr_expect_eq(retry, 1, "a 503 is retried");
    cr_expect_not_null(strstr(err.msg, "busy"), "%s", err.msg);
}
