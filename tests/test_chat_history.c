/* Conversation history: system message handling, whole turns only, the
 * turn limit, and the messages array it serialises to (round-tripped
 * through a JSON parser, so escaping is checked too). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "chat/history.h"

static void expect_messages(const chat_history *h, const char *pending, int n,
                            const char *const want[][2])
{
    nn_error err;
    cJSON *arr = chat_history_to_json(h, pending, &err);
    cr_assert_not_null(arr, "%s", err.msg);
    char *text = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    cJSON *back = cJSON_Parse(text); /* what the server will read */
    cr_assert_not_null(back, "not JSON: %s", text);
    cr_assert_eq(cJSON_GetArraySize(back), n, "%s", text);
    for (int i = 0; i < n; i++) {
        cJSON *m = cJSON_GetArrayItem(back, i);
        cr_assert_eq(cJSON_GetArraySize(m), 2, "only role and content: %s", text);
        cr_assert_str_eq(cJSON_GetObjectItem(m, "role")->valuestring, want[i][0]);
        cr_assert_str_eq(cJSON_GetObjectItem(m, "content")->valuestring, want[i][1]);
    }
    cJSON_Delete(back);
    free(text);
}

Test(chat_history, system_message_is_first_and_replaceable)
{
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    cr_assert_null(chat_history_system(&h));
    cr_assert_eq(chat_history_append_turn(&h, "q1", "a1", &err), NN_OK);
    cr_assert_eq(chat_history_set_system(&h, "first", &err), NN_OK);
    cr_assert_eq(chat_history_set_system(&h, "second", &err), NN_OK);
    cr_assert_str_eq(chat_history_system(&h), "second");
    const char *const want[][2] = {{"system", "second"}, {"user", "q1"}, {"assistant", "a1"},
                                   {"user", "now"}};
    expect_messages(&h, "now", 4, want);
    cr_assert_eq(chat_history_turns(&h), 1);
    cr_assert_eq(chat_history_set_system(&h, NULL, &err), NN_OK);
    cr_assert_null(chat_history_system(&h));
    const char *const want2[][2] = {{"user", "q1"}, {"assistant", "a1"}};
    expect_messages(&h, NULL, 2, want2);
    chat_history_free(&h);
}

Test(chat_history, content_is_escaped_and_round_trips)
{
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    const char *tricky = "quote \" backslash \\ newline\n tab\t unicode caf\xC3\xA9 \xF0\x9F\x99\x82 "
                         "control \x01 braces {text}";
    cr_assert_eq(chat_history_append_turn(&h, tricky, "ok", &err), NN_OK);
    const char *const want[][2] = {{"user", tricky}, {"assistant", "ok"}};
    expect_messages(&h, NULL, 2, want);
    chat_history_free(&h);
}

Test(chat_history, turn_limit_drops_oldest_turns_but_keeps_system)
{
    chat_history h;
    chat_history_init(&h);
    h.max_turns = 2;
    nn_error err;
    cr_assert_eq(chat_history_set_system(&h, "sys", &err), NN_OK);
    const char *q[] = {"q1", "q2", "q3", "q4"}, *a[] = {"a1", "a2", "a3", "a4"};
    for (int i = 0; i < 4; i++) cr_assert_eq(chat_history_append_turn(&h, q[i], a[i], &err), NN_OK);
    cr_assert_eq(chat_history_turns(&h), 2);
    const char *const want[][2] = {{"system", "sys"}, {"user", "q3"}, {"assistant", "a3"},
                                   {"user", "q4"}, {"assistant", "a4"}};
    expect_messages(&h, NULL, 5, want);
    chat_history_clear_turns(&h);
    cr_assert_eq(chat_history_turns(&h), 0);
    cr_assert_str_eq(chat_history_system(&h), "sys");
    chat_history_free(&h);
    cr_assert_eq(h.max_turns, 2, "the limit survives free");
    cr_assert_eq(h.n, 0);
}

Test(chat_history, history_owns_copies)
{
    chat_history h;
    chat_history_init(&h);
    nn_error err;
    char q[] = "question", a[] = "answer";
    cr_assert_eq(chat_history_append_turn(&h, q, a, &err), NN_OK);
    q[0] = 'X';
    a[0] = 'X';
    cr_assert_str_eq(h.msgs[0].content, "question");
    cr_assert_str_eq(h.msgs[1].content, "answer");
    cr_assert_eq(chat_history_append_turn(&h, "q", NULL, &err), NN_ERR_ARG);
    cr_assert_eq(h.n, 2, "a half turn is never stored");
    for (int i = 0; i < 100; i++) /* growth */
        cr_assert_eq(chat_history_append_turn(&h, "q", "a", &err), NN_OK);
    cr_assert_eq(chat_history_turns(&h), 101);
    chat_history_free(&h);
}
