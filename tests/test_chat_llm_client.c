/* Chat Completions client against a loopback server: what the request
 * carries (path, auth, model, stream flag, the emotion-augmented prompt,
 * the history), whole and streamed replies (the stream written in many small
 * pieces), history across turns, Ctrl-C during a streamed reply, and the
 * configuration / offline-mode helpers. Failures are in
 * test_chat_llm_errors.c. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/emotion_sum.h"
#include "chat/history.h"
#include "chat/llm_client.h"
#include "chat/prompt.h"
#include "tests/chat_test_server.h"

static void no_proxy(void)
{
    /* A proxy from the environment would take loopback requests elsewhere. */
    const char *vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                          "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

TestSuite(chat_llm, .init = no_proxy, .timeout = 20);

static chat_llm *client(const char *base, const char *key, volatile sig_atomic_t *cancel)
{
    chat_llm_config cfg;
    chat_llm_config_defaults(&cfg);
    cfg.base_url = base;
    cfg.api_key = key;
    cfg.model = "test-model";
    cfg.connect_timeout_ms = 2000;
    cfg.timeout_ms = 8000;
    cfg.idle_timeout_ms = 5000;
    cfg.max_retries = 2;
    cfg.backoff_initial_ms = 20;
    cfg.backoff_max_ms = 2000;
    cfg.cancel = cancel;
    chat_llm *llm = NULL;
    nn_error err;
    cr_assert_eq(chat_llm_create(&llm, &cfg, &err), NN_OK, "%s", err.msg);
    return llm;
}

typedef struct {
    char text[4096];
    size_t len;
    int calls;
} sink;

static int collect(void *user, const char *text, size_t len)
{
    sink *k = user;
    cr_assert_lt(k->len + len, sizeof k->text);
    memcpy(k->text + k->len, text, len);
    k->len += len;
    k->text[k->len] = '\0';
    k->calls++;
    return 0;
}

static cJSON *request_json(const ts_request *r)
{
    cJSON *j = cJSON_Parse(r->body);
    cr_assert_not_null(j, "request body is not JSON: %s", r->body);
    return j;
}

static const char full_reply[] =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
    "\"message\":{\"role\":\"assistant\",\"content\":\"I am sorry your plant died.\\nLet us "
    "look at why.\"},\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":12,\"total_tokens\":132}}";

static void answer_full(ts_server *s, int fd, int idx, const ts_request *r)
{
    ts_send_response(fd, 200, "application/json", "", full_reply);
}

/* The whole pipeline a turn goes through: frames -> summary -> template ->
 * request. */
Test(chat_llm, whole_reply_and_what_the_request_carries)
{
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_full, NULL, 1, 10), 0, "%s", s.error);

    chat_emotion_sum acc;
    nn_error err;
    cr_assert_eq(chat_emotion_sum_init(&acc, &err), NN_OK);
    float sad[7] = {0.05f, 0.02f, 0.1f, 0.03f, 0.64f, 0.01f, 0.15f};
    for (int i = 0; i < 3; i++) cr_assert_eq(chat_emotion_sum_add(&acc, sad, &err), NN_OK);
    chat_emotion_summary sum;
    chat_emotion_sum_take(&acc, &sum);
    chat_emotion_sum_destroy(&acc);

    chat_template tpl;
    cr_assert_eq(chat_template_default(&tpl, &err), NN_OK);
    char *prompt = NULL;
    cr_assert_eq(chat_template_render(&tpl, CHAT_PROMPT_AUGMENTED, &sum, "Why did my plant die?",
                                      &prompt, &err), NN_OK);
    chat_history h;
    chat_history_init(&h);
    cr_assert_eq(chat_history_set_system(&h, chat_template_system(&tpl, CHAT_PROMPT_AUGMENTED),
                                         &err), NN_OK);

    chat_llm *llm = client(s.base_url, "sk-test-123", NULL);
    sink k = {0};
    chat_llm_stats st;
    nn_status rc = chat_llm_turn(llm, &h, prompt, 0, collect, &k, &st, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_str_eq(k.text, "I am sorry your plant died.\nLet us look at why.");
    cr_assert_eq(k.calls, 1, "a whole reply is delivered in one call");
    cr_assert_eq(st.attempts, 1);
    cr_assert_eq(st.http_status, 200);
    cr_assert_eq(st.prompt_tokens, 120);
    cr_assert_eq(st.completion_tokens, 12);
    cr_assert_str_eq(st.finish_reason, "stop");

    cr_assert_eq(s.n_requests, 1);
    const ts_request *r = &s.req[0];
    cr_assert_str_eq(r->method, "POST");
    cr_assert_str_eq(r->path, "/v1/chat/completions");
    char v[256];
    cr_assert(ts_header(r, "Authorization", v, sizeof v));
    cr_assert_str_eq(v, "Bearer sk-test-123");
    cr_assert(ts_header(r, "Content-Type", v, sizeof v));
    cr_assert_str_eq(v, "application/json");
    cJSON *j = request_json(r);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "model")->valuestring, "test-model");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "stream")));
    cr_assert_null(cJSON_GetObjectItem(j, "temperature"), "unset options are not sent");
    cJSON *msgs = cJSON_GetObjectItem(j, "messages");
    cr_assert_eq(cJSON_GetArraySize(msgs), 2);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")->valuestring, "system");
    cJSON *last = cJSON_GetArrayItem(msgs, 1);
    cr_assert_str_eq(cJSON_GetObjectItem(last, "role")->valuestring, "user");
    const char *content = cJSON_GetObjectItem(last, "content")->valuestring;
    cr_assert(strstr(content, "appears sad"), "emotion missing: %s", content);
    cr_assert(strstr(content, "64%"), "share missing: %s", content);
    cr_assert(strstr(content, "3 frames"), "frames missing: %s", content);
    cr_assert(strstr(content, "Why did my plant die?"), "question missing: %s", content);
    cJSON_Delete(j);

    /* The turn is in the history exactly as sent and received. */
    cr_assert_eq(chat_history_turns(&h), 1);
    cr_assert_str_eq(h.msgs[1].content, prompt);
    cr_assert_str_eq(h.msgs[2].content, k.text);

    chat_llm_destroy(llm);
    chat_history_free(&h);
    chat_template_free(&tpl);
    free(prompt);
    ts_free(&s);
}

/* A realistic stream: role chunk, keep-alive comment, content with escapes
 * and multi-byte text, a finish chunk, a usage chunk with empty choices,
 * then [DONE]; written 1..7 bytes per HTTP chunk. */
static const char *const deltas[] = {"Sorry", " to", " hear", " that", " \xE2\x80\x94",
                                     " caf\xC3\xA9", "\\nnew line", " \\\"quoted\\\"", "."};
static const char streamed_text[] = "Sorry to hear that \xE2\x80\x94 caf\xC3\xA9\nnew line \"quoted\".";

static void answer_stream(ts_server *s, int fd, int idx, const ts_request *r)
{
    char body[8192];
    size_t n = 0;
    n += (size_t)snprintf(body + n, sizeof body - n,
                          ": ping\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                          "\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
    for (size_t i = 0; i < sizeof deltas / sizeof deltas[0]; i++)
        n += (size_t)snprintf(body + n, sizeof body - n,
                              "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"},"
                              "\"finish_reason\":null}]}\r\n\r\n", deltas[i]);
    n += (size_t)snprintf(body + n, sizeof body - n,
                          "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
                          "\"length\"}]}\n\n"
                          "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,"
                          "\"completion_tokens\":9}}\n\n"
                          "data: [DONE]\n\n");
    if (ts_send_stream_head(fd)) return;
    if (ts_send_chunked_slowly(fd, body, n, 7, 300)) return;
    ts_send_chunked_end(fd);
}

Test(chat_llm, streamed_reply_in_many_small_writes)
{
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_stream, NULL, 1, 10), 0);
    chat_llm *llm = client(s.base_url, NULL, NULL);
    chat_history h;
    chat_history_init(&h);
    sink k = {0};
    chat_llm_stats st;
    char *reply = NULL;
    nn_error err;
    nn_status rc = chat_llm_complete(llm, &h, "hello", 1, collect, &k, &reply, &st, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_str_eq(reply, streamed_text);
    cr_assert_str_eq(k.text, streamed_text, "the callback saw: %s", k.text);
    cr_assert_eq(k.calls, (int)(sizeof deltas / sizeof deltas[0]),
                 "one callback per content delta, as it arrives");
    cr_assert_str_eq(st.finish_reason, "length");
    cr_assert_eq(st.prompt_tokens, 7);
    cr_assert_eq(st.completion_tokens, 9);
    cr_assert_geq(st.first_text_s, 0);
    cr_assert_lt(st.first_text_s, st.elapsed_s, "first text must come before the end");
    cr_assert_eq(st.reply_bytes, strlen(streamed_text));

    cr_assert_eq(s.n_requests, 1);
    char v[256];
    cr_assert_not(ts_header(&s.req[0], "Authorization", v, sizeof v),
                  "no key configured, so no Authorization header (llama-server, Ollama)");
    cr_assert(ts_header(&s.req[0], "Accept", v, sizeof v));
    cr_assert_str_eq(v, "text/event-stream");
    cJSON *j = request_json(&s.req[0]);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "stream")));
    cJSON_Delete(j);
    cr_assert_eq(chat_history_turns(&h), 0, "chat_llm_complete never touches the history");

    free(reply);
    chat_llm_destroy(llm);
    chat_history_free(&h);
    ts_free(&s);
}

Test(chat_llm, server_that_ignores_stream_flag_still_works)
{
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_full, NULL, 1, 10), 0);
    chat_llm *llm = client(s.base_url, NULL, NULL);
    chat_history h;
    chat_history_init(&h);
    sink k = {0};
    nn_error err;
    nn_status rc = chat_llm_turn(llm, &h, "hi", 1, collect, &k, NULL, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_str_eq(k.text, "I am sorry your plant died.\nLet us look at why.");
    chat_llm_destroy(llm);
    chat_history_free(&h);
    ts_free(&s);
}

/* Second request must carry the first turn. */
static void answer_numbered(ts_server *s, int fd, int idx, const ts_request *r)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"answer %d\"},"
             "\"finish_reason\":\"stop\"}]}", idx + 1);
    ts_send_response(fd, 200, "application/json; charset=utf-8", "", body);
}

Test(chat_llm, history_is_kept_across_turns)
{
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_numbered, NULL, 2, 10), 0);
    chat_llm *llm = client(s.base_url, "k", NULL);
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    cr_assert_eq(chat_history_set_system(&h, "be brief", &err), NN_OK);
    cr_assert_eq(chat_llm_turn(llm, &h, "first question", 0, NULL, NULL, NULL, &err), NN_OK,
                 "%s", err.msg);
    cr_assert_eq(chat_llm_turn(llm, &h, "second question", 0, NULL, NULL, NULL, &err), NN_OK,
                 "%s", err.msg);
    ts_stop(&s);
    cr_assert_eq(s.n_requests, 2);
    cJSON *j = request_json(&s.req[1]);
    cJSON *msgs = cJSON_GetObjectItem(j, "messages");
    const char *want[][2] = {{"system", "be brief"},
                             {"user", "first question"},
                             {"assistant", "answer 1"},
                             {"user", "second question"}};
    cr_assert_eq(cJSON_GetArraySize(msgs), 4);
    for (int i = 0; i < 4; i++) {
        cJSON *m = cJSON_GetArrayItem(msgs, i);
        cr_assert_str_eq(cJSON_GetObjectItem(m, "role")->valuestring, want[i][0]);
        cr_assert_str_eq(cJSON_GetObjectItem(m, "content")->valuestring, want[i][1]);
    }
    cJSON_Delete(j);
    cr_assert_eq(chat_history_turns(&h), 2);
    cr_assert_str_eq(h.msgs[4].content, "answer 2");
    chat_llm_destroy(llm);
    chat_history_free(&h);
    ts_free(&s);
}

/* An endless stream (one event every 40 ms, for up to 8 s), then a normal
 * answer for the request after the interruption. */
static void answer_slow_stream_then_full(ts_server *s, int fd, int idx, const ts_request *r)
{
    if (idx == 1) {
        answer_full(s, fd, idx, r);
        return;
    }
    if (ts_send_stream_head(fd)) return;
    const char ev[] = "data: {\"choices\":[{\"delta\":{\"content\":\"blah \"}}]}\n\n";
    double end = ts_now() + 8;
    while (ts_now() < end && !atomic_load(&s->stop)) {
        if (ts_sendf(fd, "%zx\r\n%s\r\n", sizeof ev - 1, ev)) return; /* client hung up */
        ts_sleep_ms(40);
    }
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    interrupted = 1;
}

static pthread_t main_thread;
static void *send_sigint_later(void *arg)
{
    ts_sleep_ms(300);
    pthread_kill(main_thread, SIGINT);
    return NULL;
}

Test(chat_llm, ctrl_c_stops_the_reply_not_the_session)
{
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGINT, &sa, NULL), 0);
    interrupted = 0;

    ts_server s;
    cr_assert_eq(ts_start(&s, answer_slow_stream_then_full, NULL, 2, 15), 0);
    chat_llm *llm = client(s.base_url, NULL, &interrupted);
    chat_history h;
    chat_history_init(&h);
    sink k = {0};
    chat_llm_stats st;
    nn_error err;
    char prompt[] = "tell me a long story";
    main_thread = pthread_self();
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, send_sigint_later, NULL), 0);
    double t0 = ts_now();
    nn_status rc = chat_llm_turn(llm, &h, prompt, 1, collect, &k, &st, &err);
    double took = ts_now() - t0;
    pthread_join(th, NULL);
    cr_assert_eq(rc, NN_ERR_INTERRUPTED, "%d: %s", rc, err.msg);
    cr_assert(interrupted);
    cr_assert_gt(k.calls, 0, "text streamed before Ctrl-C reaches the callback");
    cr_assert_lt(took, 2.0, "took %.2f s to stop", took);
    cr_assert(strstr(err.msg, "interrupted"), "%s", err.msg);
    cr_assert_eq(chat_history_turns(&h), 0, "an interrupted reply is not added");
    cr_assert_str_eq(prompt, "tell me a long story");

    /* The session goes on: same client, next request works. */
    interrupted = 0;
    k = (sink){0};
    rc = chat_llm_turn(llm, &h, prompt, 1, collect, &k, &st, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_eq(chat_history_turns(&h), 1);
    chat_llm_destroy(llm);
    chat_history_free(&h);
    ts_free(&s);
}

static int stop_after_two(void *user, const char *text, size_t len)
{
    int *n = user;
    return ++*n >= 2;
}

Test(chat_llm, callback_can_stop_the_reply)
{
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_slow_stream_then_full, NULL, 1, 10), 0);
    chat_llm *llm = client(s.base_url, NULL, NULL);
    chat_history h;
    chat_history_init(&h);
    int calls = 0;
    char *reply = (char *)1;
    nn_error err;
    double t0 = ts_now();
    nn_status rc = chat_llm_complete(llm, &h, "x", 1, stop_after_two, &calls, &reply, NULL, &err);
    cr_assert_lt(ts_now() - t0, 2.0);
    ts_stop(&s);
    cr_assert_eq(rc, NN_ERR_INTERRUPTED, "%s", err.msg);
    cr_assert_eq(calls, 2);
    cr_assert_null(reply);
    chat_llm_destroy(llm);
    chat_history_free(&h);
    ts_free(&s);
}

/* ---- configuration and offline mode ----------------------------------- */

Test(chat_llm, configuration_from_options_and_environment)
{
    unsetenv("OPENAI_API_KEY");
    unsetenv("OPENAI_BASE_URL");
    chat_llm_config cfg;
    chat_llm_config_defaults(&cfg);
    chat_llm_config_from_env(&cfg);
    cr_assert_not(chat_llm_configured(&cfg), "nothing set: offline mode");
    cr_assert_null(cfg.base_url);

    setenv("OPENAI_API_KEY", "sk-env", 1);
    chat_llm_config_defaults(&cfg);
    chat_llm_config_from_env(&cfg);
    cr_assert(chat_llm_configured(&cfg));
    cr_assert_str_eq(cfg.base_url, "https://api.openai.com/v1");
    cr_assert_str_eq(cfg.api_key, "sk-env");

    unsetenv("OPENAI_API_KEY");
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1", 1);
    chat_llm_config_defaults(&cfg);
    chat_llm_config_from_env(&cfg);
    cr_assert(chat_llm_configured(&cfg), "a local server needs no key");
    cr_assert_null(cfg.api_key);
    cr_assert_str_eq(cfg.base_url, "http://127.0.0.1:8080/v1");

    chat_llm_config_defaults(&cfg);
    cfg.base_url = "http://127.0.0.1:11434/v1"; /* --base-url wins over the environment */
    chat_llm_config_from_env(&cfg);
    cr_assert_str_eq(cfg.base_url, "http://127.0.0.1:11434/v1");

    setenv("OPENAI_BASE_URL", "", 1); /* empty counts as unset */
    chat_llm_config_defaults(&cfg);
    chat_llm_config_from_env(&cfg);
    cr_assert_not(chat_llm_configured(&cfg));

    const char *help = chat_llm_setup_help();
    const char *must[] = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "--base-url",
                          "http://127.0.0.1:8080/v1", "http://127.0.0.1:11434/v1", "--model"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        cr_assert(strstr(help, must[i]), "help lacks %s", must[i]);
}

Test(chat_llm, create_checks_the_configuration)
{
    chat_llm_config cfg;
    chat_llm *llm = NULL;
    nn_error err;
    chat_llm_config_defaults(&cfg);
    cr_assert_eq(chat_llm_create(&llm, &cfg, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "--base-url"), "%s", err.msg);

    cfg.base_url = "ftp://example.org/v1";
    cr_assert_eq(chat_llm_create(&llm, &cfg, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "http://"), "%s", err.msg);

    cfg.base_url = "http://127.0.0.1:8080/v1";
    cfg.api_key = "sk-abc\n";
    cr_assert_eq(chat_llm_create(&llm, &cfg, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "control character"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "sk-abc"), "never echo the key");

    cfg.api_key = NULL;
    cfg.model = "";
    cr_assert_eq(chat_llm_create(&llm, &cfg, &err), NN_ERR_ARG);
    cr_assert(strstr(err.msg, "--model"), "%s", err.msg);

    cfg.model = "m";
    cfg.base_url = "http://127.0.0.1:8080/v1/";
    cr_assert_eq(chat_llm_create(&llm, &cfg, &err), NN_OK, "%s", err.msg);
    cr_assert_str_eq(chat_llm_url(llm), "http://127.0.0.1:8080/v1/chat/completions");
    chat_llm_destroy(llm);
    cfg.base_url = "https://h.example/openai/v1/chat/completions";
    cr_assert_eq(chat_llm_create(&llm, &cfg, &err), NN_OK, "%s", err.msg);
    cr_assert_str_eq(chat_llm_url(llm), "https://h.example/openai/v1/chat/completions");
    chat_llm_destroy(llm);
}
