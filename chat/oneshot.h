/* oneshot.h: fer-chat for scripts -- one message, one emotion estimate,
 * one reply, reported as JSON.
 *
 * Frames are collected first (chat_capture_collect: a still gives one
 * frame, a video all its frames or a limit, a camera a time or frame
 * limit), then the message is rendered (chat/turn.h) and, if a server is
 * configured, sent; the reply is waited for whole.
 *
 * The report (chat_oneshot_json), one object:
 *   {"emotion": "happy" | ... | "unknown",
 *    "share": 0.62,                 dominant class's share of the sums (0 if unknown)
 *    "frames": 45,                  frames analysed
 *    "faces_seen": 41,              of those, frames in which the face was found
 *                                   (the frames summed)
 *    "sums": {"angry": 0.03, ..., "neutral": 4.1},
 *    "prompt_sent": "...",          the user message (sent, or that would be sent
 *                                   offline); null if it could not be made
 *    "reply": "..." | null,         null offline or on error
 *    "error": null | "..."}
 * Offline (no server) is not an error: reply and error are both null.
 */
#ifndef CHAT_ONESHOT_H
#define CHAT_ONESHOT_H

#include <signal.h>

#include "chat/capture.h"
#include "chat/history.h"
#include "chat/llm_client.h"
#include "chat/turn.h"
#include "nn/error.h"

typedef struct {
    const char *text;              /* the user's message */
    chat_capture *capture;         /* opened, no thread; NULL = no camera */
    long max_frames;               /* chat_capture_collect limits (0 = none) */
    double max_seconds;
    chat_turn_policy policy;
    chat_llm *llm;                 /* NULL = offline */
    int stream;                    /* ask for a streamed reply (same text either way) */
    volatile sig_atomic_t *cancel; /* Ctrl-C (may be NULL) */
} chat_oneshot_opts;

typedef struct {
    chat_capture_turn turn;
    char *prompt_sent;             /* malloc'd; NULL if rendering failed */
    char *reply;                   /* malloc'd; NULL offline or on failure */
    nn_status status;              /* NN_OK, or what went wrong */
    char error[512];               /* "" or the message */
    chat_llm_stats stats;          /* when a request was made */
} chat_oneshot_result;

/* Runs the whole thing into *r (zeroed first; release with
 * chat_oneshot_result_free). Returns r->status. A failure at any step
 * still leaves what was done before in *r, so a report can be printed. */
nn_status chat_oneshot_run(const chat_oneshot_opts *o, chat_oneshot_result *r);

/* The JSON report (see above), malloc'd, one line. NULL on NN_ERR_NOMEM. */
char *chat_oneshot_json(const chat_oneshot_result *r);

void chat_oneshot_result_free(chat_oneshot_result *r);

#endif
