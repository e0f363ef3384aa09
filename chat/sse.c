#include "chat/sse.h"

#include <stdlib.h>
#include <string.h>

static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

void chat_sse_init(chat_sse_parser *p, chat_sse_event_fn on_event, void *user)
{
    memset(p, 0, sizeof *p);
    p->on_event = on_event;
    p->user = user;
    p->max_size = CHAT_SSE_MAX_SIZE;
    p->retry_ms = -1;
}

void chat_sse_free(chat_sse_parser *p)
{
    free(p->line.buf);
    free(p->data.buf);
    free(p->type.buf);
    free(p->id.buf);
    p->line = p->data = p->type = p->id = (chat_sse_buf){0};
}

/* Appends n bytes and keeps the buffer NUL-terminated, so callers can hand
 * it out as a C string. */
static nn_status buf_append(chat_sse_buf *b, const char *s, size_t n, size_t max,
                            nn_error *err)
{
    if (b->len + n > max)
        return nn_fail(err, NN_ERR_FORMAT,
                       "server-sent event: line or data longer than %zu bytes", max);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) return nn_fail(err, NN_ERR_NOMEM, "server-sent event: out of memory (%zu bytes)", cap);
        b->buf = nb;
        b->cap = cap;
    }
    if (n) memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return NN_OK;
}

static nn_status buf_set(chat_sse_buf *b, const char *s, size_t n, size_t max, nn_error *err)
{
    b->len = 0;
    return buf_append(b, s, n, max, err);
}

static nn_status dispatch(chat_sse_parser *p, nn_error *err)
{
    if (!p->has_data) {
        /* The standard drops an event with no data, type included. */
        p->type.len = 0;
        return NN_OK;
    }
    size_t n = p->data.len;
    if (n && p->data.buf[n - 1] == '\n') n--; /* each data line added one */
    chat_sse_event ev = {
        .type = p->type.len ? p->type.buf : "message",
        .data = n ? p->data.buf : "",
        .data_len = n,
        .id = p->id.len ? p->id.buf : "",
    };
    if (n) p->data.buf[n] = '\0';
    p->data.len = 0;
    p->type.len = 0;
    p->has_data = 0;
    p->events++;
    return p->on_event ? p->on_event(p->user, &ev, err) : NN_OK;
}

static int field_is(const char *f, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(f, name, n) == 0;
}

/* One complete line, without its terminator, is in p->line. */
static nn_status end_line(chat_sse_parser *p, nn_error *err)
{
    const char *line = p->line.buf;
    size_t n = p->line.len;
    p->line.len = 0;
    if (n == 0) return dispatch(p, err);
    if (line[0] == ':') return NN_OK; /* comment / keep-alive */

    const char *colon = memchr(line, ':', n);
    size_t flen = colon ? (size_t)(colon - line) : n;
    const char *value = colon ? colon + 1 : line + n;
    size_t vlen = n - (size_t)(value - line);
    if (vlen && value[0] == ' ') {
        value++;
        vlen--;
    }

    if (field_is(line, flen, "data")) {
        nn_status st = buf_append(&p->data, value, vlen, p->max_size, err);
        if (!st) st = buf_append(&p->data, "\n", 1, p->max_size, err);
        if (!st) p->has_data = 1;
        return st;
    }
    if (field_is(line, flen, "event")) return buf_set(&p->type, value, vlen, p->max_size, err);
    if (field_is(line, flen, "id")) {
        if (memchr(value, '\0', vlen)) return NN_OK; /* ids with NUL are ignored */
        return buf_set(&p->id, value, vlen, p->max_size, err);
    }
    if (field_is(line, flen, "retry")) {
        long v = 0;
        if (vlen == 0 || vlen > 9) return NN_OK;
        for (size_t i = 0; i < vlen; i++) {
            if (value[i] < '0' || value[i] > '9') return NN_OK;
            v = v * 10 + (value[i] - '0');
        }
        p->retry_ms = v;
    }
    return NN_OK; /* unknown fields are ignored */
}

static nn_status feed_lines(chat_sse_parser *p, const char *s, size_t n, nn_error *err)
{
    size_t i = 0;
    while (i < n) {
        if (p->after_cr) {
            p->after_cr = 0;
            if (s[i] == '\n') {
                i++;
                continue;
            }
        }
        /* Copy the run up to the next line ending in one go. */
        size_t j = i;
        while (j < n && s[j] != '\r' && s[j] != '\n') j++;
        nn_status st = buf_append(&p->line, s + i, j - i, p->max_size, err);
        if (st) return st;
        if (j == n) break;
        p->after_cr = s[j] == '\r';
        i = j + 1;
        st = end_line(p, err);
        if (st) return st;
    }
    return NN_OK;
}

nn_status chat_sse_feed(chat_sse_parser *p, const char *bytes, size_t n, nn_error *err)
{
    const unsigned char *u = (const unsigned char *)bytes;
    size_t i = 0;
    /* A BOM may itself be split across chunks: hold its bytes until it is
     * complete or proven absent. */
    while (p->bom_state < 3 && i < n) {
        if (u[i] == bom[p->bom_state]) {
            p->bom_state++;
            i++;
            continue;
        }
        int held = p->bom_state;
        p->bom_state = 3;
        nn_status st = feed_lines(p, (const char *)bom, (size_t)held, err);
        if (st) return st;
    }
    return feed_lines(p, bytes + i, n - i, err);
}

int chat_sse_finish(chat_sse_parser *p)
{
    int discarded = p->line.len > 0 || p->has_data || p->type.len > 0 ||
                    (p->bom_state > 0 && p->bom_state < 3);
    p->line.len = 0;
    p->data.len = 0;
    p->type.len = 0;
    p->has_data = 0;
    p->after_cr = 0;
    p->bom_state = 0;
    return discarded;
}
