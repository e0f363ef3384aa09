/* prompt.h: the prompt template that tells the language model how the user
 * appears to feel (the paper's "augmented prompt", its Fig. 7).
 *
 * File format (UTF-8 text; LF or CRLF line ends):
 *
 *   free text up to the first section line is a description, never sent
 *   [system]      optional; the conversation's system message
 *   ...
 *   [emotion]     required; the user message when a face was seen
 *   ...
 *   [unknown]     required; the user message when no face was seen
 *   ...
 *
 * A section line is exactly "[name]" at the start of a line (trailing blanks
 * allowed), name being system, emotion or unknown; any other "[word]" line,
 * a repeated section, or a missing required one is an error. Blank lines
 * around a section's text are trimmed; lines inside are kept as written.
 *
 * Placeholders, replaced when a message is rendered:
 *   {emotion}  the dominant class's label: angry, disgust, fear, happy, sad,
 *              surprise, neutral (chat_emotion_name)
 *   {feeling}  the same as an adjective: angry, disgusted, afraid, happy,
 *              sad, surprised, neutral (chat_emotion_adjective)
 *   {share}    the dominant class's share of the summed probabilities as a
 *              whole percentage, e.g. "64%"
 *   {frames}   number of frames summed, e.g. "37"
 *   {text}     the user's message, verbatim
 *   {{ and }}  literal '{' and '}'
 * [emotion] may use all of them and must use {text}; [unknown] may use only
 * {text} and must use it (no face, so nothing about an emotion can be said);
 * [system] may use none, since it is sent once while the emotion changes
 * every turn. An unknown placeholder, a '{' or '}' not part of one of the
 * above, or a placeholder not allowed in its section is an error naming the
 * file, the line and the problem, reported when the template is loaded --
 * never half-way through a conversation.
 *
 * The built-in default (chat_template_default) is written for this project
 * in the spirit of the paper's Fig. 7: it tells the model the person's
 * apparent feeling, asks it to acknowledge it, guess at its cause from the
 * question, and answer in a tone that fits. chat/templates/default.txt is a
 * byte-identical copy for users to start from (tests/test_chat_prompt.c
 * keeps the two in step); the C string in prompt.c is the one the program
 * uses, so the binary never depends on finding a data file.
 *
 * Plain mode (CHAT_PROMPT_PLAIN) is the paper's baseline: no system message
 * and the user's text sent as typed, whatever the camera saw.
 */
#ifndef CHAT_PROMPT_H
#define CHAT_PROMPT_H

#include <stddef.h>

#include "chat/emotion_sum.h"
#include "nn/error.h"

typedef enum {
    CHAT_PROMPT_AUGMENTED, /* template sections, emotion placeholders filled */
    CHAT_PROMPT_PLAIN,     /* the user's text alone, no system message */
} chat_prompt_mode;

typedef struct {
    char *system;      /* NULL when the file has no (or an empty) [system] */
    char *emotion;     /* validated section texts, owned */
    char *unknown;
    char source[256];  /* file name (or "built-in template") for messages */
} chat_template;

/* The built-in default template's text (static, NUL-terminated). */
const char *chat_template_default_text(void);

/* Parses template text of len bytes; source names it in error messages
 * ("path:line: ..."). On success *t owns its sections; on failure *t is
 * empty (safe to free) and err says what and where. */
nn_status chat_template_parse(chat_template *t, const char *text, size_t len,
                              const char *source, nn_error *err);

/* Reads and parses a template file (at most 1 MiB). I/O errors name the
 * path and the errno text. */
nn_status chat_template_load(chat_template *t, const char *path, nn_error *err);

/* Parses the built-in default (cannot fail except NN_ERR_NOMEM). */
nn_status chat_template_default(chat_template *t, nn_error *err);

/* Releases the sections; t is then empty. */
void chat_template_free(chat_template *t);

/* The system message for a conversation in this mode: the template's
 * [system] text (owned by t), or NULL in plain mode or if there is none. */
const char *chat_template_system(const chat_template *t, chat_prompt_mode mode);

/* Renders the user message for one turn into *out (malloc'd, the caller
 * frees; text itself is only read, never kept). Augmented mode uses
 * [emotion] when s->emotion is a class and [unknown] when it is
 * CHAT_EMOTION_UNKNOWN (or s is NULL); plain mode returns a copy of text.
 * Fails only with NN_ERR_ARG (NULL text/out) or NN_ERR_NOMEM. */
nn_status chat_template_render(const chat_template *t, chat_prompt_mode mode,
                               const chat_emotion_summary *s, const char *text, char **out,
                               nn_error *err);

#endif
