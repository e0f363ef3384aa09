/* history.h: the conversation so far, as the Chat Completions API sees it.
 *
 * An optional system message first, then user and assistant messages in
 * order. The history owns a copy of every message text. A turn is appended
 * as a user/assistant pair in one call and only after the reply arrived, so
 * a failed or interrupted request never leaves half a turn behind and the
 * next request is exactly what the model saw before.
 *
 * The stored user message is the text actually sent (the emotion-augmented
 * prompt, or the plain text), so later turns carry the same context the
 * model answered.
 *
 * Not thread-safe: the chat loop owns it.
 */
#ifndef CHAT_HISTORY_H
#define CHAT_HISTORY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "nn/error.h"

typedef enum {
    CHAT_ROLE_SYSTEM,
    CHAT_ROLE_USER,
    CHAT_ROLE_ASSISTANT,
} chat_role;

/* "system", "user", "assistant" (static). */
const char *chat_role_name(chat_role role);

typedef struct {
    chat_role role;
    char *content; /* owned by the history */
} chat_message;

typedef struct {
    chat_message *msgs; /* msgs[0] is the system message when there is one */
    size_t n, cap;
    size_t max_turns;   /* 0 = unlimited; else oldest turns are dropped */
} chat_history;

/* Empty history, no turn limit. */
void chat_history_init(chat_history *h);

/* Frees every message; h is then empty (as after init, max_turns kept). */
void chat_history_free(chat_history *h);

/* Sets (copies), replaces, or with text == NULL removes the system message.
 * NN_ERR_NOMEM leaves h unchanged. */
nn_status chat_history_set_system(chat_history *h, const char *text, nn_error *err);

/* The system message text, or NULL if there is none. Owned by h. */
const char *chat_history_system(const chat_history *h);

/* Appends one completed turn: copies of user and assistant text, both or
 * neither (NN_ERR_NOMEM leaves h unchanged). Then, if max_turns is set,
 * drops the oldest user/assistant pairs beyond it (the system message stays)
 * so the request does not outgrow the model's context. */
nn_status chat_history_append_turn(chat_history *h, const char *user, const char *assistant,
                                   nn_error *err);

/* Number of completed turns (user/assistant pairs). */
size_t chat_history_turns(const chat_history *h);

/* Drops all turns, keeping the system message (a "new conversation"). */
void chat_history_clear_turns(chat_history *h);

/* Builds the API's "messages" array: every stored message in order, then,
 * if pending_user is not NULL, {"role":"user","content":pending_user}.
 * Returns a new cJSON array the caller frees with cJSON_Delete, or NULL with
 * err set (NN_ERR_NOMEM). h is not changed. */
cJSON *chat_history_to_json(const chat_history *h, const char *pending_user, nn_error *err);

#endif
