#include "chat/capture.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct chat_capture {
    chat_capture_opts opts;
    char *spec;                  /* owned copy of opts.source, for reopening */
    fer_source *src;             /* read by one thread at a time (see header) */
    fer_source_info info;        /* copied at open: stays valid across a loop */
    fer_face_analyzer *fa;
    fer_frame frame;
    fer_face faces[FER_MAX_FACES];

    pthread_t thread;
    int thread_started;
    atomic_int stop;

    /* Shared with the capture thread, under lock. The accumulator has its
     * own mutex too; taking `lock` first makes "stop counting, then read the
     * sums" one step, so no frame lands between the two. */
    pthread_mutex_t lock;
    int lock_ok;
    pthread_cond_t frame_done;   /* signalled after each frame and at the end */
    int cond_ok;
    chat_emotion_sum acc;
    int acc_ok;
    int counting;
    uint64_t frames;             /* analysed while counting, this turn */
    chat_capture_state state;
};

void chat_capture_opts_default(chat_capture_opts *o)
{
    memset(o, 0, sizeof *o);
    o->source = "camera";
    o->face = fer_face_opts_default();
}

static int is_stdin_spec(const char *spec) { return strcmp(spec, "-") == 0; }

/* FER2013's label order is the order of chat_emotion's classes; a model
 * trained on another class list would make the sums meaningless. */
static nn_status check_classes(const fer_model_file *m, const char *path, nn_error *err)
{
    int ok = m->n_classes == CHAT_N_EMOTIONS;
    for (int k = 0; ok && k < CHAT_N_EMOTIONS; k++)
        ok = strcmp(m->class_names[k], chat_emotion_name(k)) == 0;
    if (ok) return NN_OK;
    char got[256] = "";
    size_t len = 0;
    for (int k = 0; k < m->n_classes && len + 1 < sizeof got; k++)
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", k ? " " : "",
                                m->class_names[k]);
    return nn_fail(err, NN_ERR_UNSUPPORTED,
                   "%s: the model's classes are [%s]; fer-chat needs FER2013's seven in "
                   "order [angry disgust fear happy sad surprise neutral]", path, got);
}

chat_capture *chat_capture_open(const chat_capture_opts *o, nn_error *err)
{
    if (!o || !o->source || !o->model_path) {
        nn_fail(err, NN_ERR_ARG, "capture needs a source and a model path");
        return NULL;
    }
    if (o->face_index < 0 || o->face_index >= FER_MAX_FACES) {
        nn_fail(err, NN_ERR_ARG, "face index %d out of range 0..%d", o->face_index,
                FER_MAX_FACES - 1);
        return NULL;
    }
    chat_capture *c = calloc(1, sizeof *c);
    if (!c) {
        nn_fail(err, NN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->opts = *o;
    atomic_init(&c->stop, 0);
    c->state.last_faces = -1;
    c->state.last_top = CHAT_EMOTION_UNKNOWN;
    if (!(c->spec = strdup(o->source))) {
        nn_fail(err, NN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    c->opts.source = c->spec;
    if (pthread_mutex_init(&c->lock, NULL)) {
        nn_fail(err, NN_ERR_UNSUPPORTED, "cannot create a mutex");
        goto fail;
    }
    c->lock_ok = 1;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca)) {
        nn_fail(err, NN_ERR_UNSUPPORTED, "cannot create a condition variable");
        goto fail;
    }
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
             pthread_cond_init(&c->frame_done, &ca);
    pthread_condattr_destroy(&ca);
    if (rc) {
        nn_fail(err, NN_ERR_UNSUPPORTED, "cannot create a condition variable");
        goto fail;
    }
    c->cond_ok = 1;
    if (chat_emotion_sum_init(&c->acc, err)) goto fail;
    c->acc_ok = 1;
    /* The model first: it is the likelier mistake, and opening a camera
     * for nothing would switch its light on. */
    if (!(c->fa = fer_face_analyzer_new(o->model_path, &o->face, err))) goto fail;
    if (check_classes(fer_face_analyzer_model(c->fa), o->model_path, err)) goto fail;
    if (!(c->src = fer_source_open(c->spec, &c->opts.src, err))) goto fail;
    c->info = *fer_source_get_info(c->src);
    return c;
fail:
    chat_capture_close(c);
    return NULL;
}

static void stop_thread(chat_capture *c)
{
    if (!c->thread_started) return;
    atomic_store(&c->stop, 1);
    pthread_join(c->thread, NULL);
    c->thread_started = 0;
}

void chat_capture_close(chat_capture *c)
{
    if (!c) return;
    stop_thread(c);
    fer_source_close(c->src);
    fer_frame_free(&c->frame);
    fer_face_analyzer_free(c->fa);
    if (c->acc_ok) chat_emotion_sum_destroy(&c->acc);
    if (c->cond_ok) pthread_cond_destroy(&c->frame_done);
    if (c->lock_ok) pthread_mutex_destroy(&c->lock);
    free(c->spec);
    free(c);
}

const fer_source_info *chat_capture_source_info(const chat_capture *c) { return &c->info; }

const fer_model_file *chat_capture_model(const chat_capture *c)
{
    return fer_face_analyzer_model(c->fa);
}

/* Next frame into c->frame; with `loop`, a file that ends is opened again
 * (a camera or a pipe cannot be rewound, so they just end). */
static nn_status next_frame(chat_capture *c, int loop, nn_error *err)
{
    nn_status st = fer_source_read(c->src, &c->frame, err);
    if (st || !c->frame.end || !loop || c->info.kind == FER_SOURCE_CAMERA ||
        is_stdin_spec(c->spec))
        return st;
    fer_source *again = fer_source_open(c->spec, &c->opts.src, err);
    if (!again) return err ? err->code : NN_ERR_IO;
    fer_source_close(c->src);
    c->src = again;
    c->frame.end = 0;
    /* A file that is empty now ends here rather than reopening forever. */
    return fer_source_read(c->src, &c->frame, err);
}

/* Analyses c->frame and books it: always into the state, into the turn
 * only while counting. */
static nn_status analyse_and_record(chat_capture *c, int already_read, nn_error *err)
{
    int n = 0;
    nn_status st = fer_face_analyze(c->fa, &c->frame.grey, c->faces, FER_MAX_FACES, &n, err);
    if (st) return st;
    const fer_face *face = c->opts.face_index < n ? &c->faces[c->opts.face_index] : NULL;
    nn_error add_err;
    pthread_mutex_lock(&c->lock);
    if (!already_read) c->state.frames_read++;
    c->state.last_faces = n;
    c->state.last_top = face ? face->top : CHAT_EMOTION_UNKNOWN;
    if (c->counting) {
        c->frames++;
        /* A refused vector (NaN from a broken model) is not a face seen;
         * the message stays for the chat loop to show. */
        if (face && chat_emotion_sum_add(&c->acc, face->probs, &add_err) &&
            c->state.status == NN_OK)
            snprintf(c->state.msg, sizeof c->state.msg, "frame %ld: %s", c->frame.index,
                     add_err.msg);
    }
    pthread_cond_broadcast(&c->frame_done);
    pthread_mutex_unlock(&c->lock);
    return NN_OK;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Between turns nobody needs every frame: they are still read (a camera's
 * queue must not go stale), but analysed only this often, for the state
 * (last frame's face, the live indicator) -- a kiosk's CPU stays free. */
#define IDLE_ANALYSIS_S 0.5

static void *capture_main(void *arg)
{
    chat_capture *c = arg;
    nn_error err = {0};
    nn_status st = NN_OK;
    int ended = 0;
    double last_idle = -1e9;
    while (!atomic_load(&c->stop)) {
        if ((st = next_frame(c, c->opts.loop, &err))) break;
        if (c->frame.end) {
            ended = 1;
            break;
        }
        pthread_mutex_lock(&c->lock);
        int counting = c->counting;
        if (!counting) c->state.frames_read++;
        pthread_mutex_unlock(&c->lock);
        if (!counting) {
            double now = mono_now();
            if (now - last_idle < IDLE_ANALYSIS_S) continue;
            last_idle = now;
        }
        if ((st = analyse_and_record(c, !counting, &err))) break;
    }
    pthread_mutex_lock(&c->lock);
    c->state.running = 0;
    c->state.ended = ended;
    if (st) {
        c->state.status = st;
        snprintf(c->state.msg, sizeof c->state.msg, "%s", err.msg);
    }
    pthread_cond_broadcast(&c->frame_done);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

nn_status chat_capture_start(chat_capture *c, nn_error *err)
{
    if (!c || c->thread_started)
        return nn_fail(err, NN_ERR_ARG, "capture already started");
    if (is_stdin_spec(c->spec))
        return nn_fail(err, NN_ERR_ARG,
                       "the interactive chat reads the keyboard on standard input, so frames "
                       "cannot come from it too (--source -): give a file or a camera");
    /* Block the terminal's signals in the new thread (it inherits the
     * mask), so Ctrl-C and resizes always reach the chat loop. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGWINCH);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_mutex_lock(&c->lock);
    c->state.running = 1;
    pthread_mutex_unlock(&c->lock);
    int rc = pthread_create(&c->thread, NULL, capture_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        c->state.running = 0;
        return nn_fail(err, NN_ERR_UNSUPPORTED, "cannot start the capture thread: %s",
                       strerror(rc));
    }
    c->thread_started = 1;
    return NN_OK;
}

void chat_capture_reset(chat_capture *c)
{
    pthread_mutex_lock(&c->lock);
    c->counting = 0;
    c->frames = 0;
    chat_emotion_sum_reset(&c->acc);
    pthread_mutex_unlock(&c->lock);
}

void chat_capture_count(chat_capture *c)
{
    pthread_mutex_lock(&c->lock);
    c->counting = 1;
    pthread_mutex_unlock(&c->lock);
}

void chat_capture_wait_frame(chat_capture *c, long timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (c->counting && c->frames == 0 && c->state.running &&
           pthread_cond_timedwait(&c->frame_done, &c->lock, &until) == 0) {}
    pthread_mutex_unlock(&c->lock);
}

void chat_capture_take(chat_capture *c, chat_capture_turn *out)
{
    pthread_mutex_lock(&c->lock);
    c->counting = 0;
    chat_emotion_sum_take(&c->acc, &out->summary);
    out->frames = c->frames;
    c->frames = 0;
    pthread_mutex_unlock(&c->lock);
}

void chat_capture_peek(chat_capture *c, chat_capture_turn *out)
{
    pthread_mutex_lock(&c->lock);
    chat_emotion_sum_peek(&c->acc, &out->summary);
    out->frames = c->frames;
    pthread_mutex_unlock(&c->lock);
}

void chat_capture_get_state(chat_capture *c, chat_capture_state *st)
{
    pthread_mutex_lock(&c->lock);
    *st = c->state;
    pthread_mutex_unlock(&c->lock);
}

nn_status chat_capture_collect(chat_capture *c, long max_frames, double max_seconds,
                               volatile sig_atomic_t *cancel, chat_capture_turn *out,
                               nn_error *err)
{
    memset(out, 0, sizeof *out);
    out->summary.emotion = CHAT_EMOTION_UNKNOWN;
    if (!c || c->thread_started)
        return nn_fail(err, NN_ERR_ARG, "collect needs a capture without a running thread");
    int endless = c->info.kind == FER_SOURCE_CAMERA ||
                  (c->info.kind == FER_SOURCE_STILL && c->opts.src.still_repeat);
    if (endless && max_frames <= 0 && max_seconds <= 0)
        return nn_fail(err, NN_ERR_ARG,
                       "%s never ends by itself: give a frame count or a time limit",
                       c->info.name);
    chat_capture_reset(c);
    chat_capture_count(c);
    nn_status st = NN_OK;
    for (;;) {
        if (cancel && *cancel) {
            st = nn_fail(err, NN_ERR_INTERRUPTED, "interrupted while reading %s",
                         c->info.name);
            break;
        }
        if (max_frames > 0 && c->frames >= (uint64_t)max_frames) break;
        if ((st = next_frame(c, 0, err)) || c->frame.end) break;
        if (max_seconds > 0 && c->frame.t >= max_seconds) break;
        if ((st = analyse_and_record(c, 0, err))) break;
    }
    chat_capture_take(c, out);
    return st;
}
