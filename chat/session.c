#include "chat/session.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "chat/interrupt.h"
#include "chat/line_input.h"

/* ANSI styles, used only when colours are on. */
#define ST_RESET "\033[0m"
#define ST_BOLD "\033[1m"
#define ST_DIM "\033[2m"
#define ST_RED "\033[1;31m"
#define ST_YELLOW "\033[1;33m"
#define ST_CYAN "\033[1;36m"

typedef struct {
    const chat_session_opts *o;
    FILE *out;
    chat_line_input *in;         /* the prompt */
    int quit;
    int offline_help_shown;
    char *failed_text;           /* the last message that failed, for /retry */
    chat_capture_turn failed_turn;
    char *last_sent;             /* the last message sent (or shown offline) */
    int last_char;               /* last byte of the streamed reply */
    int labelled;                /* "assistant:" printed for this reply */
    int capture_note_shown;      /* the capture's end / error was reported */
    chat_capture_turn last_turn; /* what the last message's frames gave (/emotion) */
    int have_last_turn;
} session;

static const char *st(const session *s, const char *style) { return s->o->color ? style : ""; }

static void outf(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->out, fmt, ap);
    va_end(ap);
    fflush(s->out);
}

/* ---- what a turn's frames amount to ------------------------------------ */

void chat_session_format_turn(char *buf, size_t n, const chat_capture_turn *t, int color)
{
    const char *b = color ? ST_YELLOW : "", *d = color ? ST_DIM : "", *r = color ? ST_RESET : "";
    const chat_emotion_summary *s = &t->summary;
    if (!n) return;
    if (s->emotion == CHAT_EMOTION_UNKNOWN) {
        if (t->frames == 0)
            snprintf(buf, n, "%sface:%s no frames while you typed", d, r);
        else
            snprintf(buf, n, "%sface:%s none seen in %llu frame%s", d, r,
                     (unsigned long long)t->frames, t->frames == 1 ? "" : "s");
        return;
    }
    size_t len = 0;
    int k = snprintf(buf, n, "%sface:%s %s%s %.0f%%%s (%llu of %llu frames)  %s[", d, r, b,
                     chat_emotion_name(s->emotion), 100.0 * s->share, r,
                     (unsigned long long)s->frames, (unsigned long long)t->frames, d);
    for (int c = 0; c <= CHAT_N_EMOTIONS; c++) {
        if (k < 0 || (len += (size_t)k) >= n) return; /* truncated: snprintf terminated it */
        if (c == CHAT_N_EMOTIONS)
            k = snprintf(buf + len, n - len, "]%s", r);
        else
            k = snprintf(buf + len, n - len, "%s%s %.2f", c ? " " : "", chat_emotion_name(c),
                         s->sum[c]);
    }
}

/* ---- the prompt's callbacks ------------------------------------------------ */

static void on_line_start(void *user)
{
    session *s = user;
    if (s->o->capture) chat_capture_reset(s->o->capture);
}

static void on_first_key(void *user)
{
    session *s = user;
    if (s->o->capture) chat_capture_count(s->o->capture);
}

/* The live indicator: the running sums once the user types, before that
 * what the last frame showed (is the camera seeing me?). */
static void live_text(void *user, int typing, char *buf, size_t n)
{
    session *s = user;
    chat_capture *c = s->o->capture;
    if (!c) {
        snprintf(buf, n, "[no camera]");
        return;
    }
    chat_capture_state cs;
    chat_capture_get_state(c, &cs);
    if (cs.status) {
        snprintf(buf, n, "[camera error]");
        return;
    }
    if (typing) {
        chat_capture_turn t;
        chat_capture_peek(c, &t);
        if (t.summary.emotion != CHAT_EMOTION_UNKNOWN) {
            snprintf(buf, n, "[%s %.0f%%]", chat_emotion_name(t.summary.emotion),
                     100.0 * t.summary.share);
            return;
        }
    }
    if (cs.ended && !cs.running)
        snprintf(buf, n, "[source ended]");
    else if (cs.last_top != CHAT_EMOTION_UNKNOWN)
        snprintf(buf, n, "[%s]", chat_emotion_name(cs.last_top));
    else
        snprintf(buf, n, cs.last_faces < 0 ? "[...]" : "[no face]");
}

/* ---- one turn ------------------------------------------------------------ */

static int on_text(void *user, const char *text, size_t len)
{
    session *s = user;
    if (!len) return 0;
    if (!s->labelled) {
        /* Printed with the first text, so a request that fails before any
         * reply leaves no empty label behind. */
        fprintf(s->out, "%sassistant:%s ", st(s, ST_CYAN), st(s, ST_RESET));
        s->labelled = 1;
    }
    fwrite(text, 1, len, s->out);
    fflush(s->out);
    s->last_char = (unsigned char)text[len - 1];
    return 0;
}

static void note_capture(session *s)
{
    if (!s->o->capture || s->capture_note_shown) return;
    chat_capture_state cs;
    chat_capture_get_state(s->o->capture, &cs);
    if (cs.status) {
        outf(s, "%snote:%s the camera stopped: %s (messages now go without a face)\n",
             st(s, ST_RED), st(s, ST_RESET), cs.msg);
        s->capture_note_shown = 1;
    } else if (cs.ended && !cs.running) {
        outf(s, "%snote:%s %s ended after %llu frames (--loop replays a video)\n",
             st(s, ST_DIM), st(s, ST_RESET), chat_capture_source_info(s->o->capture)->name,
             (unsigned long long)cs.frames_read);
        s->capture_note_shown = 1;
    }
}

static void show_turn(session *s, const chat_capture_turn *t)
{
    if (!s->o->capture) return;
    char line[512];
    chat_session_format_turn(line, sizeof line, t, s->o->color);
    const char *how = "";
    if (t->summary.emotion == CHAT_EMOTION_UNKNOWN && s->o->policy.mode != CHAT_PROMPT_PLAIN)
        how = s->o->policy.no_face_plain ? " -- sent as plain text" : " -- the emotion is sent as unknown";
    outf(s, "%s%s\n", line, how);
    note_capture(s);
}

static void show_message(session *s, const char *label, const char *msg)
{
    outf(s, "%s%s%s\n%s%s%s\n", st(s, ST_DIM), label, st(s, ST_RESET), st(s, ST_DIM), msg,
         st(s, ST_RESET));
}

static void keep_failed(session *s, const char *text, const chat_capture_turn *t)
{
    if (s->failed_text != text) {
        free(s->failed_text);
        s->failed_text = strdup(text); /* NULL (no memory): /retry just says so */
    }
    s->failed_turn = *t;
}

/* Renders and sends one message; the reply streams to the terminal. */
static void send_turn(session *s, const char *text, const chat_capture_turn *t)
{
    const chat_session_opts *o = s->o;
    nn_error err;
    char *msg = NULL;
    if (chat_turn_render(&o->policy, o->capture ? &t->summary : NULL, text, &msg, &err)) {
        outf(s, "%serror:%s %s\n", st(s, ST_RED), st(s, ST_RESET), err.msg);
        return;
    }
    free(s->last_sent);
    s->last_sent = msg;
    if (!o->llm) {
        show_message(s, "offline -- this message would be sent:", msg);
        if (!s->offline_help_shown) {
            outf(s, "%s%s%s", st(s, ST_DIM), chat_llm_setup_help(), st(s, ST_RESET));
            s->offline_help_shown = 1;
        } else {
            outf(s, "%s(not sent: no server configured; /help says how)%s\n", st(s, ST_DIM),
                 st(s, ST_RESET));
        }
        outf(s, "\n");
        return;
    }
    if (o->show_prompt) show_message(s, "sent:", msg);
    s->labelled = 0;
    s->last_char = '\n';
    if (chat_interrupt_drain() & CHAT_SIG_TERM) { /* asked to end: do not start a request */
        s->quit = 1;
        return;
    }
    *o->cancel = 0;
    chat_line_echo(s->in, 0);
    chat_llm_stats stats;
    nn_status rc = chat_llm_turn(o->llm, o->history, msg, o->stream, on_text, s, &stats, &err);
    chat_line_echo(s->in, 1);
    *o->cancel = 0;
    if (chat_interrupt_drain() & CHAT_SIG_TERM) s->quit = 1;
    if (rc == NN_OK && !s->labelled) /* the model said nothing */
        outf(s, "%sassistant:%s %s(empty reply)%s\n", st(s, ST_CYAN), st(s, ST_RESET),
             st(s, ST_DIM), st(s, ST_RESET));
    else if (s->last_char != '\n')
        outf(s, "\n");
    if (rc == NN_OK) {
        if (!strcmp(stats.finish_reason, "length"))
            outf(s, "%s(the reply was cut at --max-tokens)%s\n", st(s, ST_DIM), st(s, ST_RESET));
        outf(s, "\n");
        free(s->failed_text);
        s->failed_text = NULL;
        return;
    }
    keep_failed(s, text, t);
    if (rc == NN_ERR_INTERRUPTED)
        outf(s, "%s[reply stopped]%s not kept in the conversation; /retry asks again\n\n",
             st(s, ST_YELLOW), st(s, ST_RESET));
    else
        outf(s, "%serror:%s %s\n%syour message is kept: /retry sends it again, Up recalls "
                "it%s\n\n", st(s, ST_RED), st(s, ST_RESET), err.msg, st(s, ST_DIM),
             st(s, ST_RESET));
}

/* ---- commands ------------------------------------------------------------ */

static void show_help(session *s)
{
    outf(s, "Type a message and press Enter; the camera's view of your face while you type\n"
            "goes with it. Commands:\n"
            "  /retry    send the last failed message again\n"
            "  /reset    forget the conversation (start over)\n"
            "  /emotion  the last message's emotion sums and what the camera sees\n"
            "  /last     the last message sent, exactly as sent\n"
            "  /quit     leave (also /exit or Ctrl-D)\n"
            "Ctrl-C stops a reply or clears the line. Start a message with // to send\n"
            "one beginning with /.\n");
    if (!s->o->llm) {
        /* The help's first line speaks of a prompt "above"; say it plainly. */
        const char *h = chat_llm_setup_help(), *nl = strchr(h, '\n');
        outf(s, "\nNo language model is configured (offline): messages are shown, not sent.\n%s",
             nl ? nl + 1 : h);
    }
}

static void show_emotion(session *s)
{
    if (!s->o->capture) {
        outf(s, "no camera (--source none): messages go without a face\n");
        return;
    }
    char line[512];
    if (s->have_last_turn) {
        chat_session_format_turn(line, sizeof line, &s->last_turn, s->o->color);
        outf(s, "last message: %s\n", line);
    } else {
        outf(s, "last message: none yet\n");
    }
    chat_capture_state cs;
    chat_capture_get_state(s->o->capture, &cs);
    const fer_source_info *si = chat_capture_source_info(s->o->capture);
    outf(s, "camera: %s, %llu frames read; last frame: ", si->name,
         (unsigned long long)cs.frames_read);
    if (cs.last_faces < 0)
        outf(s, "none yet");
    else if (cs.last_top == CHAT_EMOTION_UNKNOWN)
        outf(s, "%d face%s, not the one counted", cs.last_faces, cs.last_faces == 1 ? "" : "s");
    else
        outf(s, "%d face%s, %s", cs.last_faces, cs.last_faces == 1 ? "" : "s",
             chat_emotion_name(cs.last_top));
    if (cs.status)
        outf(s, "; stopped: %s", cs.msg);
    else if (cs.ended && !cs.running)
        outf(s, "; the source has ended");
    else if (cs.msg[0])
        outf(s, "; %s", cs.msg);
    outf(s, "\n");
}

static const char *const commands[] = {"quit", "exit", "q", "help", "?", "reset",
                                       "retry", "emotion", "last"};

/* Returns 1 if line was a command (handled), 0 if it is a message. */
static int command(session *s, const char *line)
{
    if (line[0] != '/' || line[1] == '/') return 0;
    const char *cmd = line + 1;
    size_t n = strcspn(cmd, " \t");
    const char *rest = cmd + n + strspn(cmd + n, " \t");
    const char *name = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (n == strlen(commands[i]) && strncmp(cmd, commands[i], n) == 0) name = commands[i];
    if (!name) {
        outf(s, "unknown command /%.*s (/help lists them; start a message with // to send "
                "text beginning with /)\n", (int)n, cmd);
        return 1;
    }
    if (*rest) {
        outf(s, "/%s takes no arguments\n", name);
        return 1;
    }
    if (!strcmp(name, "quit") || !strcmp(name, "exit") || !strcmp(name, "q")) {
        s->quit = 1;
    } else if (!strcmp(name, "help") || !strcmp(name, "?")) {
        show_help(s);
    } else if (!strcmp(name, "reset")) {
        size_t turns = chat_history_turns(s->o->history);
        chat_history_clear_turns(s->o->history);
        outf(s, "conversation cleared (%zu turn%s forgotten)\n", turns, turns == 1 ? "" : "s");
    } else if (!strcmp(name, "retry")) {
        if (!s->failed_text) {
            outf(s, "nothing to retry: the last message did not fail\n");
        } else {
            char *text = s->failed_text;
            chat_capture_turn ft = s->failed_turn;
            s->failed_text = NULL;
            outf(s, "%sre-sending:%s %s\n", st(s, ST_DIM), st(s, ST_RESET), text);
            show_turn(s, &ft);
            send_turn(s, text, &ft);
            free(text);
        }
    } else if (!strcmp(name, "emotion")) {
        show_emotion(s);
    } else { /* last */
        if (s->last_sent)
            show_message(s, "last message sent:", s->last_sent);
        else
            outf(s, "nothing sent yet\n");
    }
    return 1;
}

static void handle_line(session *s, char *line)
{
    chat_capture *c = s->o->capture;
    chat_capture_turn t;
    memset(&t, 0, sizeof t);
    t.summary.emotion = CHAT_EMOTION_UNKNOWN;
    const char *p = line + strspn(line, " \t");
    int is_message = *p && (p[0] != '/' || p[1] == '/');
    /* A message typed faster than one frame still gets the frame being
     * analysed (at most a frame time: 33 ms for a camera). */
    if (c && is_message) chat_capture_wait_frame(c, 500);
    if (c) chat_capture_take(c, &t);
    if (!*p) return; /* an empty line is not a message */
    chat_line_history_add(s->in, line);
    if (command(s, p)) return;
    const char *text = p[0] == '/' ? p + 1 : line; /* "//x" sends "/x" */
    s->last_turn = t;
    s->have_last_turn = 1;
    show_turn(s, &t);
    send_turn(s, text, &t);
}

/* ---- the loop -------------------------------------------------------------- */

static void banner(session *s)
{
    const chat_session_opts *o = s->o;
    const char *d = st(s, ST_DIM), *b = st(s, ST_BOLD), *r = st(s, ST_RESET);
    outf(s, "%sfer-chat%s", b, r);
    if (o->capture) {
        const fer_source_info *si = chat_capture_source_info(o->capture);
        outf(s, "  %smodel%s %s  %ssource%s %s %dx%d", d, r, o->model_path, d, r, si->name,
             si->width, si->height);
        if (si->fps > 0) outf(s, "@%.3g", si->fps);
    } else {
        outf(s, "  %ssource%s none", d, r);
    }
    if (o->llm)
        outf(s, "  %sllm%s %s at %s", d, r, o->llm_model, o->llm_base);
    else
        outf(s, "  %sllm%s offline", d, r);
    outf(s, "  %s/help%s\n", d, r);
}

nn_status chat_session_run(const chat_session_opts *o, nn_error *err_out)
{
    nn_error local, *err = err_out ? err_out : &local;
    session s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.out = o->out;
    nn_status rc = chat_history_set_system(o->history, chat_turn_system(&o->policy), err);
    if (rc) return rc;
    chat_line_opts lo = {.out = o->out, .color = o->color, .live = o->live, .user = &s,
                         .on_line_start = on_line_start, .on_first_key = on_first_key,
                         .live_text = live_text};
    if (!(s.in = chat_line_open(&lo, err))) return err->code;
    if ((rc = chat_interrupt_install(o->cancel, err))) goto done;
    if (o->capture && (rc = chat_capture_start(o->capture, err))) goto done;
    banner(&s);
    while (!s.quit) {
        char *line = NULL;
        /* A Ctrl-C pressed while the last reply was printed is spent. */
        if (chat_interrupt_drain() & CHAT_SIG_TERM) break;
        *o->cancel = 0;
        int got = chat_line_read(s.in, &line, err);
        if (got < 0) {
            rc = err->code;
            break;
        }
        if (got == 0) {
            if (chat_line_is_tty(s.in)) outf(&s, "\n");
            break;
        }
        handle_line(&s, line);
        free(line);
    }
done:
    chat_line_close(s.in);
    chat_interrupt_remove();
    free(s.failed_text);
    free(s.last_sent);
    return rc;
}
