#include "chat/oneshot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nn_status fail(chat_oneshot_result *r, const nn_error *err)
{
    r->status = err->code ? err->code : NN_ERR_ARG;
    snprintf(r->error, sizeof r->error, "%s", err->msg);
    return r->status;
}

nn_status chat_oneshot_run(const chat_oneshot_opts *o, chat_oneshot_result *r)
{
    memset(r, 0, sizeof *r);
    r->turn.summary.emotion = CHAT_EMOTION_UNKNOWN;
    nn_error err = {0};
    if (o->capture &&
        chat_capture_collect(o->capture, o->max_frames, o->max_seconds, o->cancel, &r->turn, &err))
        return fail(r, &err);
    if (chat_turn_render(&o->policy, o->capture ? &r->turn.summary : NULL, o->text,
                         &r->prompt_sent, &err))
        return fail(r, &err);
    if (!o->llm) return NN_OK;
    chat_history h;
    chat_history_init(&h);
    nn_status st = chat_history_set_system(&h, chat_turn_system(&o->policy), &err);
    if (!st) {
        if (o->cancel) *o->cancel = 0;
        st = chat_llm_complete(o->llm, &h, r->prompt_sent, o->stream, NULL, NULL, &r->reply,
                               &r->stats, &err);
    }
    chat_history_free(&h);
    return st ? fail(r, &err) : NN_OK;
}

/* Sums print with 4 decimals: enough to compare runs, short to read. */
static double round4(double x) { return round(x * 1e4) / 1e4; }

char *chat_oneshot_json(const chat_oneshot_result *r)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    const chat_emotion_summary *s = &r->turn.summary;
    cJSON *sums = cJSON_CreateObject();
    int ok = sums != NULL;
    ok = ok && cJSON_AddStringToObject(j, "emotion", chat_emotion_name(s->emotion));
    ok = ok && cJSON_AddNumberToObject(j, "share", round4(s->share));
    ok = ok && cJSON_AddNumberToObject(j, "frames", (double)r->turn.frames);
    ok = ok && cJSON_AddNumberToObject(j, "faces_seen", (double)s->frames);
    for (int k = 0; ok && k < CHAT_N_EMOTIONS; k++)
        ok = cJSON_AddNumberToObject(sums, chat_emotion_name(k), round4(s->sum[k])) != NULL;
    if (ok) {
        cJSON_AddItemToObject(j, "sums", sums);
        sums = NULL;
    }
    ok = ok && (r->prompt_sent ? cJSON_AddStringToObject(j, "prompt_sent", r->prompt_sent)
                               : cJSON_AddNullToObject(j, "prompt_sent"));
    ok = ok && (r->reply ? cJSON_AddStringToObject(j, "reply", r->reply)
                         : cJSON_AddNullToObject(j, "reply"));
    ok = ok && (r->status ? cJSON_AddStringToObject(j, "error", r->error)
                          : cJSON_AddNullToObject(j, "error"));
    char *out = ok ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(sums);
    cJSON_Delete(j);
    return out;
}

void chat_oneshot_result_free(chat_oneshot_result *r)
{
    free(r->prompt_sent);
    free(r->reply);
    r->prompt_sent = r->reply = NULL;
}
