/* session.h: fer-chat's interactive loop -- the terminal side of the chat.
 *
 * Each turn: the user types at a line-editing prompt (libedit, history
 * across turns); the capture thread's frames are counted from the first
 * key until Enter (chat/capture.h); on Enter the turn's emotion summary is
 * shown (dominant emotion, its share, frames, all seven sums), the message
 * is rendered (chat/turn.h) and sent, and the reply is printed as it
 * streams in. Without a server (llm NULL) the message that would be sent is
 * shown with how to configure one.
 *
 * Lines come from chat/line_input.h (libedit, or plain lines from a pipe),
 * whose first-key hook starts the count; it explains how that works with
 * libedit.
 *
 * While a reply streams, terminal echo is off (keys typed ahead appear at
 * the next prompt instead of inside the reply) and Ctrl-C sets the client's
 * cancel flag: the reply stops, the session goes on, and /retry sends the
 * message again. A failed request (HTTP error, network, malformed reply)
 * prints its message; the message is kept for /retry and is in the line
 * history (Up arrow).
 *
 * Commands: /help, /quit (or /exit, Ctrl-D), /reset (forget the
 * conversation), /retry (send the last failed message again), /emotion
 * (the last message's sums and what the camera sees now), /last (the last
 * message sent).
 * A message that must start with '/' is typed with two ("//etc" sends
 * "/etc").
 *
 * SIGTERM or SIGHUP end the session cleanly (a reply in progress stops,
 * the terminal is restored). When standard input is not a terminal, lines
 * are read plainly (no editing, no prompt) and frames count from one line
 * to the next.
 *
 * One session runs at a time (libedit's readline interface and the signal
 * handlers are process-wide). The session writes to o->out only (it is the program's terminal UI) and
 * never exits the process.
 */
#ifndef CHAT_SESSION_H
#define CHAT_SESSION_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "chat/capture.h"
#include "chat/history.h"
#include "chat/llm_client.h"
#include "chat/turn.h"
#include "nn/error.h"

typedef struct {
    FILE *out;                     /* the terminal (stdout) */
    int color;                     /* ANSI colours: the caller decides (a terminal,
                                      NO_COLOR unset) */
    int live;                      /* show the running emotion in the prompt
                                      (terminals only; see chat/line_input.h) */
    int stream;                    /* stream replies as they arrive */
    int show_prompt;               /* print the message sent on every turn */
    chat_turn_policy policy;       /* template and mode */
    chat_capture *capture;         /* opened, not started; NULL = no camera */
    chat_llm *llm;                 /* NULL = offline */
    const char *llm_base;          /* for the banner: base URL and model name */
    const char *llm_model;
    const char *model_path;        /* emotion model, for the banner */
    chat_history *history;         /* the conversation; its system message is set
                                      from the policy */
    volatile sig_atomic_t *cancel; /* the flag the llm was configured with */
} chat_session_opts;

/* Runs the chat until /quit, Ctrl-D or the end of standard input. Starts
 * the capture thread (and leaves it to chat_capture_close). Returns NN_OK,
 * or an error that made the loop impossible (signals, capture thread),
 * with err set. */
nn_status chat_session_run(const chat_session_opts *o, nn_error *err);

/* One line describing a turn's frames, e.g.
 *   "face: happy 62% (41 of 45 frames)  [angry 0.03 disgust 0.00 ... neutral 4.10]"
 *   "face: none seen in 45 frames"
 *   "face: no frames while you typed"
 * with ANSI colours when color is set. Always NUL-terminates (truncates to
 * n bytes). */
void chat_session_format_turn(char *buf, size_t n, const chat_capture_turn *t, int color);

#endif
