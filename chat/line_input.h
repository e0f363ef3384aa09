/* line_input.h: the user's lines for fer-chat -- from a libedit prompt
 * (editing, history) when standard input is a terminal, else plain lines
 * from a pipe -- with a hook on the first key of every line, which is when
 * the emotion count starts.
 *
 * How "the first key" is seen with libedit: the reader uses readline's
 * callback interface (rl_callback_handler_install + rl_callback_read_char)
 * and poll()s standard input itself, together with the signal pipe of
 * chat/interrupt.h. The first time standard input becomes readable after a
 * prompt is shown, on_first_key runs -- before libedit reads the key. This
 * avoids rl_getc_function and rl_event_hook, whose behaviour differs between
 * libedit releases. libedit 3.1 (2022) leaves its editor in cooked mode
 * after delivering a line, so the handler is removed in the line callback
 * and installed afresh for every prompt.
 *
 * Signals (chat/interrupt.h must be installed):
 *   Ctrl-C at the prompt  abandons the line as shells do ("^C", a fresh
 *                         prompt, on_line_start again); from a pipe it ends
 *                         the input
 *   SIGWINCH              libedit learns the new width
 *   SIGTERM, SIGHUP       end of input (the caller then ends cleanly)
 *
 * The live indicator (opts.live) is text drawn in front of "you>" and
 * redrawn every 250 ms when it changes, without disturbing the line being
 * typed. libedit's own redraw starts wherever the cursor is, so the reader
 * moves to the start of the edit area first; that assumes one column per
 * character, so very wide input (CJK, emoji) can leave a stale row until
 * the next redraw -- which is why it is off by default.
 *
 * libedit's readline interface is global: one reader at a time, used from
 * one thread. The reader writes only the prompt and its own "^C".
 */
#ifndef CHAT_LINE_INPUT_H
#define CHAT_LINE_INPUT_H

#include <stddef.h>
#include <stdio.h>

#include "nn/error.h"

typedef struct {
    FILE *out;     /* the terminal the prompt is drawn on */
    int color;     /* colour the prompt */
    int live;      /* show live_text in front of the prompt (terminals only) */
    void *user;    /* passed to the callbacks */
    /* A new line begins: a prompt is shown (or, from a pipe, a line is
     * awaited). May be NULL. */
    void (*on_line_start)(void *user);
    /* The line's first key arrived (from a pipe: right after
     * on_line_start). May be NULL. */
    void (*on_first_key)(void *user);
    /* The live indicator's text, e.g. "[happy 62%]"; typing says whether
     * the first key was seen. Needed when live is set. */
    void (*live_text)(void *user, int typing, char *buf, size_t n);
} chat_line_opts;

typedef struct chat_line_input chat_line_input;

/* Sets up the reader (libedit when standard input is a terminal: our
 * signal handling, not libedit's; ~/.editrc lines for "fer-chat" apply).
 * NULL with err set on NN_ERR_NOMEM or a bad option. */
chat_line_input *chat_line_open(const chat_line_opts *o, nn_error *err);

/* Reads one line: 1 with *line (malloc'd, without its newline; the caller
 * frees), 0 at the end of input (Ctrl-D, end of the pipe, the terminal
 * gone, SIGTERM/SIGHUP), -1 on an I/O error with err set. */
int chat_line_read(chat_line_input *li, char **line, nn_error *err);

/* 1 if lines come from the libedit prompt. */
int chat_line_is_tty(const chat_line_input *li);

/* Adds line to the editing history (Up arrow); nothing for a pipe. */
void chat_line_history_add(chat_line_input *li, const char *line);

/* Terminal echo off (0) while output streams, so keys typed ahead wait
 * unseen for the next prompt instead of landing inside the output; on (1)
 * after. Nothing for a pipe. */
void chat_line_echo(chat_line_input *li, int on);

/* Restores the terminal as it was at open and releases the reader. NULL
 * is fine. */
void chat_line_close(chat_line_input *li);

#endif
