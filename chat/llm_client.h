/* llm_client.h: a client for OpenAI-compatible Chat Completions servers
 * (POST {base}/chat/completions), over HTTP or HTTPS with libcurl and cJSON.
 *
 * Works with api.openai.com and with local servers that speak the same API:
 * llama.cpp's llama-server (http://127.0.0.1:8080/v1) and Ollama
 * (http://127.0.0.1:11434/v1), which need no key. Replies come whole or
 * streamed (server-sent events, chat/sse.h); either way the text is handed to
 * a callback as it arrives and returned whole at the end.
 *
 * Failure policy -- every failure returns a status and a one-line message and
 * leaves the caller's session intact: the client never frees or keeps the
 * caller's prompt, and chat_llm_turn appends to the history only on success.
 *   429 and 5xx    retried up to max_retries times after a back-off that
 *                  doubles from backoff_initial_ms (no jitter: one
 *                  interactive user cannot cause a thundering herd), or after
 *                  the server's Retry-After / retry-after-ms when that is
 *                  longer; a wait above backoff_max_ms is not made and the
 *                  call fails saying how long the server asked for. A 429
 *                  whose error code is "insufficient_quota" is not retried.
 *   401, 403       not retried; the message says the key is missing or wrong.
 *   other 4xx      not retried; the server's own error message is shown.
 *   DNS failure, connection refused, TLS failure, time-out
 *                  not retried (they are configuration problems or the wait
 *                  was already spent); the message names the URL.
 *   malformed reply (not JSON, no choices, an "error" object in a 200 body or
 *                  in the stream, a stream that ends before "data: [DONE]")
 *                  NN_ERR_FORMAT or NN_ERR_NET with the reason.
 *   cancellation   *cancel set (e.g. by a SIGINT handler) stops the transfer
 *                  or the back-off wait within ~50 ms of a byte or a progress
 *                  tick (libcurl ticks at least once a second) and returns
 *                  NN_ERR_INTERRUPTED; text already streamed stays on screen
 *                  but is not added to the history.
 * Only a reply with nothing yet delivered is ever retried, so streamed text
 * is never repeated.
 *
 * Threading: a chat_llm is used by one thread at a time (the chat loop);
 * callbacks run on that thread, inside the call. libcurl's own signal use is
 * off (CURLOPT_NOSIGNAL), so a capture thread running beside it is safe; as
 * libcurl advises for such programs, the program should ignore SIGPIPE
 * (a TLS write to a connection the server closed can raise it).
 *
 * Typical turn in the chat loop (history only grows on success, so after any
 * error the user can simply send again):
 *     chat_emotion_sum_take(&acc, &s);
 *     chat_template_render(&tpl, mode, &s, line, &prompt, &err);
 *     if (!chat_llm_configured(&cfg)) { show prompt + chat_llm_setup_help(); }
 *     else if (chat_llm_turn(llm, &hist, prompt, 1, print_text, NULL, &st, &err))
 *         show err.msg;          (NN_ERR_INTERRUPTED: the user pressed Ctrl-C)
 *     free(prompt);
 */
#ifndef CHAT_LLM_CLIENT_H
#define CHAT_LLM_CLIENT_H

#include <signal.h>
#include <stddef.h>

#include "chat/history.h"
#include "nn/error.h"

typedef struct {
    const char *base_url;    /* e.g. "https://api.openai.com/v1"; "{base}/chat/completions"
                                is posted to (a base that already ends in
                                /chat/completions is used as is) */
    const char *api_key;     /* NULL or "": no Authorization header */
    const char *model;       /* "model" field; llama-server ignores it, Ollama needs
                                a pulled model's name */
    double temperature;      /* < 0: not sent (server default) */
    long max_tokens;         /* <= 0: not sent */
    long connect_timeout_ms; /* DNS + TCP + TLS; default 10000 */
    long timeout_ms;         /* whole request, reply included; 0 = none; default 600000 */
    long idle_timeout_ms;    /* fail if no byte arrives (or leaves) for this long, the
                                wait for the first one included; 0 = off; default
                                120000 (a local model may think a while before its
                                first token). Checked at least once a second. */
    int max_retries;         /* extra attempts on 429/5xx; default 4 */
    long backoff_initial_ms; /* first wait; doubles each retry; default 1000 */
    long backoff_max_ms;     /* longest single wait, Retry-After included; default 30000 */
    const char *ca_file;     /* PEM CA bundle for self-signed servers; NULL = system */
    volatile sig_atomic_t *cancel; /* nonzero = stop now; may be NULL. The caller
                                      clears it before each call. */
} chat_llm_config;

/* Fills cfg with the defaults above; base_url, api_key and cancel NULL,
 * model "gpt-4o-mini". */
void chat_llm_config_defaults(chat_llm_config *cfg);

/* Fills what the options left NULL from the environment: api_key from
 * OPENAI_API_KEY, base_url from OPENAI_BASE_URL, and base_url
 * "https://api.openai.com/v1" when there is a key but no base. Empty
 * variables count as unset. The strings point into the environment (valid
 * until it changes); chat_llm_create copies them. */
void chat_llm_config_from_env(chat_llm_config *cfg);

/* 1 if a request can be attempted: a base URL is set (after
 * chat_llm_config_from_env that includes "a key is set"); 0 means offline
 * mode: show the prompt and chat_llm_setup_help() instead. */
int chat_llm_configured(const chat_llm_config *cfg);

/* Multi-line text (static) telling the user how to point the program at a
 * server: OPENAI_API_KEY, OPENAI_BASE_URL, --base-url, with the llama-server
 * and Ollama URLs. */
const char *chat_llm_setup_help(void);

typedef struct {
    int attempts;            /* requests sent, retries included */
    int http_status;         /* status of the last response; 0 if none came */
    long waited_ms;          /* time spent in back-off waits */
    double elapsed_s;        /* the whole call */
    double first_text_s;     /* from the last attempt's start to the first reply text;
                                -1 if none */
    size_t reply_bytes;      /* bytes of reply text received */
    long prompt_tokens;      /* from "usage" when the server sends it, else -1 */
    long completion_tokens;
    char finish_reason[32];  /* "stop", "length" (max_tokens reached), ... or "" */
} chat_llm_stats;

/* Receives reply text as it arrives (len bytes, not NUL-terminated; UTF-8
 * characters may be split between calls). Non-streamed replies arrive in one
 * call. Return 0 to go on, nonzero to stop (the call then returns
 * NN_ERR_INTERRUPTED). */
typedef int (*chat_llm_text_fn)(void *user, const char *text, size_t len);

typedef struct chat_llm chat_llm;

/* Checks cfg (base URL set and http:// or https://, model set, sane numbers)
 * and creates a client holding copies of its strings and one libcurl handle,
 * reused so turns share a kept-alive connection. */
nn_status chat_llm_create(chat_llm **out, const chat_llm_config *cfg, nn_error *err);

/* Frees the client; NULL is fine. */
void chat_llm_destroy(chat_llm *llm);

/* The URL requests go to (owned by llm). */
const char *chat_llm_url(const chat_llm *llm);

/* Sends the messages of h followed by user_msg as a user message, with
 * "stream": stream != 0, and waits for the reply. on_text (may be NULL) gets
 * the text as it arrives. On success *reply is the whole reply text
 * (malloc'd, caller frees; may be "" if the model said nothing). On failure
 * *reply is NULL and err explains. h and user_msg are only read. stats (may
 * be NULL) is filled in either case. */
nn_status chat_llm_complete(chat_llm *llm, const chat_history *h, const char *user_msg,
                            int stream, chat_llm_text_fn on_text, void *user, char **reply,
                            chat_llm_stats *stats, nn_error *err);

/* chat_llm_complete, then, on success only, appends (user_msg, reply) to h
 * as one turn. On failure h is exactly as before. */
nn_status chat_llm_turn(chat_llm *llm, chat_history *h, const char *user_msg, int stream,
                        chat_llm_text_fn on_text, void *user, chat_llm_stats *stats,
                        nn_error *err);

/* The reply handling of chat_llm_complete without the network, for tests
 * and fuzzing: interprets one complete HTTP response -- its status, its
 * Content-Type and its body, handed over in pieces of `chunk` bytes (0: in
 * one piece), as libcurl would -- exactly as a request sent with
 * "stream": stream != 0 would. On success *reply is the text (malloc'd,
 * caller frees); otherwise NULL, with the status and message the client
 * would give (messages name the server "(response)"). *retry (may be NULL)
 * is set when chat_llm_complete would try again. stats (may be NULL) is
 * filled as by chat_llm_complete. */
nn_status chat_llm_parse_response(long status, const char *content_type, int stream,
                                  const char *body, size_t len, size_t chunk, char **reply,
                                  chat_llm_stats *stats, int *retry, nn_error *err);

#endif
