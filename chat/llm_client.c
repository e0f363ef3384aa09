#include "chat/llm_client.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "chat/sse.h"

#define BODY_MAX ((size_t)16 << 20)  /* non-streamed reply or error body */
#define REPLY_MAX ((size_t)16 << 20) /* accumulated reply text */
#define WAIT_SLICE_MS 50             /* back-off sleeps check *cancel this often */

struct chat_llm {
    CURL *curl;
    char *url;
    char *auth_header; /* "Authorization: Bearer ..." or NULL */
    char *model;
    char *ca_file;
    chat_llm_config cfg; /* numbers and cancel; strings point to the copies above */
    char curl_err[CURL_ERROR_SIZE];
};

void chat_llm_config_defaults(chat_llm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->model = "gpt-4o-mini";
    cfg->temperature = -1;
    cfg->max_tokens = 0;
    cfg->connect_timeout_ms = 10000;
    cfg->timeout_ms = 600000;
    cfg->idle_timeout_ms = 120000;
    cfg->max_retries = 4;
    cfg->backoff_initial_ms = 1000;
    cfg->backoff_max_ms = 30000;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void chat_llm_config_from_env(chat_llm_config *cfg)
{
    if (!cfg->api_key || !*cfg->api_key) cfg->api_key = env_nonempty("OPENAI_API_KEY");
    if (!cfg->base_url || !*cfg->base_url) cfg->base_url = env_nonempty("OPENAI_BASE_URL");
    if ((!cfg->base_url || !*cfg->base_url) && cfg->api_key && *cfg->api_key)
        cfg->base_url = "https://api.openai.com/v1";
}

int chat_llm_configured(const chat_llm_config *cfg)
{
    return cfg && cfg->base_url && *cfg->base_url;
}

const char *chat_llm_setup_help(void)
{
    return "No language model is configured, so the prompt was shown, not sent.\n"
           "To chat, point fer-chat at an OpenAI-compatible server:\n"
           "  OpenAI:        export OPENAI_API_KEY=sk-...   (base URL defaults to\n"
           "                 https://api.openai.com/v1; choose a model with --model-name)\n"
           "  llama-server:  llama-server -m model.gguf --port 8080, then\n"
           "                 --base-url http://127.0.0.1:8080/v1   (no key needed)\n"
           "  Ollama:        ollama pull llama3.2, then\n"
           "                 --base-url http://127.0.0.1:11434/v1 --model-name llama3.2\n"
           "The base URL can also come from OPENAI_BASE_URL; --base-url wins over it.\n";
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- small growable buffer ---------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
} buf;

static int buf_add(buf *b, const char *s, size_t n, size_t max)
{
    if (b->len + n > max) return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) return -1;
        b->s = ns;
        b->cap = cap;
    }
    if (n) memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/* Printable excerpt of server text for messages: control characters become
 * spaces, at most max bytes, "..." when cut. */
static void excerpt(char *dst, size_t dstsz, const char *s, size_t n, size_t max)
{
    size_t k = 0, lim = n < max ? n : max;
    while (lim < n && lim > 0 && ((unsigned char)s[lim] & 0xC0) == 0x80)
        lim--; /* do not cut a UTF-8 character in two */
    for (size_t i = 0; i < lim && k + 4 < dstsz; i++)
        dst[k++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    if (n > lim && k + 4 < dstsz) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
}

/* ---- create / destroy ----------------------------------------------------- */

static char *dup_or_null(const char *s, int *oom)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *oom = 1;
    return d;
}

nn_status chat_llm_create(chat_llm **out, const chat_llm_config *cfg, nn_error *err)
{
    if (!out || !cfg) return nn_fail(err, NN_ERR_ARG, "chat_llm_create: NULL argument");
    *out = NULL;
    const char *base = cfg->base_url;
    if (!base || !*base)
        return nn_fail(err, NN_ERR_ARG, "no server configured: set OPENAI_API_KEY or "
                       "OPENAI_BASE_URL, or pass --base-url");
    if (strncasecmp(base, "http://", 7) && strncasecmp(base, "https://", 8))
        return nn_fail(err, NN_ERR_ARG, "base URL '%s' must start with http:// or https://", base);
    if (!cfg->model || !*cfg->model)
        return nn_fail(err, NN_ERR_ARG, "no model name given (--model-name)");
    if (cfg->connect_timeout_ms < 0 || cfg->timeout_ms < 0 || cfg->idle_timeout_ms < 0 ||
        cfg->max_retries < 0 || cfg->max_retries > 100 || cfg->backoff_initial_ms < 0 ||
        cfg->backoff_max_ms < 0)
        return nn_fail(err, NN_ERR_ARG, "LLM client: time-outs, retries and back-off must "
                       "not be negative (max_retries at most 100)");
    for (const char *c = cfg->api_key ? cfg->api_key : ""; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return nn_fail(err, NN_ERR_ARG, "API key contains a control character "
                           "(a stray newline in OPENAI_API_KEY?)");

    chat_llm *llm = calloc(1, sizeof *llm);
    if (!llm) return nn_fail(err, NN_ERR_NOMEM, "LLM client: out of memory");
    llm->cfg = *cfg;

    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/') blen--;
    static const char suffix[] = "/chat/completions";
    int has_suffix = blen >= sizeof suffix - 1 &&
                     strncmp(base + blen - (sizeof suffix - 1), suffix, sizeof suffix - 1) == 0;
    int oom = 0;
    llm->url = malloc(blen + sizeof suffix);
    if (llm->url) snprintf(llm->url, blen + sizeof suffix, "%.*s%s", (int)blen, base,
                           has_suffix ? "" : suffix);
    else oom = 1;
    if (cfg->api_key && *cfg->api_key) {
        size_t n = strlen(cfg->api_key) + sizeof "Authorization: Bearer ";
        llm->auth_header = malloc(n);
        if (llm->auth_header) snprintf(llm->auth_header, n, "Authorization: Bearer %s", cfg->api_key);
        else oom = 1;
    }
    llm->model = dup_or_null(cfg->model, &oom);
    llm->ca_file = dup_or_null(cfg->ca_file, &oom);
    llm->cfg.base_url = llm->url;
    llm->cfg.api_key = NULL; /* only the header keeps it */
    llm->cfg.model = llm->model;
    llm->cfg.ca_file = llm->ca_file;
    if (oom) {
        chat_llm_destroy(llm);
        return nn_fail(err, NN_ERR_NOMEM, "LLM client: out of memory");
    }
    /* Reference-counted and thread-safe in libcurl >= 7.84. */
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc) {
        chat_llm_destroy(llm);
        return nn_fail(err, NN_ERR_NET, "libcurl initialisation failed: %s", curl_easy_strerror(rc));
    }
    llm->curl = curl_easy_init();
    if (!llm->curl) {
        curl_global_cleanup();
        chat_llm_destroy(llm);
        return nn_fail(err, NN_ERR_NOMEM, "libcurl: cannot create a handle");
    }
    *out = llm;
    return NN_OK;
}

void chat_llm_destroy(chat_llm *llm)
{
    if (!llm) return;
    if (llm->curl) {
        curl_easy_cleanup(llm->curl);
        curl_global_cleanup();
    }
    if (llm->auth_header) { /* do not leave the key in freed memory */
        volatile char *p = llm->auth_header;
        while (*p) *p++ = 0;
    }
    free(llm->auth_header);
    free(llm->url);
    free(llm->model);
    free(llm->ca_file);
    free(llm);
}

const char *chat_llm_url(const chat_llm *llm)
{
    return llm->url;
}

/* ---- one attempt ---------------------------------------------------------- */

typedef struct {
    chat_llm *llm;
    int stream;
    /* response headers of the last response seen (a 100 Continue resets) */
    long status;
    char content_type[128];
    long retry_after_ms; /* -1: none given */
    /* body: SSE events when streaming a 200 text/event-stream, else buffered */
    int mode; /* 0 undecided, 1 event stream, 2 buffered */
    buf body;
    chat_sse_parser sse;
    int done; /* "data: [DONE]" seen */
    /* reply */
    buf reply;
    chat_llm_text_fn on_text;
    void *user;
    int stopped_by_caller;
    nn_status cb_status; /* an error found inside a libcurl callback */
    nn_error cb_err;
    chat_llm_stats *stats;
    double t_start;
    /* Our own idle timer: libcurl's low-speed check averages over ~5 s, so
     * it would fire seconds late. */
    double last_activity;
    curl_off_t last_ul;
    int idle_expired;
} attempt;

static int cancelled(const attempt *a)
{
    return a->llm->cfg.cancel && *a->llm->cfg.cancel;
}

static nn_status deliver(attempt *a, const char *s, size_t n, nn_error *err)
{
    if (n == 0) return NN_OK;
    if (a->stats->first_text_s < 0) a->stats->first_text_s = now_s() - a->t_start;
    if (buf_add(&a->reply, s, n, REPLY_MAX))
        return nn_fail(err, a->reply.len + n > REPLY_MAX ? NN_ERR_FORMAT : NN_ERR_NOMEM,
                       "%s: reply longer than %zu bytes or out of memory", a->llm->url, REPLY_MAX);
    a->stats->reply_bytes = a->reply.len;
    if (a->on_text && a->on_text(a->user, s, n)) {
        a->stopped_by_caller = 1;
        return nn_fail(err, NN_ERR_INTERRUPTED, "reply stopped by the caller");
    }
    return NN_OK;
}

static void read_usage(attempt *a, const cJSON *root)
{
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
    /* A count that is negative, absurdly large or not finite (which would
     * not even convert to long) leaves the figure unknown (-1). */
    if (cJSON_IsNumber(p) && p->valuedouble >= 0 && p->valuedouble < 1e15)
        a->stats->prompt_tokens = (long)p->valuedouble;
    if (cJSON_IsNumber(c) && c->valuedouble >= 0 && c->valuedouble < 1e15)
        a->stats->completion_tokens = (long)c->valuedouble;
}

static void read_finish_reason(attempt *a, const cJSON *choice)
{
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    if (cJSON_IsString(fr))
        snprintf(a->stats->finish_reason, sizeof a->stats->finish_reason, "%s", fr->valuestring);
}

/* The server's own words from an error body: {"error":{"message":...}},
 * {"error":"..."} or {"message":...}; NULL if none. */
static const char *error_message(const cJSON *root)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsNull(e) || cJSON_IsFalse(e)) e = NULL; /* "error": null on success */
    if (cJSON_IsString(e)) return e->valuestring;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsString(m)) return m->valuestring;
    m = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (!e && cJSON_IsString(m)) return m->valuestring;
    return e ? "(error object without a message)" : NULL;
}

static nn_status on_sse_event(void *user, const chat_sse_event *ev, nn_error *err)
{
    attempt *a = user;
    if (a->done) return NN_OK; /* nothing after [DONE] counts */
    if (ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0) {
        a->done = 1;
        return NN_OK;
    }
    char ex[120];
    cJSON *root = cJSON_ParseWithLength(ev->data, ev->data_len);
    if (!root) {
        excerpt(ex, sizeof ex, ev->data, ev->data_len, 80);
        return nn_fail(err, NN_ERR_FORMAT, "%s: malformed stream event (not JSON): '%s'",
                       a->llm->url, ex);
    }
    nn_status st = NN_OK;
    const char *emsg = error_message(root);
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (emsg || strcmp(ev->type, "error") == 0) {
        excerpt(ex, sizeof ex, emsg ? emsg : ev->data, strlen(emsg ? emsg : ev->data), 100);
        st = nn_fail(err, NN_ERR_NET, "%s: the server reported an error mid-reply: %s",
                     a->llm->url, ex);
    } else if (!cJSON_IsArray(choices)) {
        excerpt(ex, sizeof ex, ev->data, ev->data_len, 80);
        st = nn_fail(err, NN_ERR_FORMAT, "%s: malformed stream event (no \"choices\"): '%s'",
                     a->llm->url, ex);
    } else {
        read_usage(a, root);
        const cJSON *c0 = cJSON_GetArrayItem(choices, 0); /* none in a usage-only chunk */
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(c0, "delta");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
        if (c0) read_finish_reason(a, c0);
        if (cJSON_IsString(content))
            st = deliver(a, content->valuestring, strlen(content->valuestring), err);
    }
    cJSON_Delete(root);
    return st;
}

/* What the body of the response whose headers just ended is: an event
 * stream (a 200 text/event-stream to a streamed request) or a buffered body
 * (anything else: a JSON reply, an error page). */
static void choose_mode(attempt *a)
{
    a->mode = a->stream && a->status == 200 &&
              strncasecmp(a->content_type, "text/event-stream", 17) == 0 ? 1 : 2;
}

/* Takes n more body bytes; nonzero (a->cb_status set) stops the transfer. */
static int take_body(attempt *a, const char *data, size_t n)
{
    if (a->mode == 1) {
        a->cb_status = chat_sse_feed(&a->sse, data, n, &a->cb_err);
        return a->cb_status != NN_OK;
    }
    if (buf_add(&a->body, data, n, BODY_MAX)) {
        a->cb_status = nn_fail(&a->cb_err, NN_ERR_FORMAT,
                               "%s: reply body larger than %zu bytes or out of memory",
                               a->llm->url, BODY_MAX);
        return 1;
    }
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    attempt *a = user;
    size_t n = size * nmemb;
    a->last_activity = now_s();
    if (cancelled(a)) return 0;
    if (a->mode == 0) {
        long status = 0;
        curl_easy_getinfo(a->llm->curl, CURLINFO_RESPONSE_CODE, &status);
        a->status = status;
        choose_mode(a);
    }
    return take_body(a, data, n) ? 0 : n;
}

static int header_is(const char *line, size_t n, const char *name, const char **value,
                     size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) || line[k] != ':') return 0;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *user)
{
    attempt *a = user;
    size_t n = size * nmemb;
    a->last_activity = now_s();
    const char *v;
    size_t vlen;
    char tmp[128];
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response begins */
        a->content_type[0] = '\0';
        a->retry_after_ms = -1;
        const char *sp = memchr(line, ' ', n);
        if (sp) a->status = strtol(sp + 1, NULL, 10);
    } else if (header_is(line, n, "content-type", &v, &vlen)) {
        snprintf(a->content_type, sizeof a->content_type, "%.*s", (int)vlen, v);
    } else if (header_is(line, n, "retry-after-ms", &v, &vlen) && vlen && vlen < 16) {
        snprintf(tmp, sizeof tmp, "%.*s", (int)vlen, v);
        char *end;
        double ms = strtod(tmp, &end);
        if (*end == '\0' && ms >= 0) a->retry_after_ms = (long)(ms + 0.5);
    } else if (header_is(line, n, "retry-after", &v, &vlen) && vlen && vlen < sizeof tmp) {
        /* retry-after-ms, when present, is more precise: keep it */
        snprintf(tmp, sizeof tmp, "%.*s", (int)vlen, v);
        char *end;
        long secs = strtol(tmp, &end, 10);
        if (*end == '\0' && secs >= 0) {
            if (a->retry_after_ms < 0) a->retry_after_ms = secs * 1000;
        } else {
            time_t when = curl_getdate(tmp, NULL); /* HTTP-date form */
            time_t now = time(NULL);
            if (when != (time_t)-1 && a->retry_after_ms < 0)
                a->retry_after_ms = when > now ? (long)(when - now) * 1000 : 0;
        }
    }
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    attempt *a = user;
    if (cancelled(a)) return 1;
    double now = now_s();
    if (ulnow != a->last_ul) { /* a long request body still going out */
        a->last_ul = ulnow;
        a->last_activity = now;
    }
    long idle = a->llm->cfg.idle_timeout_ms;
    if (idle > 0 && (now - a->last_activity) * 1000 > idle) {
        a->idle_expired = 1;
        return 1;
    }
    return 0;
}

/* Parses a buffered (non-streamed) 200 reply. */
static nn_status parse_full_reply(attempt *a, nn_error *err)
{
    char ex[120];
    cJSON *root = cJSON_ParseWithLength(a->body.s ? a->body.s : "", a->body.len);
    if (!root) {
        excerpt(ex, sizeof ex, a->body.s ? a->body.s : "", a->body.len, 80);
        return nn_fail(err, NN_ERR_FORMAT, "%s: malformed reply (HTTP 200, %s): '%s'",
                       a->llm->url, a->body.len ? "not JSON" : "empty body", ex);
    }
    nn_status st = NN_OK;
    const char *emsg = error_message(root);
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    const cJSON *c0 = cJSON_GetArrayItem(choices, 0);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(c0, "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (emsg) {
        excerpt(ex, sizeof ex, emsg, strlen(emsg), 100);
        st = nn_fail(err, NN_ERR_NET, "%s: the server reported an error: %s", a->llm->url, ex);
    } else if (!cJSON_IsArray(choices) || !c0) {
        excerpt(ex, sizeof ex, a->body.s, a->body.len, 80);
        st = nn_fail(err, NN_ERR_FORMAT, "%s: malformed reply (no choices): '%s'", a->llm->url, ex);
    } else if (!cJSON_IsString(content)) {
        const cJSON *refusal = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
        if (cJSON_IsString(refusal)) {
            excerpt(ex, sizeof ex, refusal->valuestring, strlen(refusal->valuestring), 100);
            st = nn_fail(err, NN_ERR_NET, "%s: the model refused: %s", a->llm->url, ex);
        } else {
            st = nn_fail(err, NN_ERR_FORMAT,
                         "%s: malformed reply (choices[0].message.content missing)", a->llm->url);
        }
    } else {
        read_usage(a, root);
        read_finish_reason(a, c0);
        st = deliver(a, content->valuestring, strlen(content->valuestring), err);
    }
    cJSON_Delete(root);
    return st;
}

/* Message for a non-200 reply; sets *retry if the status is worth retrying. */
static nn_status http_error(attempt *a, int *retry, nn_error *err)
{
    const char *url = a->llm->url;
    long s = a->status;
    char ex[200];
    cJSON *root = a->body.len ? cJSON_ParseWithLength(a->body.s, a->body.len) : NULL;
    const char *emsg = root ? error_message(root) : NULL;
    if (emsg) excerpt(ex, sizeof ex, emsg, strlen(emsg), 160);
    else if (a->body.len) excerpt(ex, sizeof ex, a->body.s, a->body.len, 120);
    else snprintf(ex, sizeof ex, "(empty body)");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    int no_quota = cJSON_IsString(code) && strcmp(code->valuestring, "insufficient_quota") == 0;
    *retry = 0;
    nn_status st;
    if (s == 401 || s == 403)
        st = nn_fail(err, NN_ERR_NET,
                     "HTTP %ld from %s: %s: %s", s, url,
                     !a->llm->auth_header ? "no API key was sent; set OPENAI_API_KEY"
                     : s == 401 ? "the API key was refused (check OPENAI_API_KEY)"
                                : "the API key is not allowed to do this (check the key and "
                                  "the model)",
                     ex);
    else if (s == 429 && no_quota)
        st = nn_fail(err, NN_ERR_NET, "HTTP 429 from %s: the account has no quota left: %s",
                     url, ex);
    else if (s == 429 || (s >= 500 && s <= 599)) {
        *retry = 1;
        st = nn_fail(err, NN_ERR_NET, "HTTP %ld from %s (%s): %s", s, url,
                     s == 429 ? "rate limited" : "server error", ex);
    } else if (s == 404)
        st = nn_fail(err, NN_ERR_NET, "HTTP 404 from %s: check the base URL (it usually ends "
                     "in /v1) and the model name '%s': %s", url, a->llm->model, ex);
    else if (s >= 300 && s < 400)
        st = nn_fail(err, NN_ERR_NET, "HTTP %ld from %s: the server redirects; give the final "
                     "URL as the base URL", s, url);
    else
        st = nn_fail(err, NN_ERR_NET, "HTTP %ld from %s: %s", s, url, ex);
    cJSON_Delete(root);
    return st;
}

/* Message for a transport failure (no HTTP status to go by). */
static nn_status transport_error(attempt *a, CURLcode rc, nn_error *err)
{
    const char *url = a->llm->url;
    const char *detail = a->llm->curl_err[0] ? a->llm->curl_err : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return nn_fail(err, NN_ERR_NET, "%s: cannot resolve the host name (%s); check the base "
                       "URL and the network", url, detail);
    case CURLE_COULDNT_CONNECT:
        return nn_fail(err, NN_ERR_NET, "%s: cannot connect (%s); is the server running? check "
                       "--base-url / OPENAI_BASE_URL", url, detail);
    case CURLE_OPERATION_TIMEDOUT:
        return nn_fail(err, NN_ERR_NET, "%s: timed out (%s)", url, detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return nn_fail(err, NN_ERR_NET, "%s: TLS failure (%s)", url, detail);
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
        return nn_fail(err, NN_ERR_NET, "%s: connection lost %s (%s)", url,
                       a->reply.len ? "in the middle of the reply" : "before a complete reply",
                       detail);
    default:
        return nn_fail(err, NN_ERR_NET, "%s: request failed: %s", url, detail);
    }
}

static void set_options(chat_llm *llm, attempt *a, const char *body, size_t body_len,
                        struct curl_slist *headers)
{
    CURL *c = llm->curl;
    const chat_llm_config *cfg = &llm->cfg;
    curl_easy_reset(c); /* keeps live connections, drops last call's options */
    llm->curl_err[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, llm->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "fer-chat (libcurl)");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, llm->curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, a);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    if (llm->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, llm->ca_file);
}

static char *request_body(chat_llm *llm, const chat_history *h, const char *user_msg,
                          int stream, nn_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *msgs = chat_history_to_json(h, user_msg, err);
    char *out = NULL;
    if (!root || !msgs) goto fail;
    if (!cJSON_AddStringToObject(root, "model", llm->model)) goto fail;
    if (!cJSON_AddItemToObject(root, "messages", msgs)) goto fail;
    msgs = NULL; /* owned by root now */
    if (!cJSON_AddBoolToObject(root, "stream", stream != 0)) goto fail;
    if (llm->cfg.temperature >= 0 &&
        !cJSON_AddNumberToObject(root, "temperature", llm->cfg.temperature))
        goto fail;
    if (llm->cfg.max_tokens > 0 &&
        !cJSON_AddNumberToObject(root, "max_tokens", (double)llm->cfg.max_tokens))
        goto fail;
    out = cJSON_PrintUnformatted(root);
    if (!out) goto fail;
    cJSON_Delete(root);
    return out;
fail:
    cJSON_Delete(root);
    cJSON_Delete(msgs);
    nn_fail(err, NN_ERR_NOMEM, "LLM client: out of memory building the request");
    return NULL;
}

/* Sleeps ms, waking every WAIT_SLICE_MS to check *cancel. Returns 1 if
 * cancelled. */
static int wait_ms(const chat_llm *llm, long ms)
{
    while (ms > 0) {
        if (llm->cfg.cancel && *llm->cfg.cancel) return 1;
        long slice = ms < WAIT_SLICE_MS ? ms : WAIT_SLICE_MS;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) && errno == EINTR) {
            if (llm->cfg.cancel && *llm->cfg.cancel) return 1;
        }
        ms -= slice;
    }
    return llm->cfg.cancel && *llm->cfg.cancel;
}

/* The outcome of an attempt whose transfer has ended with rc: what the
 * callbacks saw, the HTTP status and the body decide it. */
static nn_status conclude(attempt *a, CURLcode rc, int *retry, nn_error *err)
{
    chat_llm *llm = a->llm;
    if (cancelled(a) || a->stopped_by_caller)
        return nn_fail(err, NN_ERR_INTERRUPTED, "reply interrupted after %zu bytes%s",
                       a->reply.len, a->stopped_by_caller ? " (stopped by the caller)" : "");
    if (a->cb_status) {
        *err = a->cb_err;
        return a->cb_status;
    }
    if (a->idle_expired)
        return nn_fail(err, NN_ERR_NET, "%s: timed out: nothing received for %.1f s%s", llm->url,
                       llm->cfg.idle_timeout_ms / 1000.0,
                       a->reply.len ? " in the middle of the reply" : "");
    /* A connection that breaks after "data: [DONE]" lost nothing. */
    if (rc != CURLE_OK && !(a->mode == 1 && a->done)) return transport_error(a, rc, err);
    if (a->status != 200) return http_error(a, retry, err);
    if (a->mode == 1) {
        int cut = chat_sse_finish(&a->sse);
        if (!a->done)
            return nn_fail(err, NN_ERR_NET, "%s: the stream ended before \"data: [DONE]\"%s; "
                           "the reply is incomplete (%zu bytes)", llm->url,
                           cut ? " in the middle of an event" : "", a->reply.len);
        return NN_OK;
    }
    /* A 200 JSON body: a non-streamed reply, or a server that ignored
     * "stream": true -- both are handled the same way. */
    return parse_full_reply(a, err);
}

/* One request. *retry says whether a failure is worth another attempt. */
static nn_status run_attempt(attempt *a, const char *body, size_t body_len,
                             struct curl_slist *headers, int *retry, nn_error *err)
{
    chat_llm *llm = a->llm;
    *retry = 0;
    a->t_start = a->last_activity = now_s();
    chat_sse_init(&a->sse, on_sse_event, a);
    set_options(llm, a, body, body_len, headers);
    CURLcode rc = curl_easy_perform(llm->curl);
    long status = 0;
    curl_easy_getinfo(llm->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status) a->status = status;
    a->stats->http_status = (int)a->status;
    return conclude(a, rc, retry, err);
}

nn_status chat_llm_complete(chat_llm *llm, const chat_history *h, const char *user_msg,
                            int stream, chat_llm_text_fn on_text, void *user, char **reply,
                            chat_llm_stats *stats, nn_error *err)
{
    chat_llm_stats local_stats;
    if (!stats) stats = &local_stats;
    memset(stats, 0, sizeof *stats);
    stats->first_text_s = -1;
    stats->prompt_tokens = stats->completion_tokens = -1;
    if (reply) *reply = NULL;
    if (!llm || !h || !user_msg || !reply)
        return nn_fail(err, NN_ERR_ARG, "chat_llm_complete: NULL argument");

    double t0 = now_s();
    char *body = request_body(llm, h, user_msg, stream, err);
    if (!body) return NN_ERR_NOMEM;
    struct curl_slist *headers = NULL, *t;
    const char *hdr[] = {
        "Content-Type: application/json",
        stream ? "Accept: text/event-stream" : "Accept: application/json",
        "Expect:", /* no 100-continue round trip for long histories */
        llm->auth_header,
    };
    for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++) {
        if (!hdr[i]) continue;
        if (!(t = curl_slist_append(headers, hdr[i]))) {
            curl_slist_free_all(headers);
            free(body);
            return nn_fail(err, NN_ERR_NOMEM, "LLM client: out of memory");
        }
        headers = t;
    }

    nn_status st = NN_OK;
    for (int attempt_no = 0;; attempt_no++) {
        attempt a = {.llm = llm, .stream = stream, .retry_after_ms = -1, .on_text = on_text,
                     .user = user, .stats = stats};
        int retry = 0;
        stats->attempts = attempt_no + 1;
        stats->first_text_s = -1;
        st = run_attempt(&a, body, strlen(body), headers, &retry, err);
        chat_sse_free(&a.sse);
        free(a.body.s);
        if (st == NN_OK) {
            if (!a.reply.s && buf_add(&a.reply, "", 0, REPLY_MAX)) {
                st = nn_fail(err, NN_ERR_NOMEM, "LLM client: out of memory");
            } else {
                *reply = a.reply.s;
                a.reply.s = NULL;
            }
        }
        free(a.reply.s);
        if (st == NN_OK || !retry) break;
        if (attempt_no >= llm->cfg.max_retries) {
            nn_error_prefix(err, "giving up after %d attempt%s", attempt_no + 1, attempt_no ? "s" : "");
            break;
        }
        long backoff = llm->cfg.backoff_initial_ms;
        for (int i = 0; i < attempt_no && backoff < llm->cfg.backoff_max_ms; i++) backoff *= 2;
        if (backoff > llm->cfg.backoff_max_ms) backoff = llm->cfg.backoff_max_ms;
        if (a.retry_after_ms > llm->cfg.backoff_max_ms) {
            nn_error_prefix(err, "the server asks to wait %.1f s before retrying, more than the "
                            "%.1f s limit", a.retry_after_ms / 1000.0,
                            llm->cfg.backoff_max_ms / 1000.0);
            break;
        }
        if (a.retry_after_ms > backoff) backoff = a.retry_after_ms;
        double w0 = now_s();
        int stop = wait_ms(llm, backoff);
        stats->waited_ms += (long)((now_s() - w0) * 1000 + 0.5);
        if (stop) {
            st = nn_fail(err, NN_ERR_INTERRUPTED, "interrupted while waiting to retry "
                         "(attempt %d)", attempt_no + 1);
            break;
        }
    }
    curl_slist_free_all(headers);
    free(body);
    stats->elapsed_s = now_s() - t0;
    return st;
}

nn_status chat_llm_turn(chat_llm *llm, chat_history *h, const char *user_msg, int stream,
                        chat_llm_text_fn on_text, void *user, chat_llm_stats *stats,
                        nn_error *err)
{
    char *reply = NULL;
    nn_status st = chat_llm_complete(llm, h, user_msg, stream, on_text, user, &reply, stats, err);
    if (st) return st;
    st = chat_history_append_turn(h, user_msg, reply, err);
    free(reply);
    return st;
}

nn_status chat_llm_parse_response(long status, const char *content_type, int stream,
                                  const char *body, size_t len, size_t chunk, char **reply,
                                  chat_llm_stats *stats, int *retry, nn_error *err)
{
    chat_llm_stats local_stats;
    int local_retry;
    if (!stats) stats = &local_stats;
    if (!retry) retry = &local_retry;
    memset(stats, 0, sizeof *stats);
    stats->first_text_s = -1;
    stats->prompt_tokens = stats->completion_tokens = -1;
    stats->attempts = 1;
    stats->http_status = (int)status;
    *retry = 0;
    if (reply) *reply = NULL;
    if (!reply || (!body && len))
        return nn_fail(err, NN_ERR_ARG, "chat_llm_parse_response: NULL argument");
    /* A client that never connects: only the names used in messages. */
    chat_llm llm = {.url = "(response)", .model = "(model)"};
    attempt a = {.llm = &llm, .stream = stream, .status = status, .retry_after_ms = -1,
                 .stats = stats};
    snprintf(a.content_type, sizeof a.content_type, "%s", content_type ? content_type : "");
    a.t_start = a.last_activity = now_s();
    chat_sse_init(&a.sse, on_sse_event, &a);
    choose_mode(&a);
    if (!chunk) chunk = len ? len : 1;
    for (size_t i = 0; i < len;) {
        size_t n = len - i < chunk ? len - i : chunk;
        if (take_body(&a, body + i, n)) break;
        i += n;
    }
    nn_status st = conclude(&a, CURLE_OK, retry, err);
    chat_sse_free(&a.sse);
    free(a.body.s);
    if (st == NN_OK && !a.reply.s && buf_add(&a.reply, "", 0, REPLY_MAX))
        st = nn_fail(err, NN_ERR_NOMEM, "LLM client: out of memory");
    if (st == NN_OK) {
        *reply = a.reply.s;
        a.reply.s = NULL;
    }
    free(a.reply.s);
    return st;
}
