/* turn.h: what fer-chat sends for one message, shared by the interactive
 * session and the one-shot (--prompt) mode so both say the same thing.
 *
 * The policy:
 *   augmented mode, face seen     the template's [emotion] text
 *   augmented mode, no face       the template's [unknown] text (the emotion
 *                                 is marked unknown, never guessed), or the
 *                                 plain text with no_face_plain
 *   plain mode (--plain)          the text as typed, no system message
 * The conversation's system message is the template's [system] text in
 * augmented mode (also with no_face_plain: it only says that estimates
 * come with the messages and how to treat an unknown one).
 */
#ifndef CHAT_TURN_H
#define CHAT_TURN_H

#include "chat/emotion_sum.h"
#include "chat/prompt.h"
#include "nn/error.h"

typedef struct {
    const chat_template *tpl; /* borrowed; must outlive the policy */
    chat_prompt_mode mode;
    int no_face_plain;        /* no face seen: send the plain text */
} chat_turn_policy;

/* The system message for the conversation, or NULL (owned by p->tpl). */
const char *chat_turn_system(const chat_turn_policy *p);

/* The user message for a turn whose frames gave s (NULL = no camera at
 * all, treated as no face): *out is malloc'd, the caller frees. Fails only
 * with NN_ERR_ARG or NN_ERR_NOMEM (chat_template_render). */
nn_status chat_turn_render(const chat_turn_policy *p, const chat_emotion_summary *s,
                           const char *text, char **out, nn_error *err);

#endif
