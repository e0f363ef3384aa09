/* bin/fer-chat as a person uses it: in a terminal (tmux), typing at the
 * prompt while a y4m video of a face plays as the camera, against a
 * loopback server. The screen must show the summed emotions, the dominant
 * emotion and the streamed reply; errors leave the session usable
 * (/retry), Ctrl-C stops a reply and clears a line, /quit exits 0.
 *
 * Each test runs its own tmux server on a private socket (-L, never the
 * user's), with no configuration but remain-on-exit (to read the exit
 * status), and always kills it at the end; a detached watchdog kills it
 * too if the test process dies first. Skipped when tmux is missing. */
#include <cjson/cJSON.h>
#include <stdarg.h>

#include "chat/emotion_sum.h"
#include "tests/chat_e2e_helpers.h"
#include "tests/chat_test_server.h"

/* One tmux server per test process (Criterion runs each test in its own). */
static struct {
    char sock[64];
    char dir[256];
    char conf[512];
    int up;
} tm;

static void tm_kill(void)
{
    if (!tm.up) return;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s kill-server >/dev/null 2>&1", tm.sock);
    int rc = system(cmd);
    (void)rc;
    tm.up = 0;
}

static void fini(void)
{
    tm_kill();
    if (tm.dir[0]) e2e_rmdir(tm.dir);
}

TestSuite(chat_tmux, .timeout = 60, .fini = fini);

static int tm_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int tm_run(const char *fmt, ...)
{
    char args[2048], cmd[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "tmux -L %s -f '%s' %s >/dev/null 2>&1", tm.sock, tm.conf, args);
    return system(cmd);
}

/* The screen as text, wrapped lines joined (-J). */
static void tm_screen(char *buf, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p -J -t fer 2>/dev/null", tm.sock);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t len = fread(buf, 1, n - 1, p);
    buf[len] = '\0';
    pclose(p);
}

/* A tmux format value of the pane, e.g. "#{pane_dead}". */
static void tm_format(const char *fmt, char *buf, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s display-message -p -t fer '%s' 2>/dev/null", tm.sock,
             fmt);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t len = fread(buf, 1, n - 1, p);
    buf[len] = '\0';
    pclose(p);
    buf[strcspn(buf, "\n")] = '\0';
}

static int count(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) k++;
    return k;
}

/* Polls the screen until it holds `needle` at least `times` times. */
static void tm_wait(const char *needle, int times, double seconds, char *screen, size_t n)
{
    double end = e2e_now() + seconds;
    for (;;) {
        tm_screen(screen, n);
        if (count(screen, needle) >= times) return;
        cr_assert(e2e_now() < end, "waited %.0f s for \"%s\" x%d; the screen:\n%s", seconds,
                  needle, times, screen);
        e2e_sleep_ms(100);
    }
}

/* Types text one key at a time, like a person (the capture counts frames
 * between the first key and Enter). */
static void tm_type(const char *text, int ms_per_key)
{
    for (const char *c = text; *c; c++) {
        char key[8];
        snprintf(key, sizeof key, "%c", *c);
        cr_assert_eq(tm_run("send-keys -t fer -l '%s'", key), 0);
        e2e_sleep_ms(ms_per_key);
    }
}

/* Starts fer-chat in a 120x40 tmux window with the given options (and the
 * key in its environment when not NULL); waits for the first prompt. */
static void tm_start(const char *opts, const char *key, char *screen, size_t n)
{
    if (system("tmux -V >/dev/null 2>&1") != 0) cr_skip("tmux is not installed");
    e2e_need_binary();
    snprintf(tm.sock, sizeof tm.sock, "fer-chat-test-%ld", (long)getpid());
    snprintf(tm.conf, sizeof tm.conf, "%s/tmux.conf", tm.dir);
    FILE *f = fopen(tm.conf, "w");
    cr_assert_not_null(f);
    fputs("set -g remain-on-exit on\n", f);
    cr_assert_eq(fclose(f), 0);
    char cwd[1024];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    char keyvar[128] = "";
    if (key) snprintf(keyvar, sizeof keyvar, "OPENAI_API_KEY=%s", key);
    /* env -u: the tmux server's environment is the test's, and the user's
     * key, base URL or proxy must not leak into the test. */
    int rc = tm_run("new-session -d -s fer -x 120 -y 40 -c '%s' \"env -u OPENAI_API_KEY "
                    "-u OPENAI_BASE_URL -u http_proxy -u HTTP_PROXY -u https_proxy "
                    "-u HTTPS_PROXY -u all_proxy -u ALL_PROXY -u NO_COLOR TERM=xterm-256color "
                    "%s %s/%s %s\"", cwd, keyvar, cwd, E2E_BIN, opts);
    cr_assert_eq(rc, 0, "tmux new-session failed");
    tm.up = 1;
    /* The watchdog: if this process dies before fini, the server (and the
     * looping video) still ends within two minutes; otherwise it notices
     * the server is gone within a second and ends too. */
    char dog[512];
    snprintf(dog, sizeof dog,
             "(n=0; while [ $n -lt 120 ] && tmux -L %s has-session 2>/dev/null; do sleep 1; "
             "n=$((n+1)); done; tmux -L %s kill-server) >/dev/null 2>&1 &", tm.sock, tm.sock);
    rc = system(dog);
    (void)rc;
    tm_wait("you>", 1, 15, screen, n);
}

/* Sends /quit and checks that the program exited with status 0. tmux
 * marks the pane dead when its terminal closes and learns the status when
 * it reaps the process on SIGCHLD; with libutempter (Debian's build) that
 * SIGCHLD can be swallowed while utempter's helper runs (tmux issue #311),
 * leaving the status unknown. Sending the server SIGCHLD again makes it
 * reap, which is the workaround tmux's author gave. */
static void tm_quit(void)
{
    char v[64] = "", sig[64] = "", dead[8] = "", spid[32] = "";
    tm_format("#{pid}", spid, sizeof spid);
    long server = strtol(spid, NULL, 10);
    cr_assert_gt(server, 1, "tmux server pid [%s]", spid);
    cr_assert_eq(tm_run("send-keys -t fer -l '/quit'"), 0);
    cr_assert_eq(tm_run("send-keys -t fer Enter"), 0);
    double end = e2e_now() + 10;
    while (e2e_now() < end) {
        tm_format("#{pane_dead_status}", v, sizeof v);
        tm_format("#{pane_dead_signal}", sig, sizeof sig);
        if (v[0] || sig[0]) break;
        tm_format("#{pane_dead}", dead, sizeof dead);
        if (!strcmp(dead, "1")) kill((pid_t)server, SIGCHLD);
        e2e_sleep_ms(50);
    }
    cr_assert(v[0] || sig[0], "fer-chat did not exit after /quit");
    cr_assert_str_eq(v, "0", "exit status [%s], signal [%s]", v, sig);
}

/* The emotion named on the screen's face line ("face: happy 91% (..."),
 * checked to carry all seven sums. */
static const char *screen_emotion(const char *screen)
{
    const char *face = strstr(screen, "face: ");
    cr_assert_not_null(face, "no face line on the screen:\n%s", screen);
    const char *line_end = strchr(face, '\n');
    for (int k = 0; k < CHAT_N_EMOTIONS; k++) {
        const char *name = chat_emotion_name(k);
        size_t len = strlen(name);
        char sum[32];
        snprintf(sum, sizeof sum, "%s%s ", k ? " " : "[", name);
        const char *at = strstr(face, sum);
        cr_assert(at && (!line_end || at < line_end), "sum of %s missing:\n%s", name, screen);
        if (!strncmp(face + 6, name, len) && face[6 + len] == ' ') {
            int pct = -1;
            unsigned long long of = 0, frames = 0;
            cr_assert_eq(sscanf(face + 7 + len, "%d%% (%llu of %llu frames)", &pct, &of, &frames),
                         3, "face line: %.100s", face);
            cr_assert(pct > 0 && pct <= 100 && of > 0 && of <= frames, "%.100s", face);
            return name;
        }
    }
    cr_assert_fail("no dominant emotion on the face line:\n%s", screen);
    return NULL;
}

/* ---- a normal turn -------------------------------------------------------- */

static const char reply_words[] = "You look cheerful today! Here is an idea for the afternoon.";

static void answer_stream(ts_server *s, int fd, int idx, const ts_request *r)
{
    char body[4096];
    size_t n = 0;
    const char *p = reply_words;
    while (*p) { /* one SSE event per word, so the reply arrives in pieces */
        size_t w = strcspn(p + 1, " ") + 1;
        n += (size_t)snprintf(body + n, sizeof body - n,
                              "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%.*s\"}}]}\n\n",
                              (int)w, p);
        p += w;
    }
    n += (size_t)snprintf(body + n, sizeof body - n,
                          "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"
                          "\n\ndata: [DONE]\n\n");
    if (ts_send_stream_head(fd)) return;
    if (ts_send_chunked_slowly(fd, body, n, 40, 20000)) return;
    ts_send_chunked_end(fd);
}

Test(chat_tmux, typing_while_the_camera_watches)
{
    e2e_tmpdir(tm.dir, sizeof tm.dir);
    char clip[512];
    e2e_make_clip(tm.dir, 10, clip, sizeof clip);
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_stream, NULL, 2, 45), 0, "%s", s.error);
    char opts[1024], screen[16384];
    snprintf(opts, sizeof opts, "--source '%s' --loop --base-url %s --model-name tmux-model", clip,
             s.base_url);
    tm_start(opts, "sk-tmux-key", screen, sizeof screen);
    cr_assert(strstr(screen, "fer-chat") && strstr(screen, "clip.y4m") &&
              strstr(screen, "tmux-model"), "banner: model, source and LLM:\n%s", screen);

    tm_type("How do I look today?", 40);
    cr_assert_eq(tm_run("send-keys -t fer Enter"), 0);
    tm_wait("afternoon.", 1, 20, screen, sizeof screen);
    tm_wait("you>", 2, 5, screen, sizeof screen);
    const char *emotion = screen_emotion(screen);
    const char *said = strstr(screen, "assistant: ");
    cr_assert(said && strstr(said, reply_words), "the streamed reply:\n%s", screen);
    cr_assert(strstr(screen, "face: ") < said, "the summary comes before the reply");
    tm_quit();
    ts_stop(&s);

    cr_assert_eq(s.n_requests, 1, "%s", s.error);
    char v[256];
    cr_assert(ts_header(&s.req[0], "Authorization", v, sizeof v));
    cr_assert_str_eq(v, "Bearer sk-tmux-key");
    cJSON *body = cJSON_Parse(s.req[0].body);
    cr_assert_not_null(body);
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(body, "messages");
    cJSON *user = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    const char *content = cJSON_GetObjectItemCaseSensitive(user, "content")->valuestring;
    char word[64];
    snprintf(word, sizeof word, "\"%s\"", emotion);
    cr_assert(strstr(content, word), "the prompt sent carries %s: %s", emotion, content);
    cr_assert(strstr(content, "How do I look today?"), "%s", content);
    cJSON_Delete(body);
    ts_free(&s);
}

/* ---- errors, /retry, Ctrl-C ---------------------------------------------- */

static void answer_error_then_slow(ts_server *s, int fd, int idx, const ts_request *r)
{
    if (idx == 0) {
        ts_send_response(fd, 500, "application/json", "",
                         "{\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}");
        return;
    }
    /* A long reply, one word every 50 ms: Ctrl-C comes long before the end. */
    if (ts_send_stream_head(fd)) return;
    char ev[256];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(ev, sizeof ev,
                         "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word%d \"}}]}\n\n", i);
        if (ts_send_chunked_slowly(fd, ev, (size_t)n, 512, 50000)) return;
        if (atomic_load(&s->stop)) return;
    }
    ts_send_chunked_slowly(fd, "data: [DONE]\n\n", 14, 512, 0);
    ts_send_chunked_end(fd);
}

Test(chat_tmux, error_retry_and_ctrl_c)
{
    e2e_tmpdir(tm.dir, sizeof tm.dir);
    char clip[512];
    e2e_make_clip(tm.dir, 10, clip, sizeof clip);
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_error_then_slow, NULL, 3, 45), 0, "%s", s.error);
    char opts[1024], screen[16384];
    snprintf(opts, sizeof opts, "--source '%s' --loop --base-url %s --retries 0", clip,
             s.base_url);
    tm_start(opts, NULL, screen, sizeof screen);

    tm_type("Why is the sky blue?", 30);
    cr_assert_eq(tm_run("send-keys -t fer Enter"), 0);
    tm_wait("/retry sends it again", 1, 15, screen, sizeof screen);
    cr_assert(strstr(screen, "error:") && strstr(screen, "500"), "%s", screen);
    tm_wait("you>", 2, 5, screen, sizeof screen);

    /* The failed message goes again; stop its reply half-way. */
    tm_type("/retry", 10);
    cr_assert_eq(tm_run("send-keys -t fer Enter"), 0);
    tm_wait("word3 ", 1, 15, screen, sizeof screen);
    cr_assert_eq(tm_run("send-keys -t fer C-c"), 0);
    tm_wait("[reply stopped]", 1, 10, screen, sizeof screen);
    cr_assert_null(strstr(screen, "word199"), "the reply went on after Ctrl-C");
    tm_wait("you>", 3, 5, screen, sizeof screen);

    /* Ctrl-C at the prompt abandons the line, as in a shell. */
    tm_type("never sent", 10);
    cr_assert_eq(tm_run("send-keys -t fer C-c"), 0);
    tm_wait("^C", 1, 5, screen, sizeof screen);
    tm_wait("you>", 4, 5, screen, sizeof screen);
    tm_quit();
    ts_stop(&s);

    cr_assert_eq(s.n_requests, 2, "the error, then the retry; nothing for the abandoned line");
    cJSON *a = cJSON_Parse(s.req[0].body), *b = cJSON_Parse(s.req[1].body);
    cr_assert(a && b);
    cJSON *ma = cJSON_GetObjectItemCaseSensitive(a, "messages");
    cJSON *mb = cJSON_GetObjectItemCaseSensitive(b, "messages");
    cr_assert_eq(cJSON_GetArraySize(ma), cJSON_GetArraySize(mb),
                 "the failed turn left nothing in the history");
    const char *ua = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ma, cJSON_GetArraySize(ma) - 1), "content")->valuestring;
    const char *ub = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(mb, cJSON_GetArraySize(mb) - 1), "content")->valuestring;
    cr_assert_str_eq(ua, ub, "/retry sends the same message, with the same emotion");
    cr_assert(strstr(ua, "Why is the sky blue?"), "%s", ua);
    cJSON_Delete(a);
    cJSON_Delete(b);
    ts_free(&s);
}

/* ---- offline, with the live indicator ---------------------------------------- */

Test(chat_tmux, offline_with_live_indicator)
{
    e2e_tmpdir(tm.dir, sizeof tm.dir);
    char clip[512];
    e2e_make_clip(tm.dir, 10, clip, sizeof clip);
    char opts[1024], screen[16384];
    snprintf(opts, sizeof opts, "--source '%s' --loop --live", clip);
    tm_start(opts, NULL, screen, sizeof screen);
    cr_assert(strstr(screen, "llm offline"), "%s", screen);
    /* Before typing, the indicator shows what the last frame saw. */
    tm_wait("] you>", 1, 10, screen, sizeof screen);
    tm_type("Good morning", 40);
    cr_assert_eq(tm_run("send-keys -t fer Enter"), 0);
    tm_wait("OPENAI_API_KEY", 1, 10, screen, sizeof screen);
    cr_assert(strstr(screen, "you> Good morning") || strstr(screen, "] you> Good morning"),
              "the typed line is intact on screen:\n%s", screen);
    cr_assert(strstr(screen, "this message would be sent"), "%s", screen);
    const char *emotion = screen_emotion(screen);
    const char *shown = strstr(screen, "would be sent");
    char word[64];
    snprintf(word, sizeof word, "\"%s\"", emotion);
    cr_assert(strstr(shown, word) && strstr(shown, "Good morning"),
              "the augmented prompt is shown:\n%s", screen);
    tm_quit();
}
