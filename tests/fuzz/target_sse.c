/* Server-sent events (chat/sse.c). The same bytes are parsed whole and then
 * in chunks whose sizes come from the data itself; the header promises the
 * same events either way, so both event lists are recorded and compared. */
#include <stdlib.h>
#include <string.h>

#include "chat/sse.h"
#include "tests/fuzz/targets.h"

typedef struct {
    char *log; /* type \0 data \0 id \0, per event */
    size_t len, cap;
    int bad;
} recorder;

static void rec_add(recorder *r, const char *s, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        while (cap < r->len + n + 1) cap *= 2;
        char *p = realloc(r->log, cap);
        if (!p) {
            r->bad = 1;
            return;
        }
        r->log = p;
        r->cap = cap;
    }
    memcpy(r->log + r->len, s, n);
    r->log[r->len + n] = '\0';
    r->len += n + 1;
}

static nn_status on_event(void *user, const chat_sse_event *ev, nn_error *err)
{
    recorder *r = user;
    if (!ev->type || !ev->data || !ev->id || ev->data[ev->data_len] != '\0')
        r->bad = 2;
    rec_add(r, ev->type, strlen(ev->type));
    rec_add(r, ev->data, ev->data_len);
    rec_add(r, ev->id, strlen(ev->id));
    /* The parser must stop when a callback says so. */
    if (ev->data_len == 4 && memcmp(ev->data, "STOP", 4) == 0)
        return nn_fail(err, NN_ERR_INTERRUPTED, "stopped by the callback");
    return NN_OK;
}

static nn_status run(const uint8_t *data, size_t n, size_t max, int chunked, recorder *r,
                     int *cut, long *retry)
{
    chat_sse_parser p;
    chat_sse_init(&p, on_event, r);
    p.max_size = max;
    nn_error err = {0};
    nn_status st = NN_OK;
    size_t i = 0, k = 0;
    while (i < n && st == NN_OK) {
        size_t step = chunked ? 1 + (size_t)(data[k++ % n] % 7) : n - i;
        if (step > n - i) step = n - i;
        st = chat_sse_feed(&p, (const char *)data + i, step, &err);
        i += step;
    }
    if (st != NN_OK && (err.code != st || !err.msg[0])) r->bad = 3;
    *cut = st == NN_OK ? chat_sse_finish(&p) : -1;
    *retry = p.retry_ms;
    chat_sse_free(&p);
    return st;
}

int fer_fuzz_sse(const uint8_t *data, size_t n)
{
    /* A small size limit (from the first byte) makes the too-long path
     * reachable with small inputs. */
    size_t max = n && data[0] < 16 ? (size_t)16 + data[0] : CHAT_SSE_MAX_SIZE;
    recorder a = {0}, b = {0};
    int cut_a, cut_b;
    long retry_a, retry_b;
    nn_status sa = run(data, n, max, 0, &a, &cut_a, &retry_a);
    nn_status sb = run(data, n, max, 1, &b, &cut_b, &retry_b);
    int rc = 0;
    if (a.bad || b.bad)
        rc = fer_fuzz_violation("sse", "bad event or message (%d, %d)", a.bad, b.bad);
    else if (sa == NN_OK && sb == NN_OK &&
             (a.len != b.len || (a.len && memcmp(a.log, b.log, a.len)) || cut_a != cut_b ||
              retry_a != retry_b))
        rc = fer_fuzz_violation("sse", "chunked parse differs from whole parse");
    else if ((sa == NN_ERR_INTERRUPTED) != (sb == NN_ERR_INTERRUPTED))
        rc = fer_fuzz_violation("sse", "callback stop seen in one parse only");
    free(a.log);
    free(b.log);
    return rc;
}
