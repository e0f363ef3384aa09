/* sse.h: incremental parser for server-sent events (text/event-stream), the
 * framing of streamed Chat Completions replies.
 *
 * Follows the WHATWG HTML "event stream interpretation" rules: lines end in
 * CRLF, LF or CR; a leading UTF-8 BOM is skipped; lines starting with ':' are
 * comments (servers send them as keep-alives); "field: value" loses one space
 * after the colon; several data lines join with '\n'; an empty line
 * dispatches the event, but only if it had at least one data line; unknown
 * fields are ignored. Bytes may arrive in chunks split anywhere -- inside a
 * field name, between the CR and LF of one line ending, inside a multi-byte
 * character -- and the events are the same as if the stream came whole.
 * At end of stream an event with no closing empty line is discarded, as the
 * standard says; chat_sse_finish reports whether that happened.
 *
 * Ownership: the parser owns its buffers (chat_sse_free releases them). The
 * event passed to the callback points into those buffers and is valid only
 * during the call. Not thread-safe: one parser per stream.
 */
#ifndef CHAT_SSE_H
#define CHAT_SSE_H

#include <stddef.h>

#include "nn/error.h"

/* One dispatched event. data is NUL-terminated (data_len excludes the NUL)
 * and may itself contain '\n' from multi-line data. */
typedef struct {
    const char *type;   /* the "event:" field, "message" if none was given */
    const char *data;
    size_t data_len;
    const char *id;     /* last "id:" seen on the stream, "" if none */
} chat_sse_event;

/* Called once per event. Return NN_OK to go on; any other status stops
 * chat_sse_feed, which returns that status (fill err with the reason). */
typedef nn_status (*chat_sse_event_fn)(void *user, const chat_sse_event *ev, nn_error *err);

typedef struct {
    char *buf;
    size_t len, cap;
} chat_sse_buf;

typedef struct {
    chat_sse_event_fn on_event;
    void *user;
    size_t max_size;        /* longest line or event data accepted */
    chat_sse_buf line;      /* current, unterminated line */
    chat_sse_buf data;      /* data lines of the current event, each + '\n' */
    chat_sse_buf type;      /* current event type, "" = "message" */
    chat_sse_buf id;        /* last event id */
    long retry_ms;          /* last valid "retry:" value, -1 if none */
    int has_data;           /* a data line was seen in the current event */
    int after_cr;           /* last byte fed was CR: a following LF is its pair */
    int bom_state;          /* bytes of the leading BOM matched; 3 = past it */
    unsigned long long events; /* events dispatched so far */
} chat_sse_parser;

/* Default chat_sse_parser.max_size: 8 MiB, far above any chat chunk, small
 * enough that a broken server cannot exhaust memory. */
#define CHAT_SSE_MAX_SIZE ((size_t)8 << 20)

/* Prepares an empty parser that calls on_event(user, ...) per event. Never
 * fails; allocates lazily. */
void chat_sse_init(chat_sse_parser *p, chat_sse_event_fn on_event, void *user);

/* Parses n more bytes. Returns NN_OK, the callback's status if it stopped the
 * parse, NN_ERR_FORMAT if a line or event exceeds max_size, or NN_ERR_NOMEM.
 * After a non-OK return the parser must only be freed. */
nn_status chat_sse_feed(chat_sse_parser *p, const char *bytes, size_t n, nn_error *err);

/* Ends the stream: returns 1 if a partial line or an event without its
 * closing empty line was discarded, 0 if the stream ended cleanly. The line
 * and event state is then cleared, so the parser can take a new stream; the
 * events count, last id and retry are kept. */
int chat_sse_finish(chat_sse_parser *p);

/* Releases the buffers; p may be init'ed again. */
void chat_sse_free(chat_sse_parser *p);

#endif
