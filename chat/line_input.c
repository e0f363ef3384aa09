#include "chat/line_input.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <editline/readline.h>

#include "chat/interrupt.h"

#define ST_GREEN "\033[1;32m"
#define ST_DIM "\033[2m"
#define ST_RESET "\033[0m"

/* Longest line accepted from a pipe; longer ones are cut there. */
#define PLAIN_MAX_LINE ((size_t)1 << 20)

struct chat_line_input {
    chat_line_opts o;
    int tty;               /* standard input is a terminal: libedit */
    struct termios tio;    /* its settings at open (cooked) */
    int typing;            /* the first key of this line was seen */
    char live[64];         /* indicator in front of the prompt, "" if none */
    char *buf;             /* pipe mode: bytes read, not yet returned */
    size_t len, cap;
    int eof;
};

/* libedit's callback interface passes no context: the line callback leaves
 * its result here for chat_line_read (one reader at a time). */
static struct {
    int ready, eof;
    char *line;
} pending;

chat_line_input *chat_line_open(const chat_line_opts *o, nn_error *err)
{
    if (!o || !o->out || (o->live && !o->live_text)) {
        nn_fail(err, NN_ERR_ARG, "line input needs an output and, for --live, a text source");
        return NULL;
    }
    chat_line_input *li = calloc(1, sizeof *li);
    if (!li) {
        nn_fail(err, NN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    li->o = *o;
    li->tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &li->tio) == 0;
    if (!li->tty) {
        li->o.live = 0;
        return li;
    }
    /* Our SIGINT handler, not libedit's: libedit's would reset the terminal
     * and re-raise the signal to the whole process group. */
    rl_catch_signals = 0;
    rl_readline_name = "fer-chat";
    rl_instream = stdin;
    rl_outstream = o->out;
    rl_initialize();
    using_history();
    stifle_history(1000);
    return li;
}

int chat_line_is_tty(const chat_line_input *li) { return li->tty; }

void chat_line_history_add(chat_line_input *li, const char *line)
{
    if (li->tty && line && *line) add_history(line);
}

void chat_line_echo(chat_line_input *li, int on)
{
    if (!li->tty) return;
    struct termios t = li->tio;
    if (!on) t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

void chat_line_close(chat_line_input *li)
{
    if (!li) return;
    if (li->tty) tcsetattr(STDIN_FILENO, TCSANOW, &li->tio);
    free(li->buf);
    free(li);
}

static void line_start(chat_line_input *li)
{
    li->typing = 0;
    if (li->o.on_line_start) li->o.on_line_start(li->o.user);
}

static void first_key(chat_line_input *li)
{
    if (li->typing) return;
    li->typing = 1;
    if (li->o.on_first_key) li->o.on_first_key(li->o.user);
}

/* ---- the libedit prompt -------------------------------------------------- */

/* "you> ", the live indicator in front when on. \1..\2 mark the bytes
 * that take no room on screen. *visible is the width on screen. */
static void make_prompt(const chat_line_input *li, char *buf, size_t n, int *visible)
{
    const char *g = li->o.color ? "\1" ST_GREEN "\2" : "";
    const char *d = li->o.color ? "\1" ST_DIM "\2" : "";
    const char *r = li->o.color ? "\1" ST_RESET "\2" : "";
    if (li->live[0]) {
        snprintf(buf, n, "%s%s%s %syou>%s ", d, li->live, r, g, r);
        *visible = (int)strlen(li->live) + 6;
    } else {
        snprintf(buf, n, "%syou>%s ", g, r);
        *visible = 5;
    }
}

static void on_line(char *line)
{
    /* Removed here so the terminal stays cooked while the caller works;
     * the next read installs it again. */
    rl_callback_handler_remove();
    pending.ready = 1;
    pending.eof = line == NULL;
    pending.line = line;
}

static void install_prompt(chat_line_input *li)
{
    char p[192];
    int vis;
    if (li->o.live) li->o.live_text(li->o.user, li->typing, li->live, sizeof li->live);
    make_prompt(li, p, sizeof p, &vis);
    rl_callback_handler_install(p, on_line);
}

/* Redraws the prompt with new live text under the line being edited (see
 * the header for the one-column assumption). */
static void live_update(chat_line_input *li)
{
    char text[sizeof li->live];
    li->o.live_text(li->o.user, li->typing, text, sizeof text);
    if (strcmp(text, li->live) == 0) return;
    char p[192];
    int old_vis, vis;
    make_prompt(li, p, sizeof p, &old_vis);
    snprintf(li->live, sizeof li->live, "%s", text);
    int rows = 0, cols = 0;
    rl_get_screen_size(&rows, &cols);
    int point = 0; /* characters before the cursor (UTF-8 lead bytes) */
    for (int i = 0; i < rl_point && rl_line_buffer && rl_line_buffer[i]; i++)
        if (((unsigned char)rl_line_buffer[i] & 0xC0) != 0x80) point++;
    int up = cols > 0 ? (old_vis + point) / cols : 0;
    if (up > 0) fprintf(li->o.out, "\033[%dA", up);
    fputs("\r\033[J", li->o.out);
    fflush(li->o.out);
    make_prompt(li, p, sizeof p, &vis);
    rl_set_prompt(p);
    rl_forced_update_display();
}

static int read_tty(chat_line_input *li, char **line, nn_error *err)
{
    pending.ready = 0;
    line_start(li);
    install_prompt(li);
    for (;;) {
        struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {chat_interrupt_fd(), POLLIN, 0}};
        int r = poll(p, 2, li->o.live ? 250 : -1);
        if (r < 0) {
            if (errno == EINTR) continue;
            rl_callback_handler_remove();
            nn_fail(err, NN_ERR_IO, "poll: %s", strerror(errno));
            return -1;
        }
        if (p[1].revents & POLLIN) {
            unsigned sig = chat_interrupt_drain();
            if (sig & CHAT_SIG_TERM) {
                rl_callback_handler_remove();
                return 0;
            }
            if (sig & CHAT_SIG_WINCH) rl_resize_terminal();
            if (sig & CHAT_SIG_INT) {
                /* As shells do: abandon the line, start a fresh prompt. */
                rl_callback_handler_remove();
                fputs("^C\n", li->o.out);
                fflush(li->o.out);
                line_start(li);
                install_prompt(li);
                continue;
            }
        }
        if (p[0].revents & POLLIN) {
            first_key(li);
            rl_callback_read_char();
            if (pending.ready) {
                *line = pending.line;
                return pending.eof ? 0 : 1;
            }
        } else if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            rl_callback_handler_remove(); /* the terminal went away */
            return 0;
        }
        if (li->o.live) live_update(li);
    }
}

/* ---- a pipe --------------------------------------------------------------- */

/* Takes the first complete line out of li->buf (or, at the end of input,
 * what is left). Reading with read(2) rather than stdio keeps poll()
 * truthful: nothing waits unseen in a FILE buffer. */
static int take_line(chat_line_input *li, char **line)
{
    char *nl = memchr(li->buf, '\n', li->len);
    size_t n = nl ? (size_t)(nl - li->buf) : li->len;
    if (!nl && !li->eof && li->len < PLAIN_MAX_LINE) return 0;
    if (!nl && li->len == 0) return -1; /* end, nothing left */
    char *s = malloc(n + 1);
    if (!s) return -2;
    memcpy(s, li->buf, n);
    s[n] = '\0';
    if (n && s[n - 1] == '\r') s[n - 1] = '\0';
    size_t used = nl ? n + 1 : n;
    memmove(li->buf, li->buf + used, li->len - used);
    li->len -= used;
    *line = s;
    return 1;
}

static int read_plain(chat_line_input *li, char **line, nn_error *err)
{
    line_start(li);
    first_key(li); /* no keys to watch: frames count from one line to the next */
    for (;;) {
        int t = li->len || li->eof ? take_line(li, line) : 0;
        if (t == 1) return 1;
        if (t == -1) return 0;
        if (t == -2) {
            nn_fail(err, NN_ERR_NOMEM, "out of memory");
            return -1;
        }
        struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {chat_interrupt_fd(), POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            nn_fail(err, NN_ERR_IO, "poll: %s", strerror(errno));
            return -1;
        }
        if ((p[1].revents & POLLIN) && (chat_interrupt_drain() & (CHAT_SIG_INT | CHAT_SIG_TERM)))
            return 0;
        if (!p[0].revents) continue;
        if (li->cap - li->len < 4096) {
            size_t cap = li->cap ? li->cap * 2 : 8192;
            char *b = realloc(li->buf, cap);
            if (!b) {
                nn_fail(err, NN_ERR_NOMEM, "out of memory");
                return -1;
            }
            li->buf = b;
            li->cap = cap;
        }
        ssize_t k = read(STDIN_FILENO, li->buf + li->len, li->cap - li->len);
        if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k < 0) {
            nn_fail(err, NN_ERR_IO, "reading standard input: %s", strerror(errno));
            return -1;
        }
        if (k == 0) li->eof = 1;
        li->len += (size_t)k;
    }
}

int chat_line_read(chat_line_input *li, char **line, nn_error *err)
{
    *line = NULL;
    return li->tty ? read_tty(li, line, err) : read_plain(li, line, err);
}
