/* Chat Completions client failures against a loopback server: HTTP errors
 * (401/403/404/400), retries with back-off and Retry-After on 429 and 5xx,
 * malformed replies (non-JSON, no choices, error objects, truncated or
 * broken streams), connection refused, DNS failure, time-outs, and Ctrl-C
 * during a silent stream or a back-off wait. After every failure the
 * caller's prompt and history are untouched and the client still works. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/history.h"
#include "chat/llm_client.h"
#include "tests/chat_test_server.h"

static void no_proxy(void)
{
    const char *vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                          "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

TestSuite(chat_llm_errors, .init = no_proxy, .timeout = 20);

static chat_llm_config config(const char *base)
{
    chat_llm_config cfg;
    chat_llm_config_defaults(&cfg);
    cfg.base_url = base;
    cfg.api_key = "sk-test";
    cfg.model = "test-model";
    cfg.connect_timeout_ms = 2000;
    cfg.timeout_ms = 8000;
    cfg.idle_timeout_ms = 5000;
    cfg.max_retries = 3;
    cfg.backoff_initial_ms = 20;
    cfg.backoff_max_ms = 3000;
    return cfg;
}

static chat_llm *client_cfg(const chat_llm_config *cfg)
{
    chat_llm *llm = NULL;
    nn_error err;
    cr_assert_eq(chat_llm_create(&llm, cfg, &err), NN_OK, "%s", err.msg);
    return llm;
}

/* One turn that must fail with status want and a message holding each
 * needle; checks the history and the prompt are untouched. Returns the
 * stats. */
static chat_llm_stats fail_turn(chat_llm *llm, int stream, nn_status want, const char *needle1,
                                const char *needle2)
{
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    cr_assert_eq(chat_history_set_system(&h, "sys", &err), NN_OK);
    cr_assert_eq(chat_history_append_turn(&h, "q0", "a0", &err), NN_OK);
    char prompt[] = "my precious question";
    chat_llm_stats st;
    nn_error_clear(&err);
    nn_status rc = chat_llm_turn(llm, &h, prompt, stream, NULL, NULL, &st, &err);
    cr_assert_eq(rc, want, "status %d (%s), want %d: %s", rc, nn_status_name(rc), want, err.msg);
    cr_assert(strstr(err.msg, needle1), "'%s' lacks '%s'", err.msg, needle1);
    if (needle2) cr_assert(strstr(err.msg, needle2), "'%s' lacks '%s'", err.msg, needle2);
    cr_assert_null(strstr(err.msg, "sk-test"), "the key must never appear in messages");
    cr_assert_str_eq(prompt, "my precious question");
    cr_assert_eq(h.n, 3, "history changed on failure");
    cr_assert_str_eq(h.msgs[2].content, "a0");
    chat_history_free(&h);
    return st;
}

static const char ok_body[] =
    "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"fine\"},"
    "\"finish_reason\":\"stop\"}]}";

/* Scenario: a list of canned answers, one per request; the last repeats. */
typedef struct {
    int status[8];
    const char *headers[8];
    const char *body[8];
    int n;
} script;

static void answer_script(ts_server *s, int fd, int idx, const ts_request *r)
{
    const script *sc = s->user;
    int i = idx < sc->n ? idx : sc->n - 1;
    ts_send_response(fd, sc->status[i], "application/json",
                     sc->headers[i] ? sc->headers[i] : "", sc->body[i] ? sc->body[i] : ok_body);
}

/* Runs one failing turn against a one-answer server; checks it was asked
 * exactly `requests` times. */
static void one_answer_fails(int status, const char *headers, const char *body, int stream,
                             int requests, nn_status want, const char *n1, const char *n2)
{
    script sc = {.status = {status}, .headers = {headers}, .body = {body}, .n = 1};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_script, &sc, 8, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    chat_llm *llm = client_cfg(&cfg);
    chat_llm_stats st = fail_turn(llm, stream, want, n1, n2);
    ts_stop(&s);
    cr_assert_eq(s.n_requests, requests, "server saw %d requests, want %d", s.n_requests, requests);
    cr_assert_eq(st.attempts, requests);
    chat_llm_destroy(llm);
    ts_free(&s);
}

/* ---- HTTP errors -------------------------------------------------------- */

Test(chat_llm_errors, http_401_says_the_key_is_wrong_and_is_not_retried)
{
    one_answer_fails(401, NULL,
                     "{\"error\":{\"message\":\"Incorrect API key provided.\",\"type\":"
                     "\"invalid_request_error\",\"code\":\"invalid_api_key\"}}",
                     1, 1, NN_ERR_NET, "HTTP 401", "API key was refused");
}

Test(chat_llm_errors, http_401_without_a_key_says_to_set_one)
{
    script sc = {.status = {401}, .body = {"{\"error\":\"unauthorized\"}"}, .n = 1};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_script, &sc, 2, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    cfg.api_key = NULL;
    chat_llm *llm = client_cfg(&cfg);
    fail_turn(llm, 0, NN_ERR_NET, "no API key was sent; set OPENAI_API_KEY", "unauthorized");
    ts_stop(&s);
    cr_assert_eq(s.n_requests, 1);
    chat_llm_destroy(llm);
    ts_free(&s);
}

Test(chat_llm_errors, http_403_404_400_show_the_cause)
{
    one_answer_fails(403, NULL, "{\"error\":{\"message\":\"model not allowed\"}}", 0, 1,
                     NN_ERR_NET, "HTTP 403", "model not allowed");
    one_answer_fails(404, NULL, "{\"error\":{\"message\":\"The model `x` does not exist\"}}", 0,
                     1, NN_ERR_NET, "check the base URL", "'test-model'");
    one_answer_fails(400, NULL,
                     "{\"error\":{\"message\":\"This model's maximum context length is 8192 "
                     "tokens.\"}}", 1, 1, NN_ERR_NET, "HTTP 400", "maximum context length");
    one_answer_fails(429, NULL,
                     "{\"error\":{\"message\":\"You exceeded your current quota\",\"code\":"
                     "\"insufficient_quota\"}}", 0, 1, NN_ERR_NET, "no quota left", "exceeded");
}

/* ---- retries and back-off --------------------------------------------- */

Test(chat_llm_errors, http_429_then_200_retries_after_the_back_off)
{
    script sc = {.status = {429, 200},
                 .body = {"{\"error\":{\"message\":\"Rate limit reached\"}}", NULL}, .n = 2};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_script, &sc, 4, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    cfg.backoff_initial_ms = 150;
    chat_llm *llm = client_cfg(&cfg);
    chat_history h;
    chat_history_init(&h);
    chat_llm_stats st;
    nn_error err;
    nn_status rc = chat_llm_turn(llm, &h, "q", 0, NULL, NULL, &st, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_eq(s.n_requests, 2);
    cr_assert_eq(st.attempts, 2);
    double gap = s.req[1].t - s.req[0].t;
    cr_assert_geq(gap, 0.150, "retried after %.3f s, before the 150 ms back-off", gap);
    cr_assert_lt(gap, 1.0, "back-off far too long: %.3f s", gap);
    cr_assert_geq(st.waited_ms, 150);
    cr_assert_eq(chat_history_turns(&h), 1);
    cr_assert_str_eq(h.msgs[1].content, "fine");
    chat_llm_destroy(llm);
    chat_history_free(&h);
    ts_free(&s);
}

static void retry_after_case(const char *header, double min_gap)
{
    script sc = {.status = {429, 200}, .headers = {header, NULL}, .n = 2};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_script, &sc, 4, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    cfg.backoff_initial_ms = 10; /* the server's wait is longer and must win */
    chat_llm *llm = client_cfg(&cfg);
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    nn_status rc = chat_llm_turn(llm, &h, "q", 1, NULL, NULL, NULL, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_eq(s.n_requests, 2);
    double gap = s.req[1].t - s.req[0].t;
    cr_assert_geq(gap, min_gap, "%s: retried after %.3f s", header, gap);
    cr_assert_lt(gap, min_gap + 0.8, "%s: waited %.3f s", header, gap);
    chat_llm_destroy(llm);
    chat_history_free(&h);
    ts_free(&s);
}

Test(chat_llm_errors, retry_after_seconds_is_honoured)
{
    retry_after_case("Retry-After: 1\r\n", 1.0);
}

Test(chat_llm_errors, retry_after_ms_is_honoured)
{
    retry_after_case("retry-after-ms: 300\r\nRetry-After: 1\r\n", 0.3);
}

Test(chat_llm_errors, retry_after_beyond_the_limit_fails_at_once)
{
    one_answer_fails(429, "Retry-After: 120\r\n", "{\"error\":{\"message\":\"slow down\"}}", 0,
                     1, NN_ERR_NET, "asks to wait 120.0 s", "HTTP 429");
}

Test(chat_llm_errors, http_500_retries_with_doubling_back_off_then_gives_up)
{
    script sc = {.status = {500}, .body = {"{\"error\":{\"message\":\"The server had an "
                                           "error\"}}"}, .n = 1};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_script, &sc, 8, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    cfg.max_retries = 2;
    cfg.backoff_initial_ms = 60;
    chat_llm *llm = client_cfg(&cfg);
    chat_llm_stats st = fail_turn(llm, 1, NN_ERR_NET, "giving up after 3 attempts",
                                  "HTTP 500");
    ts_stop(&s);
    cr_assert_eq(s.n_requests, 3);
    cr_assert_eq(st.attempts, 3);
    double g1 = s.req[1].t - s.req[0].t, g2 = s.req[2].t - s.req[1].t;
    cr_assert_geq(g1, 0.060, "first wait %.3f s", g1);
    cr_assert_geq(g2, 0.120, "second wait %.3f s must double", g2);
    cr_assert_geq(st.waited_ms, 180);
    chat_llm_destroy(llm);
    ts_free(&s);
}

/* 503 first, then a streamed reply: the text arrives exactly once. */
static void answer_503_then_stream(ts_server *s, int fd, int idx, const ts_request *r)
{
    if (idx == 0) {
        ts_send_response(fd, 503, "text/html", "", "<html>Service Unavailable</html>");
        return;
    }
    const char body[] = "data: {\"choices\":[{\"delta\":{\"content\":\"once\"}}]}\n\n"
                        "data: [DONE]\n\n";
    if (!ts_send_stream_head(fd) && !ts_send_chunked_slowly(fd, body, sizeof body - 1, 5, 0))
        ts_send_chunked_end(fd);
}

static int append_text(void *user, const char *t, size_t n)
{
    strncat(user, t, n);
    return 0;
}

Test(chat_llm_errors, http_503_then_stream_delivers_the_text_once)
{
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_503_then_stream, NULL, 3, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    chat_llm *llm = client_cfg(&cfg);
    chat_history h;
    chat_history_init(&h);
    char seen[256] = "";
    nn_error err;
    nn_status rc = chat_llm_turn(llm, &h, "q", 1, append_text, seen, NULL, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_str_eq(seen, "once");
    cr_assert_eq(s.n_requests, 2);
    chat_llm_destroy(llm);
    chat_history_free(&h);
    ts_free(&s);
}

/* ---- malformed replies ------------------------------------------------ */

Test(chat_llm_errors, non_json_reply)
{
    script sc = {.status = {200}, .body = {"<html><body>Bad gateway</body></html>"}, .n = 1};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_script, &sc, 2, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    chat_llm *llm = client_cfg(&cfg);
    fail_turn(llm, 0, NN_ERR_FORMAT, "not JSON", "<html><body>Bad gateway");
    ts_stop(&s);
    cr_assert_eq(s.n_requests, 1, "a malformed 200 is not retried");
    chat_llm_destroy(llm);
    ts_free(&s);
}

Test(chat_llm_errors, reply_without_choices_or_content)
{
    one_answer_fails(200, NULL, "{\"id\":\"x\",\"object\":\"chat.completion\"}", 0, 1,
                     NN_ERR_FORMAT, "no choices", NULL);
    one_answer_fails(200, NULL, "{\"choices\":[]}", 0, 1, NN_ERR_FORMAT, "no choices", NULL);
    one_answer_fails(200, NULL, "{\"choices\":[{\"message\":{\"role\":\"assistant\"}}]}", 0, 1,
                     NN_ERR_FORMAT, "content missing", NULL);
    one_answer_fails(200, NULL, "", 0, 1, NN_ERR_FORMAT, "empty body", NULL);
}

Test(chat_llm_errors, error_object_in_a_200_body)
{
    one_answer_fails(200, NULL, "{\"error\":{\"message\":\"model is overloaded\"}}", 0, 1,
                     NN_ERR_NET, "reported an error", "model is overloaded");
}

/* Streams: user->body selects the broken ending. */
typedef struct {
    const char *events;   /* SSE text sent first */
    int end;              /* 0: proper chunked end, 1: drop the connection mid-chunk */
} stream_case;

static void answer_broken_stream(ts_server *s, int fd, int idx, const ts_request *r)
{
    const stream_case *c = s->user;
    if (ts_send_stream_head(fd)) return;
    if (ts_send_chunked_slowly(fd, c->events, strlen(c->events), 6, 0)) return;
    if (c->end == 0) ts_send_chunked_end(fd);
    else ts_send(fd, "40\r\ndata: {\"choi", 16); /* promise 64 bytes, send 12, hang up */
}

static void broken_stream(const char *events, int end, nn_status want, const char *n1,
                          const char *n2)
{
    stream_case c = {events, end};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_broken_stream, &c, 2, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    chat_llm *llm = client_cfg(&cfg);
    fail_turn(llm, 1, want, n1, n2);
    ts_stop(&s);
    cr_assert_eq(s.n_requests, 1, "a stream that delivered text is never retried");
    chat_llm_destroy(llm);
    ts_free(&s);
}

#define DELTA(t) "data: {\"choices\":[{\"delta\":{\"content\":\"" t "\"}}]}\n\n"

Test(chat_llm_errors, stream_that_ends_without_done)
{
    broken_stream(DELTA("Hello") DELTA(" there"), 0, NN_ERR_NET, "ended before \"data: [DONE]\"",
                  "incomplete (11 bytes)");
    broken_stream(DELTA("Hello") "data: {\"choices\":[{\"delta\":", 0, NN_ERR_NET,
                  "in the middle of an event", NULL);
}

Test(chat_llm_errors, stream_connection_dropped)
{
    broken_stream(DELTA("Hello"), 1, NN_ERR_NET, "connection lost in the middle of the reply",
                  NULL);
}

Test(chat_llm_errors, connection_dropped_after_done_loses_nothing)
{
    stream_case c = {DELTA("all") DELTA(" there") "data: [DONE]\n\n", 1};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_broken_stream, &c, 1, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    chat_llm *llm = client_cfg(&cfg);
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    nn_status rc = chat_llm_turn(llm, &h, "q", 1, NULL, NULL, NULL, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_str_eq(h.msgs[1].content, "all there");
    chat_history_free(&h);
    chat_llm_destroy(llm);
    ts_free(&s);
}

Test(chat_llm_errors, stream_with_bad_events)
{
    broken_stream(DELTA("ok") "data: {not json\n\n", 0, NN_ERR_FORMAT,
                  "malformed stream event (not JSON)", "{not json");
    broken_stream(DELTA("ok") "data: {\"id\":\"x\"}\n\n", 0, NN_ERR_FORMAT, "no \"choices\"",
                  NULL);
    broken_stream(DELTA("ok") "data: {\"error\":{\"message\":\"upstream timed out\"}}\n\n", 0,
                  NN_ERR_NET, "mid-reply", "upstream timed out");
}

/* ---- transport failures ------------------------------------------------ */

Test(chat_llm_errors, connection_refused)
{
    int fd;
    int port = ts_refusing_port(&fd);
    cr_assert_gt(port, 0);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);
    chat_llm_config cfg = config(base);
    chat_llm *llm = client_cfg(&cfg);
    double t0 = ts_now();
    chat_llm_stats st = fail_turn(llm, 1, NN_ERR_NET, "cannot connect", "is the server running");
    cr_assert_lt(ts_now() - t0, 1.0, "refused connections are not retried");
    cr_assert_eq(st.attempts, 1);
    cr_assert_eq(st.http_status, 0);
    chat_llm_destroy(llm);
    close(fd);
}

Test(chat_llm_errors, unknown_host)
{
    /* .invalid never resolves (RFC 2606). Where the resolver cannot be
     * reached at all, curl reports the time-out instead; both name the URL. */
    chat_llm_config cfg = config("http://no-such-host.invalid/v1");
    cfg.connect_timeout_ms = 3000;
    chat_llm *llm = client_cfg(&cfg);
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    nn_status rc = chat_llm_turn(llm, &h, "q", 0, NULL, NULL, NULL, &err);
    cr_assert_eq(rc, NN_ERR_NET, "%s", err.msg);
    cr_assert(strstr(err.msg, "no-such-host.invalid"), "%s", err.msg);
    cr_assert(strstr(err.msg, "cannot resolve") || strstr(err.msg, "timed out"), "%s", err.msg);
    chat_llm_destroy(llm);
}

static void answer_never(ts_server *s, int fd, int idx, const ts_request *r)
{
    ts_hang(s);
}

Test(chat_llm_errors, overall_time_out)
{
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_never, NULL, 2, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    cfg.timeout_ms = 300;
    chat_llm *llm = client_cfg(&cfg);
    double t0 = ts_now();
    chat_llm_stats st = fail_turn(llm, 0, NN_ERR_NET, "timed out", s.base_url);
    double took = ts_now() - t0;
    ts_stop(&s);
    cr_assert_geq(took, 0.29);
    cr_assert_lt(took, 1.5, "took %.2f s", took);
    cr_assert_eq(st.attempts, 1, "a time-out is not retried");
    chat_llm_destroy(llm);
    ts_free(&s);
}

static void answer_one_event_then_silence(ts_server *s, int fd, int idx, const ts_request *r)
{
    const char ev[] = DELTA("thinking...");
    if (ts_send_stream_head(fd) || ts_sendf(fd, "%zx\r\n%s\r\n", sizeof ev - 1, ev)) return;
    ts_hang(s);
}

Test(chat_llm_errors, idle_time_out_on_a_stalled_stream)
{
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_one_event_then_silence, NULL, 2, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    cfg.idle_timeout_ms = 500;
    chat_llm *llm = client_cfg(&cfg);
    double t0 = ts_now();
    fail_turn(llm, 1, NN_ERR_NET, "nothing received for 0.5 s", "in the middle of the reply");
    double took = ts_now() - t0;
    ts_stop(&s);
    /* libcurl calls the progress check about once a second when idle */
    cr_assert_geq(took, 0.5);
    cr_assert_lt(took, 2.0, "took %.2f s", took);
    chat_llm_destroy(llm);
    ts_free(&s);
}

/* ---- Ctrl-C where no bytes flow --------------------------------------- */

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    interrupted = 1;
}

static pthread_t main_thread;
static void *sigint_after_300ms(void *arg)
{
    ts_sleep_ms(300);
    pthread_kill(main_thread, SIGINT);
    return NULL;
}

static void interrupt_case(ts_respond_fn respond, const char *header, const char *needle)
{
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGINT, &sa, NULL), 0);
    interrupted = 0;
    script sc = {.status = {503}, .headers = {header}, .n = 1};
    ts_server s;
    cr_assert_eq(ts_start(&s, respond, &sc, 2, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    cfg.cancel = &interrupted;
    cfg.idle_timeout_ms = 30000;
    chat_llm *llm = client_cfg(&cfg);
    main_thread = pthread_self();
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, sigint_after_300ms, NULL), 0);
    double t0 = ts_now();
    fail_turn(llm, 1, NN_ERR_INTERRUPTED, needle, NULL);
    double took = ts_now() - t0;
    pthread_join(th, NULL);
    ts_stop(&s);
    /* libcurl's progress callback ticks about once a second when no bytes
     * flow, so a silent stream stops within ~1.3 s; a back-off wait sooner. */
    cr_assert_lt(took, 1.6, "took %.2f s to stop", took);
    chat_llm_destroy(llm);
    ts_free(&s);
}

Test(chat_llm_errors, ctrl_c_during_a_silent_stream)
{
    interrupt_case(answer_one_event_then_silence, NULL, "interrupted after 11 bytes");
}

Test(chat_llm_errors, ctrl_c_during_the_back_off_wait)
{
    interrupt_case(answer_script, "Retry-After: 2\r\n", "interrupted while waiting to retry");
}

/* ---- one client through a run of failures ------------------------------ */

static void answer_mixed(ts_server *s, int fd, int idx, const ts_request *r)
{
    switch (idx) {
    case 0: ts_send_response(fd, 401, "application/json", "", "{\"error\":\"bad key\"}"); break;
    case 1: ts_send_response(fd, 200, "application/json", "", "not json"); break;
    case 2: answer_broken_stream(s, fd, idx, r); break;
    default: ts_send_response(fd, 200, "application/json", "", ok_body); break;
    }
}

Test(chat_llm_errors, session_survives_a_run_of_failures)
{
    stream_case c = {DELTA("partial"), 0};
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_mixed, &c, 4, 10), 0);
    chat_llm_config cfg = config(s.base_url);
    chat_llm *llm = client_cfg(&cfg);
    fail_turn(llm, 0, NN_ERR_NET, "HTTP 401", "bad key");
    fail_turn(llm, 0, NN_ERR_FORMAT, "not JSON", NULL);
    fail_turn(llm, 1, NN_ERR_NET, "[DONE]", NULL);
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    nn_status rc = chat_llm_turn(llm, &h, "finally", 0, NULL, NULL, NULL, &err);
    ts_stop(&s);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_assert_eq(s.n_requests, 4);
    cr_assert_eq(chat_history_turns(&h), 1);
    cr_assert_str_eq(h.msgs[0].content, "finally");
    cr_assert_str_eq(h.msgs[1].content, "fine");
    chat_history_free(&h);
    chat_llm_destroy(llm);
    ts_free(&s);
}
