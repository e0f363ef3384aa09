/* chat_e2e_helpers.h: what the fer-chat program tests share (header-only):
 * finding bin/fer-chat and the face photo, making a y4m clip of the face in
 * a private temporary folder, and running the program with a controlled
 * environment and a deadline.
 *
 * Tests run from the repository root (make test does), so the program is
 * bin/fer-chat there. The photo is astronaut.png from the shared data
 * folder: ../shared first (CI's layout), then /work/shared; tests skip
 * when neither has it.
 */
#ifndef CHAT_E2E_HELPERS_H
#define CHAT_E2E_HELPERS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vision/image_io.h"
#include "vision/y4m.h"

/* The program under test: $FER_BIN_DIR/fer-chat (make sanitize points it at
 * the sanitized build), else bin/fer-chat. */
static inline char *e2e_bin(void)
{
    static char path[512];
    const char *dir = getenv("FER_BIN_DIR");
    snprintf(path, sizeof path, "%s/fer-chat", dir && *dir ? dir : "bin");
    return path;
}
#define E2E_BIN e2e_bin()

static inline double e2e_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void e2e_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* The program must have been built (make builds it before make test). */
static inline void e2e_need_binary(void)
{
    cr_assert(access(E2E_BIN, X_OK) == 0,
              "%s is missing: run the tests from the repository root after make", E2E_BIN);
}

/* The emotion model fer-chat uses by default (results/model.bin, committed
 * with the repository); skips the test when it is absent. */
static inline void e2e_need_model(void)
{
    if (access("results/model.bin", R_OK) != 0)
        cr_skip("no emotion model at results/model.bin");
}

/* Path of the face photo, or skips the test. */
static inline const char *e2e_face_photo(void)
{
    static const char *const where[] = {"../shared/data/faces/astronaut.png",
                                        "/work/shared/data/faces/astronaut.png"};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
        if (access(where[i], R_OK) == 0) return where[i];
    cr_skip("astronaut.png not found in ../shared/data/faces or /work/shared/data/faces");
    return NULL;
}

/* A private temporary folder (removed by e2e_rmdir). */
static inline void e2e_tmpdir(char *dir, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, n, "%s/fer-chat-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* Removes the files the tests put in dir, then dir. */
static inline void e2e_rmdir(const char *dir)
{
    static const char *const names[] = {"clip.y4m", "out.txt", "err.txt", "tmux.conf"};
    char p[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Writes dir/clip.y4m: `frames` copies of the face photo at 10 frames per
 * second (what a webcam pointed at a still face would give). */
static inline void e2e_make_clip(const char *dir, int frames, char *path, size_t n)
{
    e2e_need_model(); /* a clip is only made to be analysed */
    const char *photo = e2e_face_photo();
    nn_error err;
    fer_image im = {0};
    cr_assert_eq(fer_image_read(photo, 3, &im, &err), NN_OK, "%s", err.msg);
    snprintf(path, n, "%s/clip.y4m", dir);
    fer_y4m_writer *w = NULL;
    cr_assert_eq(fer_y4m_writer_open(&w, path, im.width, im.height, 10, 1, FER_Y4M_W420, &err),
                 NN_OK, "%s", err.msg);
    for (int i = 0; i < frames; i++)
        cr_assert_eq(fer_y4m_write(w, &im, NULL, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_y4m_writer_close(w, &err), NN_OK, "%s", err.msg);
    fer_image_free(&im);
}

/* Environment variables the program reads that must come only from the
 * test: the key, the base URL, proxies (they would take loopback requests
 * elsewhere), NO_COLOR. */
static const char *const e2e_env_drop[] = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "http_proxy",
                                           "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                           "all_proxy", "ALL_PROXY", "NO_COLOR"};

static inline void e2e_clean_env(void)
{
    for (size_t i = 0; i < sizeof e2e_env_drop / sizeof e2e_env_drop[0]; i++)
        unsetenv(e2e_env_drop[i]);
}

/* A copy of the environment without e2e_env_drop, plus `extra` (a
 * "NAME=value" string or NULL). Built before fork: the child of a process
 * with threads (the test server) may only call async-signal-safe functions,
 * so it cannot edit its environment itself. Free with free(). */
static inline char **e2e_env(const char *extra)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 2, sizeof *env);
    cr_assert_not_null(env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int drop = 0;
        for (size_t j = 0; j < sizeof e2e_env_drop / sizeof e2e_env_drop[0]; j++) {
            size_t len = strlen(e2e_env_drop[j]);
            if (strncmp(environ[i], e2e_env_drop[j], len) == 0 && environ[i][len] == '=') drop = 1;
        }
        if (!drop) env[k++] = environ[i];
    }
    if (extra) env[k++] = (char *)extra;
    env[k] = NULL;
    return env;
}

typedef struct {
    int status;      /* exit status, or 128 + signal */
    char out[65536]; /* standard output (truncated to fit) */
    char err[16384]; /* standard error */
} e2e_result;

/* Drains fd into buf (NUL-terminated, excess dropped); returns 0 at EOF. */
static inline int e2e_drain(int fd, char *buf, size_t cap, size_t *len)
{
    char tmp[4096];
    ssize_t k = read(fd, tmp, sizeof tmp);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
    if (k <= 0) return 0;
    size_t take = (size_t)k < cap - 1 - *len ? (size_t)k : cap - 1 - *len;
    memcpy(buf + *len, tmp, take);
    *len += take;
    buf[*len] = '\0';
    return 1;
}

/* Runs bin/fer-chat with argv (NULL-terminated, argv[0] included), the
 * environment cleaned (e2e_clean_env) plus `key` as OPENAI_API_KEY when
 * not NULL, stdin_text on standard input ("" = empty), and a deadline:
 * past it the program is killed and the test fails. */
static inline void e2e_run(char *const argv[], const char *key, const char *stdin_text,
                           double deadline_s, e2e_result *r)
{
    memset(r, 0, sizeof *r);
    int in[2], out[2], errp[2];
    cr_assert(pipe(in) == 0 && pipe(out) == 0 && pipe(errp) == 0);
    char keyvar[256];
    if (key) snprintf(keyvar, sizeof keyvar, "OPENAI_API_KEY=%s", key);
    char **env = e2e_env(key ? keyvar : NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(errp[1], 2);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(errp[0]); close(errp[1]);
        execve(E2E_BIN, argv, env);
        _exit(127);
    }
    free(env);
    close(in[0]);
    close(out[1]);
    close(errp[1]);
    size_t n = strlen(stdin_text);
    ssize_t wr = n ? write(in[1], stdin_text, n) : 0; /* small: fits in the pipe */
    (void)wr;
    close(in[1]);
    size_t olen = 0, elen = 0;
    int open_out = 1, open_err = 1;
    double end = e2e_now() + deadline_s;
    while ((open_out || open_err) && e2e_now() < end) {
        struct pollfd p[2] = {{open_out ? out[0] : -1, POLLIN, 0}, {open_err ? errp[0] : -1, POLLIN, 0}};
        if (poll(p, 2, 50) <= 0) continue;
        if (p[0].revents) open_out = e2e_drain(out[0], r->out, sizeof r->out, &olen);
        if (p[1].revents) open_err = e2e_drain(errp[0], r->err, sizeof r->err, &elen);
    }
    int st = 0;
    pid_t done = 0;
    while (e2e_now() < end && (done = waitpid(pid, &st, WNOHANG)) == 0) e2e_sleep_ms(10);
    if (done != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        close(out[0]);
        close(errp[0]);
        cr_assert_fail("fer-chat did not finish within %.0f s; stdout: %s stderr: %s",
                       deadline_s, r->out, r->err);
    }
    close(out[0]);
    close(errp[0]);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
