#include "chat/turn.h"

const char *chat_turn_system(const chat_turn_policy *p)
{
    return chat_template_system(p->tpl, p->mode);
}

nn_status chat_turn_render(const chat_turn_policy *p, const chat_emotion_summary *s,
                           const char *text, char **out, nn_error *err)
{
    int unknown = !s || s->emotion == CHAT_EMOTION_UNKNOWN;
    chat_prompt_mode mode = unknown && p->no_face_plain ? CHAT_PROMPT_PLAIN : p->mode;
    return chat_template_render(p->tpl, mode, unknown ? NULL : s, text, out, err);
}
