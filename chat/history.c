#include "chat/history.h"

#include <stdlib.h>
#include <string.h>

const char *chat_role_name(chat_role role)
{
    switch (role) {
    case CHAT_ROLE_SYSTEM: return "system";
    case CHAT_ROLE_USER: return "user";
    case CHAT_ROLE_ASSISTANT: return "assistant";
    }
    return "user";
}

void chat_history_init(chat_history *h)
{
    memset(h, 0, sizeof *h);
}

void chat_history_free(chat_history *h)
{
    for (size_t i = 0; i < h->n; i++) free(h->msgs[i].content);
    free(h->msgs);
    size_t max_turns = h->max_turns;
    memset(h, 0, sizeof *h);
    h->max_turns = max_turns;
}

static int has_system(const chat_history *h)
{
    return h->n > 0 && h->msgs[0].role == CHAT_ROLE_SYSTEM;
}

static nn_status reserve(chat_history *h, size_t need, nn_error *err)
{
    if (need <= h->cap) return NN_OK;
    size_t cap = h->cap ? h->cap * 2 : 8;
    while (cap < need) cap *= 2;
    chat_message *m = realloc(h->msgs, cap * sizeof *m);
    if (!m) return nn_fail(err, NN_ERR_NOMEM, "chat history: out of memory (%zu messages)", cap);
    h->msgs = m;
    h->cap = cap;
    return NN_OK;
}

static char *dup_text(const char *s, nn_error *err)
{
    char *d = strdup(s);
    if (!d) nn_fail(err, NN_ERR_NOMEM, "chat history: out of memory (%zu bytes)", strlen(s) + 1);
    return d;
}

const char *chat_history_system(const chat_history *h)
{
    return has_system(h) ? h->msgs[0].content : NULL;
}

nn_status chat_history_set_system(chat_history *h, const char *text, nn_error *err)
{
    if (!text) {
        if (has_system(h)) {
            free(h->msgs[0].content);
            memmove(h->msgs, h->msgs + 1, (h->n - 1) * sizeof *h->msgs);
            h->n--;
        }
        return NN_OK;
    }
    char *copy = dup_text(text, err);
    if (!copy) return NN_ERR_NOMEM;
    if (has_system(h)) {
        free(h->msgs[0].content);
        h->msgs[0].content = copy;
        return NN_OK;
    }
    if (reserve(h, h->n + 1, err)) {
        free(copy);
        return NN_ERR_NOMEM;
    }
    memmove(h->msgs + 1, h->msgs, h->n * sizeof *h->msgs);
    h->msgs[0] = (chat_message){CHAT_ROLE_SYSTEM, copy};
    h->n++;
    return NN_OK;
}

size_t chat_history_turns(const chat_history *h)
{
    return (h->n - (size_t)has_system(h)) / 2;
}

static void drop_oldest_turns(chat_history *h, size_t k)
{
    size_t first = (size_t)has_system(h);
    for (size_t i = first; i < first + 2 * k; i++) free(h->msgs[i].content);
    memmove(h->msgs + first, h->msgs + first + 2 * k,
            (h->n - first - 2 * k) * sizeof *h->msgs);
    h->n -= 2 * k;
}

nn_status chat_history_append_turn(chat_history *h, const char *user, const char *assistant,
                                   nn_error *err)
{
    if (!user || !assistant)
        return nn_fail(err, NN_ERR_ARG, "chat history: a turn needs both user and assistant text");
    if (reserve(h, h->n + 2, err)) return NN_ERR_NOMEM;
    char *u = dup_text(user, err);
    if (!u) return NN_ERR_NOMEM;
    char *a = dup_text(assistant, err);
    if (!a) {
        free(u);
        return NN_ERR_NOMEM;
    }
    h->msgs[h->n++] = (chat_message){CHAT_ROLE_USER, u};
    h->msgs[h->n++] = (chat_message){CHAT_ROLE_ASSISTANT, a};
    size_t turns = chat_history_turns(h);
    if (h->max_turns && turns > h->max_turns) drop_oldest_turns(h, turns - h->max_turns);
    return NN_OK;
}

void chat_history_clear_turns(chat_history *h)
{
    drop_oldest_turns(h, chat_history_turns(h));
}

static int add_message(cJSON *arr, const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    if (!m) return -1;
    if (!cJSON_AddStringToObject(m, "role", role) ||
        !cJSON_AddStringToObject(m, "content", content) ||
        !cJSON_AddItemToArray(arr, m)) {
        cJSON_Delete(m);
        return -1;
    }
    return 0;
}

cJSON *chat_history_to_json(const chat_history *h, const char *pending_user, nn_error *err)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) goto nomem;
    for (size_t i = 0; i < h->n; i++)
        if (add_message(arr, chat_role_name(h->msgs[i].role), h->msgs[i].content)) goto nomem;
    if (pending_user && add_message(arr, "user", pending_user)) goto nomem;
    return arr;
nomem:
    cJSON_Delete(arr);
    nn_fail(err, NN_ERR_NOMEM, "chat history: out of memory building the messages array");
    return NULL;
}
