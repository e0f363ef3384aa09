/* capture.h: the camera side of fer-chat -- read frames, find the faces,
 * classify the chosen one, and sum its emotion probabilities over the
 * frames that arrive while the user types (chat/emotion_sum.h: the paper's
 * heuristic, emotion = argmax of the summed probabilities).
 *
 * Two ways to drive it:
 *   - interactive: chat_capture_start runs a capture thread that reads
 *     frames all the time (so a camera's queue never goes stale) and
 *     analyses every one between chat_capture_count (the user's first key)
 *     and chat_capture_take (Enter), adding them to the turn's sums. Between
 *     turns (while a reply streams, or before the first key) it analyses
 *     only two frames a second, for chat_capture_get_state, and counts none.
 *   - batch: chat_capture_collect reads on the calling thread until the
 *     source ends or a frame / time limit is reached, counting every frame.
 *
 * Which face counts: fer_face_analyze returns faces largest first;
 * opts.face_index picks one in that order (0 = the largest, the person in
 * front of the screen). A frame without that face adds nothing to the sums
 * but still counts as a frame analysed, so "faces seen / frames" says how
 * well the camera saw the user.
 *
 * Threading: every function below is called from one controlling thread
 * (the chat loop). The capture thread only reads the source and the
 * analyzer it owns; what the two threads share (the counting switch, the
 * counters, the sums, the state) sits behind one mutex, and
 * chat_capture_take stops counting and reads the sums in one locked step,
 * so once it returns no later frame can slip into the turn just taken.
 * The terminal's signals (SIGINT, SIGWINCH, SIGTERM, SIGHUP) are blocked in
 * the capture thread, so Ctrl-C always reaches the chat loop.
 */
#ifndef CHAT_CAPTURE_H
#define CHAT_CAPTURE_H

#include <signal.h>
#include <stdint.h>

#include "chat/emotion_sum.h"
#include "nn/error.h"
#include "vision/face_emotion.h"
#include "vision/source.h"

typedef struct {
    const char *source;       /* fer_source_open spec: "camera", "/dev/video1",
                                 a .png/.jpg, a .y4m, "-" (y4m on stdin) */
    const char *model_path;   /* the emotion model (export/model_file.h) */
    fer_face_opts face;       /* cascade, detector and crop options */
    fer_source_opts src;      /* pacing, still repetition, camera settings */
    int face_index;           /* which face counts, largest first; 0 = largest */
    int loop;                 /* a video file starts again at its end (capture
                                 thread only; a camera or "-" never loops) */
} chat_capture_opts;

/* Largest face, default detector (fer_face_opts_default), default source
 * options (grey only, no pacing, a still read once), no loop. */
void chat_capture_opts_default(chat_capture_opts *o);

/* What one turn's frames amount to. */
typedef struct {
    chat_emotion_summary summary; /* over the frames in which the chosen face was
                                     found; summary.frames is their number */
    uint64_t frames;              /* frames analysed while counting */
} chat_capture_turn;

/* Where the capture stands (for messages; a snapshot). */
typedef struct {
    int running;              /* the capture thread is reading */
    int ended;                /* the source reached its end (no loop) */
    nn_status status;         /* the error that stopped capture, NN_OK if none */
    char msg[512];            /* its message, "" if none */
    uint64_t frames_read;     /* since open, all turns */
    int last_faces;           /* faces in the last analysed frame, -1 before one */
    int last_top;             /* emotion of the chosen face in it, CHAT_EMOTION_UNKNOWN
                                 if there was none */
} chat_capture_state;

typedef struct chat_capture chat_capture;

/* Opens the source and loads the model and cascade on the calling thread.
 * The model must classify FER2013's seven emotions in their order (angry,
 * disgust, fear, happy, sad, surprise, neutral); any other class list is
 * NN_ERR_UNSUPPORTED naming the file. Returns NULL with err set (the
 * source's or the model's own message: file, device, what went wrong). */
chat_capture *chat_capture_open(const chat_capture_opts *o, nn_error *err);

/* Stops and joins the capture thread if it runs, then releases everything.
 * NULL is fine. */
void chat_capture_close(chat_capture *c);

/* The source's size, rate and name (valid until close; after a loop the
 * reopened source has the same description). */
const fer_source_info *chat_capture_source_info(const chat_capture *c);

/* The loaded emotion model. */
const fer_model_file *chat_capture_model(const chat_capture *c);

/* ---- interactive: the capture thread ---------------------------------- */

/* Starts the capture thread; nothing is counted until chat_capture_count.
 * NN_ERR_ARG if it already ran or the source is standard input (the
 * keyboard needs it); NN_ERR_UNSUPPORTED if the thread cannot be made. */
nn_status chat_capture_start(chat_capture *c, nn_error *err);

/* Zeroes the turn and stops counting (a new prompt is shown). */
void chat_capture_reset(chat_capture *c);

/* Starts counting frames into the turn (the user's first key). Frames whose
 * analysis ends after this call count. Idempotent. */
void chat_capture_count(chat_capture *c);

/* Waits until the turn has at least one frame, counting stops, the capture
 * thread stops, or timeout_ms passes; returns at once when not counting.
 * Called on Enter, so a message typed or pasted faster than one frame
 * still gets the frame being analysed. */
void chat_capture_wait_frame(chat_capture *c, long timeout_ms);

/* Stops counting, returns the turn so far and zeroes it, in one step. */
void chat_capture_take(chat_capture *c, chat_capture_turn *out);

/* The turn so far, leaving it as it is (for a live display). */
void chat_capture_peek(chat_capture *c, chat_capture_turn *out);

/* A snapshot of the state (thread running, end, error, last frame). */
void chat_capture_get_state(chat_capture *c, chat_capture_state *st);

/* ---- batch: on the calling thread --------------------------------------- */

/* Reads and analyses frames, counting all of them, until the source ends,
 * max_frames frames have been analysed (> 0; 0 = no limit), a frame's time
 * stamp reaches max_seconds (> 0; media time for files, the capture clock
 * for a camera; 0 = no limit), or *cancel becomes nonzero (cancel may be
 * NULL; NN_ERR_INTERRUPTED). A still image gives one frame and ends. With
 * no limit at all a camera would never end: NN_ERR_ARG. Not with a running
 * capture thread (NN_ERR_ARG). On success *out holds the turn; on failure
 * *out holds what was counted before the error. */
nn_status chat_capture_collect(chat_capture *c, long max_frames, double max_seconds,
                               volatile sig_atomic_t *cancel, chat_capture_turn *out,
                               nn_error *err);

#endif
