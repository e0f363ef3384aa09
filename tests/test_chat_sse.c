/* Server-sent events parser: every feature of the event-stream format, fed
 * whole, byte by byte, split at every single point and at every pair of
 * points, must give the same events. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/sse.h"

#define MAX_EV 32

typedef struct {
    int n;
    char type[MAX_EV][32];
    char id[MAX_EV][32];
    char data[MAX_EV][256];
    size_t len[MAX_EV];
    int stop_at; /* return an error on this event number (1-based), 0 = never */
} log_t;

static nn_status record(void *user, const chat_sse_event *ev, nn_error *err)
{
    log_t *l = user;
    cr_assert_lt(l->n, MAX_EV);
    cr_assert_eq(ev->data[ev->data_len], '\0', "data must be NUL-terminated");
    snprintf(l->type[l->n], sizeof l->type[0], "%s", ev->type);
    snprintf(l->id[l->n], sizeof l->id[0], "%s", ev->id);
    cr_assert_lt(ev->data_len, sizeof l->data[0]);
    memcpy(l->data[l->n], ev->data, ev->data_len + 1);
    l->len[l->n] = ev->data_len;
    l->n++;
    if (l->stop_at && l->n == l->stop_at) return nn_fail(err, NN_ERR_FORMAT, "stop requested");
    return NN_OK;
}

/* BOM, every line ending, comments, multi-line data, event names, ids,
 * retry, a field without a colon, no space after the colon, a data-less
 * event (dropped), unknown fields, and an empty data line. */
static const char stream[] =
    "\xEF\xBB\xBF"
    ": keep-alive comment\r\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n"
    "\r\n"
    "data:no-space\n"
    "data:  two-spaces\n"
    "\n"
    "event: update\r"
    "id: 42\r"
    "data: first line\r"
    "data: second line\r\n"
    "data\r\n"
    "\r"
    "event: ignored-no-data\n"
    "retry: 1500\n"
    "\n"
    "unknown: field\n"
    ":comment: with colon\n"
    "data: caf\xC3\xA9 \xE2\x9C\x93\n"
    "\n"
    "data:\n"
    "\n"
    "data: [DONE]\n"
    "\n";

static void check_events(const log_t *l, const chat_sse_parser *p)
{
    cr_assert_eq(l->n, 6, "events: %d", l->n);
    cr_assert_str_eq(l->data[0], "{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}");
    cr_assert_str_eq(l->type[0], "message");
    cr_assert_str_eq(l->id[0], "");
    cr_assert_str_eq(l->data[1], "no-space\n two-spaces");
    cr_assert_str_eq(l->type[2], "update");
    cr_assert_str_eq(l->id[2], "42");
    cr_assert_str_eq(l->data[2], "first line\nsecond line\n");
    cr_assert_eq(l->len[2], strlen("first line\nsecond line\n"));
    cr_assert_str_eq(l->type[3], "message", "the type must reset after each event");
    cr_assert_str_eq(l->id[3], "42", "the last id persists");
    cr_assert_str_eq(l->data[3], "caf\xC3\xA9 \xE2\x9C\x93");
    cr_assert_str_eq(l->data[4], "");
    cr_assert_eq(l->len[4], 0);
    cr_assert_str_eq(l->data[5], "[DONE]");
    cr_assert_eq(p->retry_ms, 1500);
}

/* Feeds stream split at the given cut points (sorted, may repeat). */
static void parse_split(const size_t *cuts, int ncuts, log_t *l, chat_sse_parser *p)
{
    memset(l, 0, sizeof *l);
    chat_sse_init(p, record, l);
    size_t n = sizeof stream - 1, at = 0;
    nn_error err;
    for (int i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        cr_assert_eq(chat_sse_feed(p, stream + at, end - at, &err), NN_OK, "%s", err.msg);
        at = end;
    }
    cr_assert_eq(chat_sse_finish(p), 0, "clean stream reported as cut");
}

Test(chat_sse, whole_stream)
{
    log_t l;
    chat_sse_parser p;
    parse_split(NULL, 0, &l, &p);
    check_events(&l, &p);
    chat_sse_free(&p);
}

Test(chat_sse, every_single_split_point)
{
    size_t n = sizeof stream - 1;
    for (size_t i = 0; i <= n; i++) {
        log_t l;
        chat_sse_parser p;
        parse_split(&i, 1, &l, &p);
        check_events(&l, &p);
        chat_sse_free(&p);
    }
}

Test(chat_sse, every_pair_of_split_points)
{
    size_t n = sizeof stream - 1;
    for (size_t i = 0; i <= n; i++)
        for (size_t j = i; j <= n; j++) {
            size_t cuts[2] = {i, j};
            log_t l;
            chat_sse_parser p;
            parse_split(cuts, 2, &l, &p);
            check_events(&l, &p);
            chat_sse_free(&p);
        }
}

Test(chat_sse, byte_by_byte)
{
    size_t n = sizeof stream - 1;
    size_t *cuts = malloc(n * sizeof *cuts);
    cr_assert(cuts);
    for (size_t i = 0; i < n; i++) cuts[i] = i + 1;
    log_t l;
    chat_sse_parser p;
    parse_split(cuts, (int)n - 1, &l, &p);
    check_events(&l, &p);
    chat_sse_free(&p);
    free(cuts);
}

Test(chat_sse, cr_lf_split_is_one_line_end)
{
    /* "\r" ends a chunk and "\n" starts the next: one line end, not two
     * (two would dispatch an extra empty line, i.e. an event too early). */
    log_t l = {0};
    chat_sse_parser p;
    chat_sse_init(&p, record, &l);
    nn_error err;
    cr_assert_eq(chat_sse_feed(&p, "data: a\r", 8, &err), NN_OK);
    cr_assert_eq(chat_sse_feed(&p, "\ndata: b\r", 9, &err), NN_OK);
    cr_assert_eq(chat_sse_feed(&p, "\n\r", 2, &err), NN_OK);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.data[0], "a\nb");
    cr_assert_eq(chat_sse_feed(&p, "\n", 1, &err), NN_OK);
    cr_assert_eq(l.n, 1, "the LF after a CR must not end another line");
    cr_assert_eq(chat_sse_finish(&p), 0);
    chat_sse_free(&p);
}

Test(chat_sse, bom_only_at_start_and_partial_bom_is_data)
{
    log_t l = {0};
    chat_sse_parser p;
    chat_sse_init(&p, record, &l);
    nn_error err;
    /* EF BB then 'd': not a BOM, so the two bytes belong to the field name,
     * which is then unknown, and the line is ignored. */
    cr_assert_eq(chat_sse_feed(&p, "\xEF\xBB", 2, &err), NN_OK);
    cr_assert_eq(chat_sse_feed(&p, "data: x\n\ndata: y\n\n", 18, &err), NN_OK);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.data[0], "y");
    chat_sse_free(&p);
}

Test(chat_sse, unterminated_event_is_discarded_and_reported)
{
    log_t l = {0};
    chat_sse_parser p;
    chat_sse_init(&p, record, &l);
    nn_error err;
    const char s[] = "data: one\n\ndata: two\n";
    cr_assert_eq(chat_sse_feed(&p, s, sizeof s - 1, &err), NN_OK);
    cr_assert_eq(l.n, 1);
    cr_assert_eq(chat_sse_finish(&p), 1, "the cut event must be reported");
    cr_assert_eq(l.n, 1, "and not dispatched");
    /* A partial line alone is also a cut stream. */
    cr_assert_eq(chat_sse_feed(&p, "data: thr", 9, &err), NN_OK);
    cr_assert_eq(chat_sse_finish(&p), 1);
    /* After finish the parser takes a fresh stream. */
    cr_assert_eq(chat_sse_feed(&p, "data: four\n\n", 12, &err), NN_OK);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.data[1], "four");
    cr_assert_eq(chat_sse_finish(&p), 0);
    chat_sse_free(&p);
}

Test(chat_sse, oversized_line_is_an_error)
{
    log_t l = {0};
    chat_sse_parser p;
    chat_sse_init(&p, record, &l);
    p.max_size = 64;
    char big[200];
    memset(big, 'x', sizeof big);
    memcpy(big, "data: ", 6);
    nn_error err;
    nn_status st = NN_OK;
    for (size_t i = 0; i < sizeof big && st == NN_OK; i += 10)
        st = chat_sse_feed(&p, big + i, 10, &err);
    cr_assert_eq(st, NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "longer than 64"), "%s", err.msg);
    chat_sse_free(&p);
}

Test(chat_sse, callback_error_stops_the_parse)
{
    log_t l = {0};
    l.stop_at = 2;
    chat_sse_parser p;
    chat_sse_init(&p, record, &l);
    nn_error err;
    const char s[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    cr_assert_eq(chat_sse_feed(&p, s, sizeof s - 1, &err), NN_ERR_FORMAT);
    cr_assert_str_eq(err.msg, "stop requested");
    cr_assert_eq(l.n, 2, "no event after the one that failed");
    chat_sse_free(&p);
}
